import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { holdVisibilitySeconds, type LedgerFate } from '../../ledger/ledger-fate';
import { logKeys, type QueuedMessage, type Verdicts } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { reportUntried } from './untried-report';
import { setVisibility } from './visibility';

export type LedgerHold = { readonly message: QueuedMessage; readonly fate: Extract<LedgerFate, { kind: 'hold' }> };

/**
 * Put back by the ledger, each until its own time, to share the call after a cooldown or to be covered by a
 * sync in flight. Not a failure: the breaker never hears of it and the retry budget is not touched (receives
 * spent on holds are bounded by ledgerHoldReceiveLimit).
 */
export async function holdForLedger(
  sync: SyncContext,
  subscriptionId: string,
  held: readonly LedgerHold[],
): Promise<Verdicts> {
  const verdicts: Verdicts = new Map();
  let longest: number | undefined;
  const error = held.some(({ fate }) => fate.reason === 'cooldown')
    ? 'held: a sync of this subscription started less than SYNC_COOLDOWN_SECONDS ago'
    : 'held: a sync of this subscription is in flight';
  // Asked for all at once, so they share one ChangeMessageVisibilityBatch.
  const set = await Promise.all(
    held.map(({ message, fate }) =>
      setVisibility(sync, message, holdVisibilitySeconds(fate.untilMs, sync.now()), 'ledger hold'),
    ),
  );
  held.forEach(({ message, fate }, index) => {
    const visibilitySeconds = set[index];
    if (visibilitySeconds !== undefined) longest = Math.max(longest ?? 0, visibilitySeconds);
    sync.logger.info('sync held by the ledger', { ...logKeys(message), reason: fate.reason, visibilitySeconds });
    sync.metrics.addMetric(SYNC_METRICS.heldForCooldown, MetricUnit.Count, 1);
    verdicts.set(message.record.messageId, { handled: false, reason: error });
  });
  reportUntried(
    sync,
    subscriptionId,
    held.map((entry) => entry.message),
    error,
    longest,
    'ledger',
  );
  return verdicts;
}
