import { checkSubscriptionId, type SubscriptionIdRule } from '../shared/subscription-id';
import type { AccountSubscriptions } from './account-changes';
import {
  classifyAccountChange,
  classifySubscription,
  worseCoverage,
  type ChangeCoverage,
  type CoverageFacts,
  type CoverageRules,
} from './coverage';
import type { LatestVersions } from './window';

/**
 * Settling a slice the sweep has read whole: which of its subscriptions a successful sync already covers (the
 * sync ledger, through CoveragePort), and queueing the rest (EnqueuePort). Keeps the run's tally, from which
 * the sweep's progress and report are drawn (sweep.ts).
 */

/**
 * The sync ledger, narrowed to what coverage.ts judges by: each subscription's newest successful sync, what it
 * proved, its last queueing and any claimed sync in flight. An id missing from the answer has no entry.
 */
export type CoveragePort = (ids: readonly string[]) => Promise<ReadonlyMap<string, CoverageFacts | undefined>>;

interface EnqueueOutcome {
  /** Ids that are not known to be on the queue; the slice then does not count as done. */
  readonly notQueued: readonly string[];
  readonly error?: string;
}

/**
 * Puts sync requests (source "sweep") on the main queue; called with at most `batchSize` ids at a time, with the
 * UpdatedDate the sweep read for each (their messages carry it as zuoraUpdatedAt).
 */
export type EnqueuePort = (
  ids: readonly string[],
  updatedMsById?: ReadonlyMap<string, number | undefined>,
) => Promise<EnqueueOutcome>;

export interface SweepCounts {
  /** Records (versions) Zuora returned. */
  read: number;
  /** Distinct subscription numbers among them. */
  distinct: number;
  /** Skipped: a successful sync provably read their change (coverage.ts). */
  covered: number;
  /** Skipped: a message queued after their change is still to be synced (a backlog, an outage). */
  pending: number;
  /** Queued again: a message came after their change, but its sync cannot be shown to have read it. */
  unproven: number;
  /** Queued: nothing was queued after their change, its callout never came (MissingCalloutsAlarm). */
  missing: number;
  /** Queued (or, in a dry run, would be): unproven + missing. */
  queued: number;
  /** Names the subscription-id rule refuses (and account ids that are not Zuora ids): counted, never sent to Limio. */
  invalid: number;
  /** Account records Zuora returned (the sweep's Account read). */
  accountsRead: number;
  /** Contact records Zuora returned (the sweep's Contact read). */
  contactsRead: number;
  /** Distinct accounts changed (the account itself or one of its contacts). */
  accountsChanged: number;
  /** Distinct subscriptions of those accounts, each judged by its account's change as well. */
  accountSubscriptions: number;
  /** Records without a Name. */
  unnamed: number;
}

/** Some ids could not be queued; the sweep reports it as errorKind 'enqueue'. */
export class EnqueueFailed extends Error {
  override readonly name = 'EnqueueFailed';
}

export interface SettleOptions {
  readonly coverage: CoveragePort;
  readonly enqueue: EnqueuePort;
  readonly rule: SubscriptionIdRule;
  /** The commit lag and clock margin coverage is judged with. */
  readonly rules: CoverageRules;
  /** Ids per ledger look-up and per enqueue call. */
  readonly batchSize: number;
  /** Count what would be queued, queue nothing. */
  readonly dryRun: boolean;
  readonly onCoverageUnavailable?: (ids: number, error: string) => void;
  /** The clock settle's deadline is read on (default Date.now). */
  readonly now?: () => number;
}

/**
 * How far settling one slice got: all of it, or, when its deadline came first, every subscription whose latest
 * change is before `settledBeforeMs` (undefined: none can be vouched for, e.g. one with an unreadable UpdatedDate
 * was still waiting).
 */
export type SettleResult =
  | { readonly complete: true }
  | { readonly complete: false; readonly settledBeforeMs: number | undefined };

const MAX_INVALID_SAMPLES = 5;

/** One subscription to judge in a slice: its own change (the Subscription read), its account's, or both. */
interface SettleCandidate {
  readonly name: string;
  readonly ownChange: boolean;
  readonly ownMs: number | undefined;
  readonly accountChange: boolean;
  readonly accountMs: number | undefined;
  /** Orders the settle and bounds where a run cut short resumes. */
  readonly latestMs: number | undefined;
}

