import {
  SendMessageBatchCommand,
  type MessageAttributeValue,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { messageKey, serializeQueueMessage, type QueueMessage } from './queue-message';

/** SQS's limit per SendMessageBatch call. */
const SQS_BATCH_LIMIT = 10;

export type SqsSender = Pick<SQSClient, 'send'>;

export interface EnqueueOptions {
  readonly queueUrl: string;
  readonly delaySeconds: number;
  /** Calls per chunk, the first included (the SDK's own retries of a failed call come on top). */
  readonly maxAttempts?: number;
  readonly baseBackoffMs?: number;
  /** No new attempt starts after this time (ms since epoch): Zuora must get an answer before its timeout. */
  readonly deadline?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export type EnqueueResult =
  | { readonly ok: true; readonly calls: number }
  | { readonly ok: false; readonly calls: number; readonly notQueued: readonly string[]; readonly error: string };

const ENQUEUE_DEFAULTS = { maxAttempts: 3, baseBackoffMs: 100 } as const;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The one producer of queue messages, for every Lambda and the CLI: the callout Lambda (subscription and account
 * messages), the sweep, the fan-out, the sync Lambda's copies of slot-waiting messages. Puts every message on the queue in batches of ten. Entries a batch call reports as failed (SQS can fail some
 * entries of a batch and take the rest) are sent again after a short backoff, as are whole calls that threw.
 * Succeeds only when every message is on the queue (the callout Lambda answers Zuora 503 otherwise); `notQueued`
 * names the others by their subscription id or account key.
 */
export async function enqueueMessages(
  sqs: SqsSender,
  requests: readonly QueueMessage[],
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  return enqueueEntries(
    sqs,
    requests.map((request) => ({ key: messageKey(request), body: serializeQueueMessage(request) })),
    options,
  );
}

/** One message as it goes on the queue: a body already written (a copy keeps its original's bytes). */
export interface QueueEntry {
  /** Names the message in `notQueued`. */
  readonly key: string;
  readonly body: string;
  /** This entry's delay instead of the options' one. */
  readonly delaySeconds?: number;
  readonly attributes?: Record<string, MessageAttributeValue>;
}

/** enqueueMessages for bodies already written, with the same batching, retries and answer. */
export async function enqueueEntries(
  sqs: SqsSender,
  entries: readonly QueueEntry[],
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  const chunks: QueueEntry[][] = [];
  for (let start = 0; start < entries.length; start += SQS_BATCH_LIMIT)
    chunks.push(entries.slice(start, start + SQS_BATCH_LIMIT));
  const results = await Promise.all(chunks.map((chunk) => enqueueChunk(sqs, chunk, options)));
  const calls = results.reduce((sum, result) => sum + result.calls, 0);
  const failed = results.filter((result): result is Extract<EnqueueResult, { ok: false }> => !result.ok);
  if (failed.length === 0) return { ok: true, calls };
  return { ok: false, calls, notQueued: failed.flatMap((result) => result.notQueued), error: failed[0]!.error };
}

async function enqueueChunk(
  sqs: SqsSender,
  chunk: readonly QueueEntry[],
  options: EnqueueOptions,
): Promise<EnqueueResult> {
  const maxAttempts = options.maxAttempts ?? ENQUEUE_DEFAULTS.maxAttempts;
  const baseBackoffMs = options.baseBackoffMs ?? ENQUEUE_DEFAULTS.baseBackoffMs;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;

  // Entry ids are positions in the chunk: unique within a call, which is all SQS asks.
  let pending = new Map<string, QueueEntry>(chunk.map((entry, index) => [`m${index}`, entry]));
  const permanentlyFailed: string[] = [];
  let lastError = '';
  let calls = 0;

  for (let attempt = 1; attempt <= maxAttempts && pending.size > 0; attempt++) {
    if (attempt > 1) {
      // Exponential backoff with jitter, so concurrent callouts do not retry in step.
      const backoff = baseBackoffMs * 2 ** (attempt - 2) * (0.5 + random() / 2);
      if (options.deadline !== undefined && now() + backoff >= options.deadline) break;
      await sleep(backoff);
    }
    const entries: SendMessageBatchRequestEntry[] = [...pending].map(([id, entry]) => {
      const delaySeconds = entry.delaySeconds ?? options.delaySeconds;
      return {
        Id: id,
        MessageBody: entry.body,
        ...(delaySeconds > 0 && { DelaySeconds: delaySeconds }),
        ...(entry.attributes !== undefined && { MessageAttributes: entry.attributes }),
      };
    });
    calls++;
    try {
      // The call itself is cut off at the deadline too, so a hanging SQS cannot outlast the function timeout.
      const abortSignal =
        options.deadline === undefined ? undefined : AbortSignal.timeout(Math.max(1, options.deadline - now()));
      const command = new SendMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: entries });
      const output = await (abortSignal === undefined ? sqs.send(command) : sqs.send(command, { abortSignal }));
      const next = new Map<string, QueueEntry>();
      for (const failure of output.Failed ?? []) {
        const entry = failure.Id === undefined ? undefined : pending.get(failure.Id);
        if (entry === undefined) continue;
        lastError = `SendMessageBatch entry failed: ${failure.Code ?? 'unknown'}${failure.Message ? ` (${failure.Message})` : ''}`;
        // A sender fault (e.g. a message SQS will never take) cannot succeed by asking again.
        if (failure.SenderFault) permanentlyFailed.push(entry.key);
        else next.set(failure.Id!, entry);
      }
      const answered = new Set([
        ...(output.Successful ?? []).map((entry) => entry.Id),
        ...(output.Failed ?? []).map((entry) => entry.Id),
      ]);
      // An entry SQS neither confirmed nor refused is not known to be queued: send it again.
      for (const [id, entry] of pending) if (!answered.has(id)) next.set(id, entry);
      pending = next;
    } catch (error) {
      lastError = describeError(error);
    }
  }
  const notQueued = [...permanentlyFailed, ...[...pending.values()].map((entry) => entry.key)];
  return notQueued.length === 0 ? { ok: true, calls } : { ok: false, calls, notQueued, error: lastError };
}

/** The error's name and message only: SDK errors carry no credentials there, unlike their request metadata. */
function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}
