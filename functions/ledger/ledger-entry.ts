/**
 * The sync ledger: what the bridge remembers of each subscription's Limio syncs, one entry per subscription.
 * Every time here is epoch ms by the sync Lambda's clock, except `expiresAt` (epoch seconds, DynamoDB's TTL).
 *
 * The rule it serves: Limio's sync reads Zuora's current state when it runs, so a successful sync that STARTED
 * after a callout was received covers that callout. So the ledger keeps when the newest successful sync started
 * (never moved backwards, however late an older sync finishes), beside what an operator wants to see.
 *
 * This file holds the update rules as plain functions. The in-memory store applies them directly; the DynamoDB
 * store expresses the same rules as condition expressions, and a property test checks both agree.
 */

export const LEDGER_OUTCOMES = ['synced', 'retryable', 'terminal'] as const;
export type LedgerOutcomeKind = (typeof LEDGER_OUTCOMES)[number];

/** One Limio call's result as the sync handler records it. `startedAt` is taken before the request is sent. */
export type LedgerOutcome =
  | {
      readonly kind: 'synced';
      readonly startedAt: number;
      readonly finishedAt: number;
      readonly httpStatus: number;
      readonly limioId?: string;
      readonly owner?: string;
    }
  | {
      readonly kind: 'retryable' | 'terminal';
      readonly startedAt: number;
      readonly finishedAt: number;
      readonly httpStatus?: number;
      readonly error: string;
    };

export interface LedgerAttempt {
  readonly outcome: LedgerOutcomeKind;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly httpStatus?: number;
  readonly error?: string;
}

export interface LedgerSuccess {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly limioId?: string;
  readonly owner?: string;
}

/** A sync one invocation has announced it is making; over once an attempt at least as new is recorded, or at `until`. */
export interface LedgerClaim {
  readonly startedAt: number;
  readonly until: number;
}

export interface LedgerEntry {
  readonly subscriptionId: string;
  /** The newest successful sync (by start). */
  readonly lastSuccess?: LedgerSuccess;
  /** The newest attempt (by start) whose answer was recorded, whatever it was. */
  readonly lastAttempt?: LedgerAttempt;
  readonly claim?: LedgerClaim;
  /**
   * The latest receivedAt of a message any producer (callout Lambda, sweep, CLI enqueue) put on the queue for this
   * subscription, by that producer's clock, marked after the send succeeded. The sweep reads it to tell a change
   * whose sync is still to come (pending) from one no callout ever announced (missing).
   */
  readonly lastQueuedAt?: number;
  /**
   * The latest Zuora UpdatedDate (epoch ms) a successful sync provably read: the newest `zuoraUpdatedAt` of the
   * messages a successful sync served. Each was made visible before its message was sent (Zuora calls out after
   * the commit; the sweep queues what it has read), so the sync, which started after receiving it, read it.
   */
  readonly provenThrough?: number;
  /** Epoch seconds; DynamoDB deletes the item some time after. */
  readonly expiresAt: number;
}

/**
 * Items live 30 days after their last write: beyond the queue's and the DLQ's 14-day retention, so any message
 * still around finds the entry. An expired entry only costs a Limio call (no entry = sync now), never a change.
 */
export const LEDGER_TTL_SECONDS = 30 * 24 * 60 * 60;

/** Limio's error text is kept to this many characters, so an item stays small whatever Limio answers. */
export const MAX_LEDGER_ERROR_LENGTH = 500;
/** Limio ids and owners are short; anything longer is cut rather than stored whole. */
export const MAX_LEDGER_ID_LENGTH = 256;

export function expiresAtFor(writtenAtMs: number): number {
  return Math.ceil(writtenAtMs / 1000) + LEDGER_TTL_SECONDS;
}

/**
 * Text from Limio made safe to store: at most `max` characters (a surrogate pair is never split) and well-formed
 * UTF-16, since DynamoDB refuses a string that is not valid UTF-8 once encoded.
 */
export function boundedText(text: string, max: number): string {
  const wellFormed = text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  const characters = Array.from(wellFormed);
  return characters.length <= max ? wellFormed : `${characters.slice(0, max - 1).join('')}…`;
}

export type RecordResult =
  /** The newest attempt so far: stored as the last attempt (and, if synced, as the last success). */
  | 'recorded'
  /** A newer attempt was already recorded, but this success started after the stored one: only that was kept. */
  | 'success-only'
  /** Older than what is stored in every respect: nothing changed. */
  | 'superseded';

/** The in-memory form of recordOutcome's update, the rule the DynamoDB store's condition expressions encode. */
export function applyOutcome(
  subscriptionId: string,
  entry: LedgerEntry | undefined,
  outcome: LedgerOutcome,
): { readonly entry: LedgerEntry; readonly result: RecordResult } {
  const expiresAt = expiresAtFor(outcome.finishedAt);
  const newerSuccess =
    outcome.kind === 'synced' && (entry?.lastSuccess === undefined || entry.lastSuccess.startedAt < outcome.startedAt);
  const newestAttempt = entry?.lastAttempt === undefined || entry.lastAttempt.startedAt < outcome.startedAt;
  const success = outcome.kind === 'synced' && newerSuccess ? successOf(outcome) : entry?.lastSuccess;
  if (newestAttempt && (outcome.kind !== 'synced' || newerSuccess)) {
    return {
      entry: withOptional(
        { subscriptionId, expiresAt },
        { lastSuccess: success, lastAttempt: attemptOf(outcome), claim: entry?.claim },
        entry,
      ),
      result: 'recorded',
    };
  }
  if (newerSuccess) {
    return {
      entry: withOptional(
        { subscriptionId, expiresAt },
        { lastSuccess: success, lastAttempt: entry?.lastAttempt, claim: entry?.claim },
        entry,
      ),
      result: 'success-only',
    };
  }
  return { entry: entry ?? { subscriptionId, expiresAt }, result: 'superseded' };
}

