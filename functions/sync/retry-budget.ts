import type { OpenInterval } from '../breaker/breaker-state';
import type { RetrySettings } from '../breaker/settings';
import type { SyncOutcome } from '../limio';
import type { FailureClass } from '../shared/dead-letter';
import { DEFAULTS } from '../shared/defaults';

/**
 * Retry budget by time: a message failing for Limio's reasons is retried until a budget of time measured from
 * when the callout was accepted is spent, and the time the breaker was open does not count, because an outage
 * is nobody's fault but Limio's. SQS's ApproximateReceiveCount cannot serve here: it also rises on receives
 * that never reached Limio. Pure functions; the clock and the randomness are the caller's.
 */

export type { OpenInterval };

export type Instant = number | string | Date;

function toEpochMs(instant: Instant): number {
  const ms = instant instanceof Date ? instant.getTime() : typeof instant === 'string' ? Date.parse(instant) : instant;
  if (!Number.isFinite(ms)) throw new RangeError(`not a time: ${String(instant)}`);
  return ms;
}

/**
 * Milliseconds of [start, end] covered by the intervals. Intervals may overlap or nest (two writers, a merged
 * history); each instant is counted once.
 */
export function openTimeWithin(start: number, end: number, intervals: readonly OpenInterval[]): number {
  if (end <= start) return 0;
  const clipped = intervals
    .map(({ from, to }) => [Math.max(from, start), Math.min(to ?? end, end)] as const)
    .filter(([from, to]) => to > from)
    .sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let reachedUntil = start;
  for (const [from, to] of clipped) {
    const countedFrom = Math.max(from, reachedUntil);
    if (to > countedFrom) {
      covered += to - countedFrom;
      reachedUntil = to;
    }
  }
  return covered;
}

export interface RetryBudgetInput {
  readonly receivedAt: Instant;
  readonly now: Instant;
  readonly budgetSeconds: number;
  readonly openIntervals: readonly OpenInterval[];
}

/** Seconds of budget left (never negative): the budget minus the closed-breaker time since receivedAt. */
export function retryBudget({ receivedAt, now, budgetSeconds, openIntervals }: RetryBudgetInput): number {
  const start = toEpochMs(receivedAt);
  const end = toEpochMs(now);
  // A receivedAt in the future (a producer's clock ahead of ours) has spent nothing yet.
  const elapsed = Math.max(0, end - start);
  const counted = elapsed - openTimeWithin(start, end, openIntervals);
  return Math.max(0, budgetSeconds - counted / 1000);
}

/**
 * When the budget starts. A message an operator put back from the DLQ (replayCount > 0) keeps its original
 * receivedAt, whose budget is long spent: it gets a fresh one from when it was sent again (SQS SentTimestamp).
 */
export function budgetStart(
  request: { readonly receivedAt: string; readonly replayCount?: number },
  sentTimestampMs?: number,
): number {
  const receivedAt = toEpochMs(request.receivedAt);
  if ((request.replayCount ?? 0) > 0 && sentTimestampMs !== undefined && Number.isFinite(sentTimestampMs)) {
    return Math.max(receivedAt, sentTimestampMs);
  }
  return receivedAt;
}

/**
 * Whether a message is within DEFAULTS.retentionMarginSeconds (1 day) of the end of the queue's retention,
 * counted from its SentTimestamp: a reason to dead-letter it, or undefined. A message an operator replayed from
 * the DLQ is a new send with a new SentTimestamp, so its retention starts afresh, like its budget (budgetStart).
 */
export function queueRetentionNear(sentTimestampMs: number | undefined, now: Instant): string | undefined {
  if (sentTimestampMs === undefined || !Number.isFinite(sentTimestampMs)) return undefined;
  const ageSeconds = (toEpochMs(now) - sentTimestampMs) / 1000;
  if (ageSeconds < DEFAULTS.retentionSeconds - DEFAULTS.retentionMarginSeconds) return undefined;
  const days = (seconds: number) => seconds / 86_400;
  return `the queue's ${days(DEFAULTS.retentionSeconds)}-day retention is near (sent ${days(ageSeconds).toFixed(1)} days ago): dead-lettered before SQS deletes it`;
}

