/**
 * What the sweep concludes about one change it read from Zuora, from the subscription's ledger entry: whether a
 * successful sync provably read it, whether a sync still to come will, or neither. Plain functions: the sweep
 * (settle.ts) applies them, the tests state the rules through them.
 *
 * The commit-lag assumption: a change stamped UpdatedDate U is visible to every reader of Zuora by U + L
 * (SWEEP_COMMIT_LAG_SECONDS). Before that a sync may read Zuora without it, even one that started after U: a
 * callout for an earlier change can bring a sync that runs in that gap.
 */

export type ChangeCoverage =
  /** A successful sync provably read the change: nothing to do. */
  | 'covered'
  /** A message queued at or after the change is still to be served, by a sync that starts after the sweep read the change. */
  | 'pending'
  /** A message came at or after the change, but the sync that served it cannot be shown to have read it: queued again. */
  | 'unproven'
  /** Nothing was queued at or after the change: its callout never came. Queued, and counted for MissingCalloutsAlarm. */
  | 'missing';

/** What the sweep needs of a ledger entry, read after the slice was read. */
export interface CoverageFacts {
  /** When the newest successful sync started (the sync Lambda's clock). */
  readonly lastSuccessStartedAt?: number;
  /** The latest UpdatedDate a successful sync provably read (ledger-entry.ts). */
  readonly provenThrough?: number;
  /** The latest receivedAt of a message queued for the subscription (its producer's clock). */
  readonly lastQueuedAt?: number;
  /**
   * The start of a claimed sync whose answer is not recorded: in flight when the entry was read, or one that never
   * recorded its answer (its invocation died, or the record failed though Limio synced).
   */
  readonly unrecordedClaimStartedAt?: number;
}

export interface CoverageRules {
  /** L: how long after its UpdatedDate a change may take to become visible to every reader. */
  readonly commitLagMs: number;
  /** How far AWS clocks (the sweep's, the sync Lambda's, the callout Lambda's) may disagree. */
  readonly clockMarginMs: number;
}

/**
 * One change (U = `updatedMs`, undefined when Zuora's UpdatedDate could not be read) of a subscription the sweep
 * read at `sightedAtMs` (the end of the read that returned it), with `versionsInItsSecond` versions of the
 * subscription in U's second among the records read. Covered by one of three proofs:
 *   (a) the newest successful sync started after U + L (plus the clock margin: U is Zuora's clock);
 *   (b) provenThrough names U's very second, and the read returned one version of the subscription in that second:
 *       a successful sync served a message naming that version (UpdatedDate has whole seconds, so with two versions
 *       in one second it cannot say which; and a later change named proves nothing of an earlier one committed
 *       late). A version named but not returned by the read was committed after it, after the one read, so its
 *       sync read both. Or provenThrough >= U + L: the change named was stamped once U was committed;
 *   (c) the newest successful sync started after the sighting: U was visible to the sweep's read, so to it.
 * Otherwise pending when a message queued at or after U has not been served by a success since (no success
 * started after it was queued, allowing for clocks) and no claimed sync that began between its queueing and the
 * sighting is unrecorded (in flight, or its record lost): the sync to come starts after the sighting, so by (c) it
 * reads U; should it fail for good, its message is on the DLQ with its reason. Otherwise unproven when something
 * was queued at or after U, missing when not.
 */
