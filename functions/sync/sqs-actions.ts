import { ChangeMessageVisibilityBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deadLetterAttributes, type DeadLetterReason } from '../shared/dead-letter';

/** Puts the original body, untouched, on the DLQ with why it died; the caller then lets the original go. */
export async function sendToDeadLetterQueue(
  sqs: SQSClient,
  deadLetterQueueUrl: string,
  body: string,
  reason: DeadLetterReason,
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: deadLetterQueueUrl,
      MessageBody: body,
      MessageAttributes: deadLetterAttributes(reason),
    }),
  );
}

/** SQS takes at most this many entries per ChangeMessageVisibilityBatch. */
const SQS_MAX_BATCH_ENTRIES = 10;

/** Backoff, hold or postponement: the message stays invisible this long after the invocation reports it failed. */
export interface VisibilityChange {
  readonly receiptHandle: string;
  readonly visibilitySeconds: number;
}

/** What SQS answered for one change: set, or refused (a Failed entry, or the whole call failed). */
export type VisibilityAnswer =
  | { readonly ok: true }
  | { readonly ok: false; readonly errorCode?: string; readonly error: string };

/**
 * Sets every change with one ChangeMessageVisibilityBatch per SQS_MAX_BATCH_ENTRIES (SQS bills and throttles per
 * request, not per entry), and answers for each change in order. Never throws: a call that failed refuses all
 * its entries, and an entry SQS neither lists as Successful nor as Failed counts as refused.
 */
export async function delayRedeliveries(
  sqs: SQSClient,
  queueUrl: string,
  changes: readonly VisibilityChange[],
): Promise<VisibilityAnswer[]> {
  const chunks: VisibilityChange[][] = [];
  for (let start = 0; start < changes.length; start += SQS_MAX_BATCH_ENTRIES)
    chunks.push(changes.slice(start, start + SQS_MAX_BATCH_ENTRIES));
  return (await Promise.all(chunks.map((chunk) => changeVisibilityBatch(sqs, queueUrl, chunk)))).flat();
}

async function changeVisibilityBatch(
  sqs: SQSClient,
  queueUrl: string,
  chunk: readonly VisibilityChange[],
): Promise<VisibilityAnswer[]> {
  try {
    const answer = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((change, index) => ({
          Id: String(index),
          ReceiptHandle: change.receiptHandle,
          VisibilityTimeout: change.visibilitySeconds,
        })),
      }),
    );
    const succeeded = new Set((answer.Successful ?? []).map((entry) => entry.Id));
    const failed = new Map((answer.Failed ?? []).map((entry) => [entry.Id, entry]));
    return chunk.map((_, index): VisibilityAnswer => {
      const failure = failed.get(String(index));
      if (failure !== undefined)
        return {
          ok: false,
          ...(failure.Code !== undefined && { errorCode: failure.Code }),
          error: failure.Message ?? failure.Code ?? 'refused',
        };
      return succeeded.has(String(index)) ? { ok: true } : { ok: false, error: 'SQS did not answer for this entry' };
    });
  } catch (error) {
    return chunk.map(() => refusedBy(error));
  }
}

function refusedBy(error: unknown): VisibilityAnswer {
  return { ok: false, errorCode: (error as Error)?.name, error: (error as Error)?.message ?? String(error) };
}

/**
 * Gathers the visibility changes asked for in one turn of the event loop into one delayRedeliveries call: the
 * holds a batch decides from its ledger read (or an open breaker) all come in the same turn, and so do the
 * backoffs after one Limio answer. Changes asked for later go in the next call; none waits longer than a turn.
 */
export function createVisibilityBatcher(send: (changes: readonly VisibilityChange[]) => Promise<VisibilityAnswer[]>) {
  let pending: Array<{ change: VisibilityChange; resolve: (answer: VisibilityAnswer) => void }> = [];
  const flush = () => {
    const batch = pending;
    pending = [];
    void send(batch.map((entry) => entry.change)).then(
      (answers) =>
        batch.forEach((entry, index) =>
          entry.resolve(answers[index] ?? { ok: false, error: 'SQS did not answer for this entry' }),
        ),
      (error: unknown) => batch.forEach((entry) => entry.resolve(refusedBy(error))),
    );
  };
  return (change: VisibilityChange): Promise<VisibilityAnswer> =>
    new Promise((resolve) => {
      if (pending.length === 0) setImmediate(flush);
      pending.push({ change, resolve });
    });
}