/** Why one sync failed, as far as retrying is concerned. */
export type SyncFailure =
  /** Limio's fault (5xx, 403/408/409/423/425/429, timeout, network, token endpoint down, 200 without success): retry in budget. */
  | { readonly kind: 'limio'; readonly retryAfterSeconds?: number; readonly error?: string }
  /** Limio refused this subscription (a 4xx other than 401, 403, 408, 409, 423, 425, 429): retrying cannot help. */
  | { readonly kind: 'terminal'; readonly error?: string }
  /** The message itself is unreadable. */
  | { readonly kind: 'poison'; readonly error?: string };

/** What decideRetry needs to know about a failed sync. */
export function syncFailureOf(outcome: Exclude<SyncOutcome, { class: 'synced' }>): SyncFailure {
  if (outcome.class === 'terminal') return { kind: 'terminal', error: outcome.error };
  return {
    kind: 'limio',
    error: outcome.error,
    ...(outcome.class === 'retryable' &&
      outcome.retryAfterSeconds !== undefined && { retryAfterSeconds: outcome.retryAfterSeconds }),
  };
}

export type RetryDecision =
  | { readonly action: 'retry'; readonly visibilitySeconds: number; readonly remainingBudgetSeconds: number }
  | { readonly action: 'dead-letter'; readonly failureClass: FailureClass; readonly reason: string };

export interface RetryInput {
  readonly failure: SyncFailure;
  /** SQS ApproximateReceiveCount of this receive (1 on the first). */
  readonly receiveCount: number;
  /** When the budget started: the request's receivedAt, or see budgetStart(). */
  readonly receivedAt: Instant;
  /** SQS SentTimestamp (epoch ms), from which the queue's retention counts; without it that check is skipped. */
  readonly sentAt?: number;
  readonly now: Instant;
  readonly openIntervals: readonly OpenInterval[];
  readonly settings: RetrySettings;
  /** A number in [0, 1); Math.random in production, fixed in tests. */
  readonly random?: () => number;
}

/**
 * Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in
 * [1, min(cap, base * 2^(receiveCount-1))]; the sync Lambda's only backoff. Full jitter spreads a burst of
 * failures the most.
 */
export function backoffSeconds(
  receiveCount: number,
  settings: Pick<RetrySettings, 'backoffBaseSeconds' | 'backoffMaxSeconds'>,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 30);
  const ceiling = Math.min(settings.backoffMaxSeconds, settings.backoffBaseSeconds * 2 ** exponent);
  // At least one second: zero would make the message visible again before this invocation has even returned.
  return clamp(Math.ceil(random() * ceiling), 1, ceiling);
}

/** Retry-After is honoured within [1 s, cap]: a bogus header must not park a message for hours. */
function retryAfterWithinBounds(retryAfterSeconds: number, settings: Pick<RetrySettings, 'backoffMaxSeconds'>): number {
  if (!Number.isFinite(retryAfterSeconds)) return settings.backoffMaxSeconds;
  return clamp(Math.ceil(retryAfterSeconds), 1, settings.backoffMaxSeconds);
}

