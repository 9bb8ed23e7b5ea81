import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import type { DeadLetter } from './dead-letters';
import { replayBody } from './replay-filter';
import type { ReplayedMessage, ReplayFailure, ReplayOptions } from './replay-types';

/** Sends one chunk, deletes what was sent; returns the first send error, if any. */
export async function sendThenDelete(
  sqs: SQSClient,
  options: ReplayOptions,
  chunk: readonly DeadLetter[],
  rule: SubscriptionIdRule,
  runId: string,
  replayed: ReplayedMessage[],
  failed: ReplayFailure[],
  deleted: (letter: DeadLetter) => void,
): Promise<string | undefined> {
  const { DeleteMessageBatchCommand, SendMessageBatchCommand } = await import('@aws-sdk/client-sqs');
  const bodies = chunk.map((letter) => replayBody(letter, rule, runId));
  let sentIndexes: number[];
  let firstError: string | undefined;
  try {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.mainQueueUrl,
        Entries: chunk.map((_, index) => ({ Id: String(index), MessageBody: bodies[index].body })),
      }),
    );
    sentIndexes = (result.Successful ?? []).map((entry) => Number(entry.Id));
    for (const failure of result.Failed ?? []) {
      const letter = chunk[Number(failure.Id)];
      firstError ??= `${failure.Code}: ${failure.Message ?? ''}`.trim();
      failed.push({
        messageId: letter.messageId,
        ...keyOf(letter),
        stage: 'send',
        error: `${failure.Code} ${failure.Message ?? ''}`.trim(),
      });
    }
  } catch (error) {
    firstError = describeError(error);
    for (const letter of chunk) {
      failed.push({ messageId: letter.messageId, ...keyOf(letter), stage: 'send', error: firstError });
    }
    return firstError;
  }
  if (sentIndexes.length === 0) return firstError;

  const deleteFailures = new Map<number, string>();
  try {
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.deadLetterQueueUrl,
        Entries: sentIndexes.map((index) => ({ Id: String(index), ReceiptHandle: chunk[index].receiptHandle })),
      }),
    );
    for (const failure of result.Failed ?? [])
      deleteFailures.set(Number(failure.Id), `${failure.Code} ${failure.Message ?? ''}`.trim());
  } catch (error) {
    for (const index of sentIndexes) deleteFailures.set(index, describeError(error));
  }
  for (const index of sentIndexes) {
    const letter = chunk[index];
    replayed.push({ messageId: letter.messageId, ...keyOf(letter), replayCount: bodies[index].replayCount });
    const deleteError = deleteFailures.get(index);
    if (deleteError === undefined) deleted(letter);
    else {
      failed.push({
        messageId: letter.messageId,
        ...keyOf(letter),
        stage: 'delete',
        error: `sent to ${letter.account ? 'the fan-out queue' : 'the main queue'} but still in the DLQ: ${deleteError}`,
      });
    }
  }
  return firstError;
}

/** What a letter is about: its subscription, or its account. */
export function keyOf(letter: DeadLetter): { subscriptionId?: string; accountKey?: string } {
  if (letter.account) return { accountKey: letter.account.accountKey };
  return letter.request ? { subscriptionId: letter.request.subscriptionId } : {};
}

function describeError(error: unknown): string {
  const name = (error as { name?: string }).name;
  const message = (error as Error).message ?? String(error);
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

/** Spreads sends so that at most `ratePerSecond` messages go out per second on average. */
export function pacer(ratePerSecond: number | undefined, now: () => number, sleep: (ms: number) => Promise<void>) {
  let nextAllowedAt = 0;
  return async (count: number) => {
    if (!ratePerSecond) return;
    const wait = nextAllowedAt - now();
    if (wait > 0) await sleep(wait);
    nextAllowedAt = Math.max(nextAllowedAt, now()) + (count * 1000) / ratePerSecond;
  };
}
