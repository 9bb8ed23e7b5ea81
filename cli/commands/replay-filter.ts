import { randomBytes } from 'node:crypto';
import type { FailureClass } from '../../functions/shared/dead-letter';
import {
  createAccountRequest,
  createSyncRequest,
  serializeQueueMessage,
  serializeSyncRequest,
} from '../../functions/shared/queue-message';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import { failedAtOf, type DeadLetter } from './dead-letters';

/** Which dead letters a replay selects, and the body it puts back on the main queue for each. */

export interface ReplayFilter {
  readonly subscriptions?: readonly string[];
  /** `unknown` selects messages SQS's own redrive put in the DLQ (no reason attributes). */
  readonly failureClasses?: readonly (FailureClass | 'unknown')[];
  readonly httpStatuses?: readonly number[];
  /** Only messages that failed at least this long ago. */
  readonly olderThanMs?: number;
}

export function matchesFilter(letter: DeadLetter, filter: ReplayFilter, nowMs: number): boolean {
  if (filter.subscriptions?.length && !filter.subscriptions.includes(letter.request?.subscriptionId ?? ''))
    return false;
  if (filter.failureClasses?.length && !filter.failureClasses.includes(letter.reason.failureClass ?? 'unknown'))
    return false;
  if (filter.httpStatuses?.length && !filter.httpStatuses.includes(letter.reason.httpStatus ?? -1)) return false;
  if (filter.olderThanMs !== undefined) {
    const failedAt = Date.parse(failedAtOf(letter) ?? '');
    if (Number.isNaN(failedAt) || nowMs - failedAt < filter.olderThanMs) return false;
  }
  return true;
}

export function isUnfiltered(filter: ReplayFilter | undefined): boolean {
  return (
    !filter ||
    (!filter.subscriptions?.length &&
      !filter.failureClasses?.length &&
      !filter.httpStatuses?.length &&
      filter.olderThanMs === undefined)
  );
}

/**
 * The body put back on the main queue: the same request, every field kept, replayCount one higher and stamped
 * with the run's id (the sync Lambda dead-letters bodies untouched, so a letter that fails again carries both).
 */
export function replayBody(
  letter: DeadLetter,
  rule: SubscriptionIdRule,
  runId: string,
): { body: string; replayCount: number } {
  if (letter.account) {
    // Any path-safe key, as the letter was read (dead-letters.ts): the fan-out checks the stack's own rule.
    const replayCount = (letter.account.replayCount ?? 0) + 1;
    return {
      body: serializeQueueMessage(
        createAccountRequest({ ...letter.account, replayCount, replayRunId: runId }, { numberPattern: /^/ }),
      ),
      replayCount,
    };
  }
  if (!letter.request) throw new Error(`message ${letter.messageId} has no readable sync request`);
  const replayCount = (letter.request.replayCount ?? 0) + 1;
  return {
    body: serializeSyncRequest(createSyncRequest({ ...letter.request, replayCount, replayRunId: runId }, rule)),
    replayCount,
  };
}

/** Sortable by time and unique enough for one operator's runs: r-20261130T041500Z-1a2b3c. */
export function newReplayRunId(nowMs: number): string {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}