/** What the store's claimSync is asked to do. */
export interface ClaimRequest {
  /** Now, by the sync Lambda's clock: the start recorded for the sync if it is claimed. */
  readonly startedAt: number;
  /** How long the claim holds if its outcome is never recorded: the invocation's remaining time is enough. */
  readonly leaseMs: number;
  /**
   * The lastSuccess.startedAt the caller decided from (undefined: none). If another sync succeeded since, the
   * caller's decision is stale and the claim is refused, so that sync's cooldown is not skipped.
   */
  readonly expectedLastSuccessStartedAt: number | undefined;
}

/** A claim is live while no attempt as new as it has been recorded and its lease has not run out. */
export function claimInFlight(entry: LedgerEntry | undefined, nowMs: number): LedgerClaim | undefined {
  const claim = entry?.claim;
  if (claim === undefined || nowMs >= claim.until) return undefined;
  if (entry?.lastAttempt !== undefined && claim.startedAt <= entry.lastAttempt.startedAt) return undefined;
  return claim;
}

/** The in-memory form of claimSync's conditional update; `claimed: false` leaves the entry as it was. */
export function applyClaim(
  subscriptionId: string,
  entry: LedgerEntry | undefined,
  request: ClaimRequest,
): { readonly entry: LedgerEntry | undefined; readonly claimed: boolean } {
  if (claimInFlight(entry, request.startedAt) !== undefined) return { entry, claimed: false };
  if (entry?.lastSuccess?.startedAt !== request.expectedLastSuccessStartedAt) return { entry, claimed: false };
  const claim: LedgerClaim = { startedAt: request.startedAt, until: request.startedAt + request.leaseMs };
  return {
    entry: withOptional(
      { subscriptionId, expiresAt: expiresAtFor(request.startedAt) },
      { lastSuccess: entry?.lastSuccess, lastAttempt: entry?.lastAttempt, claim },
      entry,
    ),
    claimed: true,
  };
}

function successOf(outcome: Extract<LedgerOutcome, { kind: 'synced' }>): LedgerSuccess {
  return {
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    ...(outcome.limioId !== undefined && { limioId: boundedText(outcome.limioId, MAX_LEDGER_ID_LENGTH) }),
    ...(outcome.owner !== undefined && { owner: boundedText(outcome.owner, MAX_LEDGER_ID_LENGTH) }),
  };
}

function attemptOf(outcome: LedgerOutcome): LedgerAttempt {
  return {
    outcome: outcome.kind,
    startedAt: outcome.startedAt,
    finishedAt: outcome.finishedAt,
    ...(outcome.httpStatus !== undefined && { httpStatus: outcome.httpStatus }),
    ...(outcome.kind !== 'synced' && { error: boundedText(outcome.error, MAX_LEDGER_ERROR_LENGTH) }),
  };
}

function withOptional(
  base: { subscriptionId: string; expiresAt: number },
  parts: {
    lastSuccess: LedgerSuccess | undefined;
    lastAttempt: LedgerAttempt | undefined;
    claim: LedgerClaim | undefined;
  },
  marksFrom: LedgerEntry | undefined,
): LedgerEntry {
  return {
    ...base,
    ...(parts.lastSuccess !== undefined && { lastSuccess: parts.lastSuccess }),
    ...(parts.lastAttempt !== undefined && { lastAttempt: parts.lastAttempt }),
    ...(parts.claim !== undefined && { claim: parts.claim }),
    // Marks are written by their own updates; an outcome or a claim leaves them as they were.
    ...(marksFrom?.lastQueuedAt !== undefined && { lastQueuedAt: marksFrom.lastQueuedAt }),
    ...(marksFrom?.provenThrough !== undefined && { provenThrough: marksFrom.provenThrough }),
  };
}

/** The ledger's two marks, each only ever raised (see LedgerEntry). */
export const LEDGER_MARKS = ['lastQueuedAt', 'provenThrough'] as const;
export type LedgerMark = (typeof LEDGER_MARKS)[number];

/**
 * The in-memory form of raiseMark's conditional update: the mark becomes `valueMs` if that is later than what it
 * holds (max(old, new), whatever order producers and syncs write in). An item the mark creates gets the TTL a
 * write at `valueMs` would; an existing one keeps its own. `raised: false` leaves the entry as it was.
 */
export function applyMark(
  subscriptionId: string,
  entry: LedgerEntry | undefined,
  mark: LedgerMark,
  valueMs: number,
): { readonly entry: LedgerEntry | undefined; readonly raised: boolean } {
  const current = entry?.[mark];
  if (current !== undefined && current >= valueMs) return { entry, raised: false };
  return {
    entry: { ...(entry ?? { subscriptionId, expiresAt: expiresAtFor(valueMs) }), [mark]: valueMs },
    raised: true,
  };
}
