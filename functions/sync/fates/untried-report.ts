import { attemptOf, type QueuedMessage } from '../batch-messages';
import type { SyncContext } from '../sync-context';

/** Postponed or held: one retry event for the subscription's messages, none of which reached Limio. */
export function reportUntried(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
  error: string,
  visibilitySeconds: number | undefined,
  heldBy?: 'ledger' | 'breaker',
): void {
  sync.observer?.onSyncOutcome({
    subscriptionId,
    messageIds: messages.map((message) => message.record.messageId),
    outcome: 'retry',
    error,
    latencyMs: 0,
    attempt: attemptOf(messages),
    ...(visibilitySeconds !== undefined && { visibilitySeconds }),
    ...(heldBy !== undefined && { heldBy }),
  });
}
