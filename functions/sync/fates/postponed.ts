import { logKeys, type QueuedMessage, type Verdicts } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { reportUntried } from './untried-report';
import { setVisibility } from './visibility';

/**
 * Not attempted: a Lambda timeout would put back the whole batch, synced messages included, after the full
 * visibility timeout. These come back in a second instead, in another invocation.
 */
export async function postpone(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
): Promise<Verdicts> {
  const error = 'not attempted: the invocation was running out of time';
  const verdicts: Verdicts = new Map();
  await Promise.all(
    messages.map(async (message) => {
      sync.logger.warn('sync postponed', { ...logKeys(message), error });
      await setVisibility(sync, message, 1, 'postponed');
      verdicts.set(message.record.messageId, { handled: false, reason: error });
    }),
  );
  reportUntried(sync, subscriptionId, messages, error, 1);
  return verdicts;
}