/** One run's subscriptions, across its slices: each is counted once, and queued at most once. */
export class SweepTally {
  /** Records (versions) read so far; the sweep adds each page as it comes. */
  read = 0;
  /** Account and contact records read so far; likewise. */
  accountsRead = 0;
  contactsRead = 0;
  private readonly changedAccounts = new Set<string>();
  private readonly accountSubscriptions = new Set<string>();
  private unnamed = 0;
  private ledgerFailed = false;
  private readonly seen = new Set<string>();
  private readonly covered = new Set<string>();
  private readonly pending = new Set<string>();
  /** Queued subscriptions, each with the reason it was queued. */
  private readonly queued = new Map<string, 'unproven' | 'missing'>();
  private readonly invalid = new Set<string>();

  constructor(private readonly options: SettleOptions) {}

  counts(): SweepCounts {
    const queued = [...this.queued.values()];
    return {
      read: this.read,
      distinct: this.seen.size,
      covered: this.covered.size,
      pending: this.pending.size,
      unproven: queued.filter((reason) => reason === 'unproven').length,
      missing: queued.filter((reason) => reason === 'missing').length,
      queued: this.queued.size,
      invalid: this.invalid.size,
      unnamed: this.unnamed,
      accountsRead: this.accountsRead,
      contactsRead: this.contactsRead,
      accountsChanged: this.changedAccounts.size,
      accountSubscriptions: this.accountSubscriptions.size,
    };
  }

  /** The ledger could not answer for some ids; they were queued rather than risked. */
  get coverageUnavailable(): boolean {
    return this.ledgerFailed;
  }

  /** Up to five refused names, quoted and clipped, for the log line. */
  invalidSamples(): string[] {
    return [...this.invalid]
      .slice(0, MAX_INVALID_SAMPLES)
      .map((name) => JSON.stringify(name.slice(0, 80)).slice(1, -1));
  }

  /**
   * Ledger look-ups and queueing for one slice read whole, oldest change first, until `deadlineMs`: a slice cut
   * short then still has a time before which all is queued or covered, where the next run can resume. Stops
   * before a round (one ledger look-up and the queueing it brings) that would not end by the deadline, judged by
   * the longest round so far. Throws EnqueueFailed when ids could not be queued.
   */
  async settle(
    versions: LatestVersions,
    options: {
      readonly deadlineMs?: number;
      readonly sightedAtMs?: number;
      readonly accounts?: AccountSubscriptions;
    } = {},
  ): Promise<SettleResult> {
    const { batchSize } = this.options;
    const now = this.options.now ?? Date.now;
    // When the read that returned these versions ended: each was visible by then.
    const sightedAtMs = options.sightedAtMs ?? now();
    this.unnamed += versions.withoutName;
    const accountChanges = options.accounts?.changeMsByName ?? new Map<string, number | undefined>();
    if (options.accounts !== undefined) {
      this.unnamed += options.accounts.withoutName;
      for (const id of options.accounts.changedAccounts.changeMsById.keys()) this.changedAccounts.add(id);
      for (const id of options.accounts.changedAccounts.invalidIds) this.invalid.add(`AccountId ${id}`);
    }
    const candidates: SettleCandidate[] = [];
    for (const name of new Set([...versions.byName.keys(), ...accountChanges.keys()])) {
      const ownChange = versions.byName.has(name);
      const accountChange = accountChanges.has(name);
      if (ownChange) this.seen.add(name);
      if (accountChange) this.accountSubscriptions.add(name);
      // Queued earlier in this run, after this change was made (it is older than the settle point): covered by that.
      if (this.queued.has(name)) continue;
      if (!checkSubscriptionId(name, this.options.rule).ok) {
        this.invalid.add(name);
        continue;
      }
      const ownMs = versions.byName.get(name);
      const accountMs = accountChanges.get(name);
      // The latest change either way orders it; an unreadable time of either makes it unknown (first).
      const latestMs =
        (ownChange && ownMs === undefined) || (accountChange && accountMs === undefined)
          ? undefined
          : Math.max(ownMs ?? -Infinity, accountMs ?? -Infinity);
      candidates.push({ name, ownChange, ownMs, accountChange, accountMs, latestMs });
    }
    // An unreadable UpdatedDate first: while one waits, no time can be vouched for.
    candidates.sort((a, b) => (a.latestMs ?? -Infinity) - (b.latestMs ?? -Infinity));
    // Uncovered ids are gathered across ledger batches, so each enqueue call (and each SQS batch of ten) is full.
    let pending: [SettleCandidate, 'unproven' | 'missing'][] = [];
    let longestRoundMs = 0;
    for (let start = 0; start < candidates.length; start += batchSize) {
      const roundStartedMs = now();
      if (options.deadlineMs !== undefined && roundStartedMs + longestRoundMs >= options.deadlineMs) {
        // Pending ids are older than the rest (sorted), so the first of them, if any, bounds what is settled.
        return { complete: false, settledBeforeMs: (pending[0]?.[0] ?? candidates[start])!.latestMs };
      }
      const batch = candidates.slice(start, start + batchSize);
      const facts = await this.lookUpCoverage(batch.map(({ name }) => name));
      for (const candidate of batch) {
        // Without the ledger nothing can be shown either way: queued, but not counted as a missing callout.
        const coverage: ChangeCoverage =
          facts === undefined ? 'unproven' : this.judge(candidate, versions, facts.get(candidate.name), sightedAtMs);
        if (coverage === 'covered' || coverage === 'pending') this.keep(candidate.name, coverage);
        else pending.push([candidate, coverage]);
      }
      while (pending.length >= batchSize) {
        await this.flush(pending.slice(0, batchSize));
        pending = pending.slice(batchSize);
      }
      longestRoundMs = Math.max(longestRoundMs, now() - roundStartedMs);
    }
    if (pending.length > 0) await this.flush(pending);
    return { complete: true };
  }

