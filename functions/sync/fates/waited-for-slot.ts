import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { enqueueEntries } from '../../shared/enqueue';
import {
  FIRST_SENT_AT_ATTRIBUTE,
  logKeys,
  firstSentTimestampOf,
  type QueuedMessage,
  type Verdicts,
} from '../batch-messages';
import { queueRetentionNear } from '../retry-budget';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { deadLetter, reportDeadLetterAttempt } from './dead-lettered';
import { reportUntried } from './untried-report';
import { setVisibility } from './visibility';

/**
 * Back in 1-2 s. The wait for a slot has already spaced this message's receives, and while it is away other
 * containers may have slots free: at the end of a drain they idle until the last returns come back, so every
 * second of this delay is a second added to the drain (5 s of 20 in a bench fleet of 8). Spread over two seconds
 * so that the returns do not arrive as one.
 */
const SLOT_WAIT_RETURN_SECONDS = { min: 1, max: 2 } as const;

/** Kept back from the invocation's time for the batch response after the copies are sent. */
const RESPONSE_RESERVE_MS = 1_000;

const SLOT_WAIT_ERROR = 'not attempted: no Limio slot within the wait bound';

/** How a message that got no Limio slot goes back to the queue. */
export type SlotWaitReturn =
  /** The same message, invisible for a while: one more receive. */
  | { readonly kind: 'visibility' }
  /** A fresh copy of it (receive count 1), the original deleted once SQS has taken the copy. */
  | { readonly kind: 'copy' }
  /** To the DLQ with this reason: waiting longer would outlast the queue's retention. */
  | { readonly kind: 'dead-letter'; readonly reason: string };

/**
 * Every return by visibility is one more receive, and the receives are what SQS's redrive (MAX_ATTEMPTS + 1) and
 * the retry rules (MAX_ATTEMPTS, the backoff's exponent) count: a message that waited for slots often enough would
 * be moved to the DLQ by SQS with no reason, or dead-lettered after its first Limio failure. So only a message on
 * its first receive goes back by visibility (cheap, same message); one received before goes back as a fresh copy,
 * which starts counting receives again. The budget by time is in the body (receivedAt) and the copy carries its
 * chain's first SentTimestamp (FIRST_SENT_AT_ATTRIBUTE), so neither the retry budget nor the queue's retention
 * starts again: a chain of waits that nears the retention is dead-lettered with that reason instead.
 */
export function slotWaitReturn(
  message: { readonly receiveCount: number; readonly sentAtMs: number | undefined },
  nowMs: number,
): SlotWaitReturn {
  const retentionNear = queueRetentionNear(message.sentAtMs, nowMs);
  if (retentionNear !== undefined) return { kind: 'dead-letter', reason: `${retentionNear}; ${SLOT_WAIT_ERROR}` };
  return message.receiveCount <= 1 ? { kind: 'visibility' } : { kind: 'copy' };
}

/**
 * Waiting is not failing: no Limio slot came within the message's wait bound (the adaptive limit is holding
 * Limio at its capacity). Nothing was sent to Limio, so no retry budget is spent and the breaker hears nothing;
 * no ledger claim was made (it is made only once a slot is had), so nothing holds the subscription. Each message
 * goes back as slotWaitReturn decides; a copy SQS did not take leaves the original to go back by visibility.
 */
export async function returnForSlot(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
  context?: Context,
): Promise<Verdicts> {
  const { min, max } = SLOT_WAIT_RETURN_SECONDS;
  const returnSeconds = () => min + Math.floor(sync.random() * (max - min + 1));
  sync.metrics.addMetric(SYNC_METRICS.syncSlotWaits, MetricUnit.Count, messages.length);
  const verdicts: Verdicts = new Map();
  const returns = messages.map((message) => ({
    message,
    how: slotWaitReturn(
      { receiveCount: message.receiveCount, sentAtMs: firstSentTimestampOf(message.record) },
      sync.now(),
    ),
  }));

  const copied = await sendCopies(
    sync,
    returns.filter(({ how }) => how.kind === 'copy').map(({ message }) => message),
    returnSeconds,
    context,
  );
  const returned: QueuedMessage[] = [];
  let delay: number | undefined;
  await Promise.all(
    returns.map(async ({ message, how }) => {
      if (how.kind === 'dead-letter') {
        sync.logger.error('queue retention near while waiting for a Limio slot: dead-lettering it', {
          ...logKeys(message),
          error: how.reason,
        });
        const verdict = await deadLetter(sync, message, 'exhausted', how.reason);
        reportDeadLetterAttempt(
          sync,
          subscriptionId,
          message.record,
          message.receiveCount,
          verdict,
          'exhausted',
          how.reason,
        );
        verdicts.set(message.record.messageId, verdict);
        return;
      }
      returned.push(message);
      const copySeconds = copied.get(message.record.messageId);
      if (copySeconds !== undefined) {
        sync.logger.info('waited for a Limio slot: back in the queue as a fresh copy', {
          ...logKeys(message),
          delaySeconds: copySeconds,
        });
        verdicts.set(message.record.messageId, { handled: true });
        delay ??= copySeconds;
        return;
      }
      const visibilitySeconds = await setVisibility(sync, message, returnSeconds(), 'slot wait');
      sync.logger.info('waited for a Limio slot: back in the queue', { ...logKeys(message), visibilitySeconds });
      verdicts.set(message.record.messageId, {
        handled: false,
        reason: SLOT_WAIT_ERROR,
        ...(visibilitySeconds !== undefined && { visibilitySeconds }),
      });
      delay ??= visibilitySeconds;
    }),
  );
  if (returned.length > 0) reportUntried(sync, subscriptionId, returned, SLOT_WAIT_ERROR, delay);
  return verdicts;
}

/**
 * Queues a copy of each message (its body untouched, delayed 1-2 s) through the shared producer: the delay of
 * each one SQS took, by the original's message id. The rest stay as they are, so nothing is lost when SQS refuses.
 */
async function sendCopies(
  sync: SyncContext,
  messages: readonly QueuedMessage[],
  returnSeconds: () => number,
  context: Context | undefined,
): Promise<Map<string, number>> {
  const copied = new Map<string, number>();
  if (messages.length === 0) return copied;
  const entries = messages.map((message) => ({
    key: message.record.messageId,
    body: message.record.body,
    delaySeconds: returnSeconds(),
    attributes: {
      [FIRST_SENT_AT_ATTRIBUTE]: {
        DataType: 'Number',
        StringValue: String(firstSentTimestampOf(message.record) ?? sync.now()),
      },
    },
  }));
  const deadline =
    typeof context?.getRemainingTimeInMillis === 'function'
      ? sync.now() + Math.max(0, context.getRemainingTimeInMillis() - RESPONSE_RESERVE_MS)
      : undefined;
  const result = await enqueueEntries(sync.sqs, entries, {
    queueUrl: sync.config.queueUrl,
    delaySeconds: 0,
    now: sync.now,
    random: sync.random,
    ...(deadline !== undefined && { deadline }),
  });
  const notQueued = new Set(result.ok ? [] : result.notQueued);
  if (!result.ok) {
    sync.metrics.addMetric(SYNC_METRICS.slotWaitCopiesRefused, MetricUnit.Count, notQueued.size);
    sync.logger.error('SQS did not take the copies of slot-waiting messages: the originals go back by visibility', {
      messageIds: [...notQueued],
      error: result.error,
    });
  }
  for (const entry of entries) if (!notQueued.has(entry.key)) copied.set(entry.key, entry.delaySeconds);
  return copied;
}
