import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { BreakerState } from '../../breaker/breaker-state';
import { logKeys, firstSentTimestampOf, type QueuedMessage, type Verdict, type Verdicts } from '../batch-messages';
import { holdVisibilitySeconds, queueRetentionNear } from '../retry-budget';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { deadLetter, reportDeadLetterAttempt } from './dead-lettered';
import { reportUntried } from './untried-report';
import { setVisibility } from './visibility';

/**
 * The breaker is open: the messages go back untried, without a Limio call, for a hold that starts at
 * BREAKER_HOLD_SECONDS and doubles with each receive (see holdVisibilitySeconds). Nothing is dead-lettered here,
 * whatever the budget: the open time does not count against it. In AWS this happens only in the minute before
 * the probe disables the event source mapping (or for as long as it fails to); locally the poller pauses.
 */
export async function holdForBreaker(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
  breakerState: BreakerState,
): Promise<Verdicts> {
  const error = `held: the circuit breaker is open (${breakerState.reason})`;
  const openForSeconds = Math.max(0, (sync.now() - breakerState.since) / 1000);
  // Each message at once, so the holds share one ChangeMessageVisibilityBatch.
  const fates = await Promise.all(
    messages.map((message) => holdOne(sync, subscriptionId, message, error, openForSeconds)),
  );
  const verdicts: Verdicts = new Map();
  let longest: number | undefined;
  const held: QueuedMessage[] = [];
  messages.forEach((message, index) => {
    const fate = fates[index]!;
    verdicts.set(message.record.messageId, fate.verdict);
    if (!('heldFor' in fate)) return;
    held.push(message);
    if (fate.heldFor !== undefined) longest = Math.max(longest ?? 0, fate.heldFor);
  });
  if (held.length > 0) reportUntried(sync, subscriptionId, held, error, longest, 'breaker');
  return verdicts;
}

/** Held (`heldFor`: the seconds set, undefined when SQS refused), or dead-lettered before SQS would lose it. */
async function holdOne(
  sync: SyncContext,
  subscriptionId: string,
  message: QueuedMessage,
  error: string,
  openForSeconds: number,
): Promise<{ verdict: Verdict; heldFor?: number | undefined }> {
  const { retry } = sync.breaker;
  // Open time does not spend the budget but does not stop SQS's retention either: dead-letter it in time.
  const retentionNear = queueRetentionNear(firstSentTimestampOf(message.record), sync.now());
  if (retentionNear !== undefined) {
    const reason = `${retentionNear}; ${error}`;
    sync.logger.error('queue retention near: dead-lettering a held message', { ...logKeys(message), error: reason });
    const verdict = await deadLetter(sync, message, 'exhausted', reason);
    reportDeadLetterAttempt(sync, subscriptionId, message.record, message.receiveCount, verdict, 'exhausted', reason);
    return { verdict };
  }
  // Holds that SQS keeps refusing bring the message back every visibility timeout; before SQS's redrive moves
  // it to the DLQ with no reason (one receive after MAX_ATTEMPTS), it goes there with one.
  if (message.receiveCount >= retry.maxAttempts) {
    const reason = `received ${message.receiveCount} times (MAX_ATTEMPTS ${retry.maxAttempts}) while the breaker was open, dead-lettered before SQS's redrive moves it without a reason; ${error}`;
    sync.logger.error('held message received MAX_ATTEMPTS times: dead-lettering it', {
      ...logKeys(message),
      error: reason,
    });
    const verdict = await deadLetter(sync, message, 'exhausted', reason);
    reportDeadLetterAttempt(sync, subscriptionId, message.record, message.receiveCount, verdict, 'exhausted', reason);
    return { verdict };
  }
  const wanted = holdVisibilitySeconds({
    settings: retry,
    receiveCount: message.receiveCount,
    openForSeconds,
    random: sync.random,
  });
  const visibilitySeconds = await setVisibility(sync, message, wanted, 'hold');
  sync.logger.info('sync held: breaker open', { ...logKeys(message), visibilitySeconds });
  sync.metrics.addMetric(SYNC_METRICS.held, MetricUnit.Count, 1);
  return { verdict: { handled: false, reason: error }, heldFor: visibilitySeconds };
}
