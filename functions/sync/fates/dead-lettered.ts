import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSRecord } from 'aws-lambda';
import type { FailureClass } from '../../shared/dead-letter';
import {
  looseSubscriptionId,
  receiveCountOf,
  visibilityOf,
  type ReceivedMessage,
  type Verdict,
} from '../batch-messages';
import { deadLetterRetrySeconds } from '../retry-budget';
import { sendToDeadLetterQueue } from '../sqs-actions';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { setVisibility } from './visibility';

/**
 * Puts the message on the DLQ with why it died: handled, so the event source deletes it from the main queue. If
 * the DLQ refuses it, it stays on the main queue with a long backoff instead.
 */
export async function deadLetter(
  sync: SyncContext,
  message: ReceivedMessage,
  failureClass: FailureClass,
  error: string,
  httpStatus?: number,
): Promise<Verdict> {
  try {
    await sendToDeadLetterQueue(sync.sqs, sync.config.deadLetterQueueUrl, message.record.body, {
      failureClass,
      error,
      httpStatus,
      failedAt: new Date(sync.now()).toISOString(),
      attempts: message.receiveCount,
    });
    sync.metrics.addMetric(SYNC_METRICS.deadLettered, MetricUnit.Count, 1);
    return { handled: true };
  } catch (sendError) {
    // Not on the DLQ, so it must stay on the main queue: SQS redelivers it and its redrive is the backstop. A
    // long backoff keeps it from coming back after the queue's visibility timeout to call Limio again.
    const visibilitySeconds = await setVisibility(
      sync,
      message,
      deadLetterRetrySeconds(sync.breaker.retry, sync.random),
      'dead-letter retry',
    );
    sync.logger.error('could not send the message to the DLQ; leaving it on the queue', {
      messageId: message.record.messageId,
      failureClass,
      error: (sendError as Error).message,
      ...(visibilitySeconds !== undefined && { visibilitySeconds }),
    });
    return {
      handled: false,
      reason: `dead-lettering failed: ${(sendError as Error).message}`,
      ...(visibilitySeconds !== undefined && { visibilitySeconds }),
    };
  }
}

/** A message no sync can be made of (unreadable, or no valid subscription): to the DLQ without a Limio call. */
export async function deadLetterPoison(
  sync: SyncContext,
  record: SQSRecord,
  reason: string,
  receivedAtMs: number,
): Promise<Verdict> {
  const receiveCount = receiveCountOf(record);
  const subscriptionId = looseSubscriptionId(record.body);
  sync.logger.error('poison message: dead-lettering it without a sync', {
    messageId: record.messageId,
    subscriptionId,
    error: reason,
  });
  const verdict = await deadLetter(sync, { record, receiveCount, receivedAtMs }, 'poison', reason);
  reportDeadLetterAttempt(sync, subscriptionId, record, receiveCount, verdict, 'poison', reason);
  return verdict;
}

/** One message sent to the DLQ without a Limio call: dead-lettered, or back on the queue if the DLQ refused it. */
export function reportDeadLetterAttempt(
  sync: SyncContext,
  subscriptionId: string | undefined,
  record: SQSRecord,
  receiveCount: number,
  verdict: Verdict,
  failureClass: FailureClass,
  reason: string,
): void {
  const visibilitySeconds = visibilityOf(verdict);
  sync.observer?.onSyncOutcome({
    ...(subscriptionId !== undefined && { subscriptionId }),
    messageIds: [record.messageId],
    ...(verdict.handled
      ? { outcome: 'dead-lettered', failureClass, error: reason }
      : { outcome: 'retry', error: verdict.reason, ...(visibilitySeconds !== undefined && { visibilitySeconds }) }),
    latencyMs: 0,
    attempt: receiveCount,
  });
}