  /** The worse of the subscription's own changes' verdict and its account's change's. */
  private judge(
    candidate: SettleCandidate,
    versions: LatestVersions,
    facts: CoverageFacts | undefined,
    sightedAtMs: number,
  ): ChangeCoverage {
    const { rules } = this.options;
    const own = candidate.ownChange
      ? classifySubscription(candidate.ownMs, versions.secondsByName.get(candidate.name), facts, sightedAtMs, rules)
      : 'covered';
    const account = candidate.accountChange
      ? classifyAccountChange(candidate.accountMs, facts, sightedAtMs, rules)
      : 'covered';
    return worseCoverage(own, account);
  }

  /** Not queued; a later slice's verdict on a later change of the same subscription replaces an earlier one. */
  private keep(name: string, coverage: 'covered' | 'pending'): void {
    (coverage === 'covered' ? this.pending : this.covered).delete(name);
    (coverage === 'covered' ? this.covered : this.pending).add(name);
  }

  /**
   * The ledger's answer for one batch, or undefined once it has failed in this run: without the ledger a change
   * cannot be shown to be synced, so it is queued (Limio gets a redundant sync at worst). A ledger that failed
   * once is not asked again in the run, so a slow one costs its timeout once, not once per batch.
   */
  private async lookUpCoverage(ids: string[]): Promise<ReadonlyMap<string, CoverageFacts | undefined> | undefined> {
    if (this.ledgerFailed) return undefined;
    try {
      return await this.options.coverage(ids);
    } catch (error) {
      this.ledgerFailed = true;
      this.options.onCoverageUnavailable?.(ids.length, (error as Error)?.message ?? String(error));
      return undefined;
    }
  }

  private async flush(changes: readonly (readonly [SettleCandidate, 'unproven' | 'missing'])[]): Promise<void> {
    const ids = changes.map(([{ name }]) => name);
    // Only a Subscription UpdatedDate the sweep read becomes the message's zuoraUpdatedAt (provenThrough): an
    // account's change time names no subscription version.
    const updatedMsById = new Map(changes.map(([{ name, ownChange, ownMs }]) => [name, ownChange ? ownMs : undefined]));
    const outcome: EnqueueOutcome = this.options.dryRun
      ? { notQueued: [] }
      : await this.options.enqueue(ids, updatedMsById);
    const notQueued = new Set(outcome.notQueued);
    for (const [{ name }, reason] of changes) {
      if (notQueued.has(name)) continue;
      this.queued.set(name, reason);
      this.covered.delete(name);
      this.pending.delete(name);
    }
    if (notQueued.size > 0) {
      throw new EnqueueFailed(
        `${notQueued.size} of ${ids.length} subscriptions could not be queued${outcome.error ? `: ${outcome.error}` : ''}`,
      );
    }
  }
}