export function decideRetry({
  failure,
  receiveCount,
  receivedAt,
  sentAt,
  now,
  openIntervals,
  settings,
  random = Math.random,
}: RetryInput): RetryDecision {
  if (failure.kind === 'poison') {
    return { action: 'dead-letter', failureClass: 'poison', reason: failure.error ?? 'unreadable message' };
  }
  if (failure.kind === 'terminal') {
    return {
      action: 'dead-letter',
      failureClass: 'terminal',
      reason: failure.error ?? 'Limio refused this subscription',
    };
  }
  const remaining = retryBudget({ receivedAt, now, budgetSeconds: settings.retryBudgetSeconds, openIntervals });
  const lastError = failure.error ? `: ${failure.error}` : '';
  if (remaining <= 0) {
    return {
      action: 'dead-letter',
      failureClass: 'exhausted',
      reason: `retry budget of ${settings.retryBudgetSeconds} s spent${lastError}`,
    };
  }
  // Open time stretches the budget, but not the queue's retention: dead-letter before SQS deletes it unseen.
  const retentionNear = queueRetentionNear(sentAt, now);
  if (retentionNear !== undefined) {
    return { action: 'dead-letter', failureClass: 'exhausted', reason: `${retentionNear}${lastError}` };
  }
  if (receiveCount >= settings.maxAttempts) {
    return {
      action: 'dead-letter',
      failureClass: 'exhausted',
      reason: `received ${receiveCount} times (MAX_ATTEMPTS ${settings.maxAttempts})${lastError}`,
    };
  }
  // Retry-After is a floor: Limio asking for longer wins over the jittered backoff, never beyond the cap.
  const jittered = backoffSeconds(receiveCount, settings, random);
  const wanted =
    failure.retryAfterSeconds === undefined
      ? jittered
      : Math.max(jittered, retryAfterWithinBounds(failure.retryAfterSeconds, settings));
  // The last retry lands when the budget ends, not a whole backoff step beyond it.
  const visibilitySeconds = clamp(Math.min(wanted, Math.ceil(remaining)), 1, settings.backoffMaxSeconds);
  return { action: 'retry', visibilitySeconds, remainingBudgetSeconds: remaining };
}

/**
 * SQS's longest visibility timeout. SQS counts it from the receive, so the sync handler asks for no more than
 * what is left of it (withinVisibilityCeiling, functions/sync/visibility-ceiling.ts).
 */
const MAX_HOLD_SECONDS = 12 * 60 * 60;

export interface HoldInput {
  readonly settings: Pick<RetrySettings, 'holdSeconds'>;
  /** SQS ApproximateReceiveCount of this receive (1 on the first). */
  readonly receiveCount: number;
  /** How long the breaker has been open (since its `since`). */
  readonly openForSeconds: number;
  /** A number in [0, 1); Math.random in production, fixed in tests. */
  readonly random?: () => number;
}

/**
 * Visibility for a message received while the breaker is open: it goes back untried, so nothing is
 * dead-lettered here. Normally this happens only in the moments before the probe disables the event source
 * mapping; but if the probe cannot disable it, every hold is one more receive, and SQS's redrive moves the
 * message to the DLQ with no reason at MAX_ATTEMPTS + 1 receives. So the hold doubles with each receive
 * (BREAKER_HOLD_SECONDS x 2^(receives-1)), up to SQS's 12 h limit: 14 days open then cost about 40 receives.
 * It is also never longer than the breaker has been open (at least one BREAKER_HOLD_SECONDS), so a message
 * with many earlier retries, held in the minute the breaker opens, comes back soon after a quick recovery.
 * Spread over [hold, 1.25 x hold] so the backlog does not return as one wave.
 */
export function holdVisibilitySeconds({
  settings,
  receiveCount,
  openForSeconds,
  random = Math.random,
}: HoldInput): number {
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 30);
  const byReceives = settings.holdSeconds * 2 ** exponent;
  const byOpenTime = Math.max(settings.holdSeconds, Math.floor(openForSeconds));
  const hold = Math.min(byReceives, byOpenTime, MAX_HOLD_SECONDS);
  return Math.min(hold + Math.floor(random() * (hold / 4 + 1)), MAX_HOLD_SECONDS);
}

/**
 * Visibility for a message that should have gone to the DLQ but the send failed: it stays on the main queue and
 * comes back, and a terminal one calls Limio again each time. Spread over [3/4 x cap, cap] of the backoff, so
 * it returns rarely (not after the queue's visibility timeout) and a burst of them does not return as one wave.
 */
export function deadLetterRetrySeconds(
  settings: Pick<RetrySettings, 'backoffMaxSeconds'>,
  random: () => number = Math.random,
): number {
  const cap = settings.backoffMaxSeconds;
  return clamp(cap - Math.floor(random() * (cap / 4)), 1, cap);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
