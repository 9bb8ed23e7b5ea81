import type { SyncOutcome } from '../../limio';
import type { FailureClass } from '../../shared/dead-letter';
import { logKeys, firstSentTimestampOf, visibilityOf, type QueuedMessage, type Verdict } from '../batch-messages';
import type { SyncOutcomeEvent } from '../outcome-event';
import { budgetStart, decideRetry, syncFailureOf } from '../retry-budget';
import type { SyncContext } from '../sync-context';
import { deadLetter } from './dead-lettered';
import { setVisibility } from './visibility';

/** How one message of a failed sync is reported (OutcomeReport.add). */
export interface Reported {
  readonly outcome: SyncOutcomeEvent['outcome'];
  readonly failureClass?: FailureClass;
  readonly visibilitySeconds?: number | undefined;
}

/**
 * A retryable failure: the message backs off (jittered, within its retry budget), or goes to the DLQ once the
 * budget or MAX_ATTEMPTS is spent.
 */
export async function backOffOrDeadLetter(
  sync: SyncContext,
  message: QueuedMessage,
  outcome: Extract<SyncOutcome, { class: 'retryable' | 'refresh' }>,
): Promise<{ verdict: Verdict; reported: Reported }> {
  // The breaker's open intervals (cached) are what the budget does not count.
  const breakerState = await sync.breaker.gate.current();
  const decision = decideRetry({
    failure: syncFailureOf(outcome),
    receiveCount: message.receiveCount,
    receivedAt: budgetStart(message.request, firstSentTimestampOf(message.record)),
    sentAt: firstSentTimestampOf(message.record),
    now: sync.now(),
    openIntervals: breakerState.openIntervals,
    settings: sync.breaker.retry,
    random: sync.random,
  });
  if (decision.action === 'dead-letter') {
    sync.logger.error('retry budget spent: dead-lettering it', {
      ...logKeys(message),
      httpStatus: outcome.httpStatus,
      error: decision.reason,
    });
    const verdict = await deadLetter(sync, message, decision.failureClass, decision.reason, outcome.httpStatus);
    return {
      verdict,
      reported: verdict.handled
        ? { outcome: 'dead-lettered', failureClass: decision.failureClass }
        : { outcome: 'retry', visibilitySeconds: visibilityOf(verdict) },
    };
  }
  const visibilitySeconds = await setVisibility(sync, message, decision.visibilitySeconds, 'backoff');
  sync.logger.warn('sync failed, will retry', {
    ...logKeys(message),
    httpStatus: outcome.httpStatus,
    error: outcome.error,
    visibilitySeconds,
    remainingBudgetSeconds: Math.round(decision.remainingBudgetSeconds),
  });
  return { verdict: { handled: false, reason: outcome.error }, reported: { outcome: 'retry', visibilitySeconds } };
}
