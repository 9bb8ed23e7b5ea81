import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ReceivedMessage } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { withinVisibilityCeiling } from '../visibility-ceiling';

/**
 * Sets how long a message stays invisible, within what SQS allows since its receive (withinVisibilityCeiling).
 * The seconds set, or undefined when SQS refused: then the message comes back after the queue's visibility
 * timeout, one more receive, so a refusal is logged as an error and counted (visibilityRefused), never dropped.
 */
export async function setVisibility(
  sync: SyncContext,
  message: ReceivedMessage,
  requestedSeconds: number,
  purpose: string,
): Promise<number | undefined> {
  const visibilitySeconds = withinVisibilityCeiling(requestedSeconds, message.receivedAtMs, sync.now());
  const answer = await sync.changeVisibility({ receiptHandle: message.record.receiptHandle, visibilitySeconds });
  if (answer.ok) return visibilitySeconds;
  sync.metrics.addMetric(SYNC_METRICS.visibilityRefused, MetricUnit.Count, 1);
  sync.logger.error(
    `SQS refused the ${purpose} visibility: the message comes back after the queue's visibility timeout`,
    {
      messageId: message.record.messageId,
      attempt: message.receiveCount,
      visibilitySeconds,
      errorCode: answer.errorCode,
      error: answer.error,
    },
  );
  return undefined;
}
