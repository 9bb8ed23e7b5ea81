import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { attemptOf, logKeys, type QueuedMessage, type Verdicts } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';

/** Messages a recorded successful sync covers: Limio already has their change. Done without a Limio call. */
export function doneAsCovered(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
  syncStartedAt: number | undefined,
): Verdicts {
  const covering = syncStartedAt === undefined ? {} : { coveredBySyncStartedAt: new Date(syncStartedAt).toISOString() };
  for (const message of messages) {
    sync.logger.info('covered by a sync that started after it arrived: done without a Limio call', {
      ...logKeys(message),
      ...covering,
    });
    sync.metrics.addMetric(SYNC_METRICS.coveredByLedger, MetricUnit.Count, 1);
  }
  sync.observer?.onSyncOutcome({
    subscriptionId,
    messageIds: messages.map((message) => message.record.messageId),
    outcome: 'synced',
    ...covering,
    latencyMs: 0,
    attempt: attemptOf(messages),
  });
  return new Map(messages.map((message) => [message.record.messageId, { handled: true }]));
}