export function classifyChange(
  updatedMs: number | undefined,
  facts: CoverageFacts | undefined,
  sightedAtMs: number,
  rules: CoverageRules,
  versionsInItsSecond = 1,
): ChangeCoverage {
  const success = facts?.lastSuccessStartedAt;
  if (updatedMs !== undefined) {
    // The sync's start is by an AWS clock, U by Zuora's: the margin keeps a skew from passing for the lag.
    if (success !== undefined && success > updatedMs + rules.commitLagMs + rules.clockMarginMs) return 'covered';
    const second = (ms: number) => Math.floor(ms / 1000);
    const proven = facts?.provenThrough;
    if (proven !== undefined && second(proven) === second(updatedMs) && versionsInItsSecond === 1) return 'covered';
    // A change named L or more after U (both Zuora's clock) was made once U was committed: its sync read U too.
    if (proven !== undefined && proven >= updatedMs + rules.commitLagMs) return 'covered';
  }
  if (success !== undefined && success > sightedAtMs + rules.clockMarginMs) return 'covered';
  const queuedAt = facts?.lastQueuedAt;
  if (queuedAt === undefined || (updatedMs !== undefined && queuedAt < updatedMs)) return 'missing';
  // A success that may have started after the message was sent may have served it, or found it covered.
  const servedSinceQueued = success !== undefined && success + rules.clockMarginMs >= queuedAt;
  // A claimed sync that began after the message was queued and before the sighting may be serving it (or have
  // served it, its record lost) without having read U. One that began before the send cannot have received it.
  const claimStart = facts?.unrecordedClaimStartedAt;
  const unrecordedSinceQueued =
    claimStart !== undefined &&
    claimStart + rules.clockMarginMs >= queuedAt &&
    claimStart <= sightedAtMs + rules.clockMarginMs;
  // Without a readable UpdatedDate nothing says the message came after the change: queue it.
  if (updatedMs !== undefined && !servedSinceQueued && !unrecordedSinceQueued) return 'pending';
  return 'unproven';
}

/** The worst first: a subscription is counted by the worst of its changes' verdicts. */
const SEVERITY: readonly ChangeCoverage[] = ['missing', 'unproven', 'pending', 'covered'];

/**
 * A subscription whose read returned versions in several seconds (`versionsBySecond`: second -> how many), each
 * judged by classifyChange: a version stamped earlier may have been committed after a later one, so that the
 * proofs of the later ((b), (c)) say nothing of it. The subscription takes the worst verdict; undefined
 * `updatedMs` (an unreadable UpdatedDate among them) is judged as such too.
 */
export function classifySubscription(
  latestUpdatedMs: number | undefined,
  versionsBySecond: ReadonlyMap<number, number> | undefined,
  facts: CoverageFacts | undefined,
  sightedAtMs: number,
  rules: CoverageRules,
): ChangeCoverage {
  const verdicts =
    latestUpdatedMs === undefined || versionsBySecond === undefined || versionsBySecond.size === 0
      ? [classifyChange(latestUpdatedMs, facts, sightedAtMs, rules)]
      : [...versionsBySecond].map(([second, versions]) => classifyChange(second, facts, sightedAtMs, rules, versions));
  return SEVERITY.find((verdict) => verdicts.includes(verdict)) ?? 'covered';
}

/**
 * A change U of the subscription's account or one of its contacts (the sweep's Account and Contact read). Which
 * proofs hold: (a), a successful sync that started after U + L (Limio's sync reads the account and its contacts
 * with the subscription), and (c), one that started after the sweep's sighting of U; and pending, a message
 * queued at or after U that no success has served since (the account callout's fan-out marks lastQueuedAt for
 * each subscription): the sync to come starts after the sighting, so by (c) it reads U. Not (b): provenThrough
 * names a Subscription UpdatedDate, whose sync says nothing of when the account's change was committed, so it is
 * left out here, at worst costing one redundant Limio call.
 */
export function classifyAccountChange(
  updatedMs: number | undefined,
  facts: CoverageFacts | undefined,
  sightedAtMs: number,
  rules: CoverageRules,
): ChangeCoverage {
  const proofsThatHold: CoverageFacts | undefined = facts && {
    ...(facts.lastSuccessStartedAt !== undefined && { lastSuccessStartedAt: facts.lastSuccessStartedAt }),
    ...(facts.lastQueuedAt !== undefined && { lastQueuedAt: facts.lastQueuedAt }),
    ...(facts.unrecordedClaimStartedAt !== undefined && { unrecordedClaimStartedAt: facts.unrecordedClaimStartedAt }),
  };
  return classifyChange(updatedMs, proofsThatHold, sightedAtMs, rules);
}

/** The worse of two verdicts on one subscription (its own change and its account's). */
export function worseCoverage(a: ChangeCoverage, b: ChangeCoverage): ChangeCoverage {
  return SEVERITY.indexOf(a) <= SEVERITY.indexOf(b) ? a : b;
}
