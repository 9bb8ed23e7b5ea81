import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logKeys, type QueuedMessage, type Verdicts } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { reportUntried } from './untried-report';
import { setVisibility } from './visibility';

/** Back in 1-5 s: soon enough to take a slot freed meanwhile, spread so that the returns do not arrive as one. */
const SLOT_WAIT_RETURN_SECONDS = { min: 1, max: 5 } as const;

/**
 * Waiting is not failing: no Limio slot came within the message's wait bound (the adaptive limit is holding
 * Limio at its capacity). Nothing was sent to Limio, so no retry budget is spent and the breaker hears nothing;
 * no ledger claim was made (it is made only once a slot is had), so nothing holds the subscription.
 */
export async function returnForSlot(sync: SyncContext, subscriptionId: string, messages: readonly QueuedMessage[]): Promise<Verdicts> {
  const error = 'not attempted: no Limio slot within the wait bound';
  const { min, max } = SLOT_WAIT_RETURN_SECONDS;
  const visibilitySeconds = min + Math.floor(sync.random() * (max - min + 1));
  sync.metrics.addMetric(SYNC_METRICS.syncSlotWaits, MetricUnit.Count, messages.length);
  const verdicts: Verdicts = new Map();
  const set = await Promise.all(
    messages.map(async (message) => {
      sync.logger.info('waited for a Limio slot: back in the queue', { ...logKeys(message), visibilitySeconds });
      const seconds = await setVisibility(sync, message, visibilitySeconds, 'slot wait');
      verdicts.set(message.record.messageId, { handled: false, reason: error, ...(seconds !== undefined && { visibilitySeconds: seconds }) });
      return seconds;
    }),
  );
  reportUntried(sync, subscriptionId, messages, error, set.find((seconds) => seconds !== undefined));
  return verdicts;
}
