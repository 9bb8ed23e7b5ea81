import { GetQueueAttributesCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { DEFAULTS } from '../functions/shared/defaults';
import { createLambdaContext } from './lambda-context';
import { deleteProcessed, failedItemIdentifiers, SQS_MAX_MESSAGES_PER_CALL, toSqsRecord } from './sqs-lambda-event';

/**
 * Plays Lambda's SQS event source mapping for the local runtime: long-polls the queue, gathers a batch
 * (batch size, batching window), invokes the handler with a real SQSEvent and, with ReportBatchItemFailures,
 * deletes exactly the records the handler did not report as failed. Failed records are left alone, so they
 * reappear when their visibility timeout (or the one the handler set) runs out, and SQS's redrive policy
 * applies as in AWS. A handler that throws, times out or answers something Lambda would not accept fails the
 * whole batch: nothing is deleted.
 */
type SqsHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

export interface SqsPollerOptions {
  client: SQSClient;
  queueUrl: string;
  handler: SqsHandler;
  /** Records per invocation (Lambda allows up to 10,000 with a batching window). */
  batchSize?: number;
  /** How long to keep gathering after the first record arrives, like MaximumBatchingWindowInSeconds. */
  batchingWindowSeconds?: number;
  /** Poll loops running side by side, each with at most one invocation at a time. */
  concurrency?: number;
  /** Long-poll wait per ReceiveMessage; Lambda's pollers use 20. */
  waitTimeSeconds?: number;
  /** The function timeout: an invocation still running past it counts as failed. */
  functionTimeoutSeconds?: number;
  functionName?: string;
  /** Told about each finished invocation (for the runtime's output and tests). */
  onBatch?: (outcome: BatchOutcome) => void;
  /** Told about each batch's records before the handler gets them (npm start counts what the CLI queued). */
  onRecords?: (records: readonly SQSRecord[]) => void;
  /** Told about receive/delete errors and failed invocations; the poller keeps going. */
  onError?: (error: unknown) => void;
}

export interface BatchOutcome {
  readonly records: number;
  readonly deleted: number;
  /** Records left on the queue: reported failures, or all of them after an invocation error. */
  readonly retained: number;
  readonly invocationError?: unknown;
}

interface SqsPollerStats {
  /** ReceiveMessage calls finished (empty answers and errors included). */
  receives: number;
  /** Messages those receives returned. */
  messagesReceived: number;
  invocations: number;
  recordsReceived: number;
  recordsDeleted: number;
  recordsRetained: number;
  invocationErrors: number;
}

export interface SqsPoller {
  readonly paused: boolean;
  readonly stats: Readonly<SqsPollerStats>;
  /** No new receives until resume(); an invocation already under way finishes. */
  pause(): void;
  resume(): void;
  /**
   * At most this many invocations at once from now on, like an event source mapping's MaximumConcurrency (the
   * circuit breaker's half-open cap, then full speed): loops beyond it idle after their current invocation, and
   * new loops start when it grows.
   */
  setMaxConcurrency(maxConcurrency: number): void;
  readonly maxConcurrency: number;
  /** ReceiveMessage calls under way right now. */
  readonly receivesInFlight: number;
  /**
   * Resolves when every ReceiveMessage under way at the call has finished (at once if none is): after pause() or
   * a lower cap, the point from which no loop beyond it can take a message.
   */
  receivesUnderWayFinished(): Promise<void>;
  /** Resolves when the next ReceiveMessage to finish has finished (stats already counting it). */
  nextReceiveFinished(): Promise<void>;
  /** Aborts waiting long polls, lets running invocations finish, and resolves when every loop has ended. */
  stop(): Promise<void>;
}

/** Pause between short polls while a batching window is still open but the queue is momentarily empty. */
const WINDOW_POLL_INTERVAL_MS = 50;
/** Back off this long after a receive error, so a dead endpoint is not hammered. */
const RECEIVE_ERROR_BACKOFF_MS = 1_000;

export async function startSqsPoller(options: SqsPollerOptions): Promise<SqsPoller> {
  const batchSize = options.batchSize ?? DEFAULTS.syncBatchSize;
  const batchingWindowMs = (options.batchingWindowSeconds ?? DEFAULTS.syncBatchingWindowSeconds) * 1000;
  const concurrency = options.concurrency ?? 1;
  const waitTimeSeconds = options.waitTimeSeconds ?? 20;
  const functionTimeoutMs = (options.functionTimeoutSeconds ?? DEFAULTS.syncFunctionTimeoutSeconds) * 1000;
  const functionName = options.functionName ?? 'sync';
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new RangeError('batchSize must be 1..10000');
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new RangeError('concurrency must be a positive whole number');

  const { client, queueUrl } = options;
  const arnAnswer = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const eventSourceARN = arnAnswer.Attributes?.QueueArn ?? queueUrl;
  const awsRegion = eventSourceARN.split(':')[3] || (process.env.AWS_REGION ?? 'us-east-1');

  const stats: SqsPollerStats = {
    receives: 0,
    messagesReceived: 0,
    invocations: 0,
    recordsReceived: 0,
    recordsDeleted: 0,
    recordsRetained: 0,
    invocationErrors: 0,
  };
  const stopping = new AbortController();
  let paused = false;
  let maxConcurrency = concurrency;
  let wakeUp: Array<() => void> = [];
  const wakeAll = () => {
    const waiting = wakeUp;
    wakeUp = [];
    for (const wake of waiting) wake();
  };
  const isIdle = (loopIndex: number) => paused || loopIndex >= maxConcurrency;
  const wokenUp = () => new Promise<void>((resolve) => wakeUp.push(resolve));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      }
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  // Observers of receives, so tests and the runtime wait on events rather than on guesses of how long a poll takes.
  const receivesUnderWay = new Set<Promise<void>>();
  let receiveWaiters: Array<() => void> = [];
  const receive = async (max: number, waitSeconds: number): Promise<Message[]> => {
    const answer = client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(SQS_MAX_MESSAGES_PER_CALL, max),
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: stopping.signal },
    );
    const underWay = answer.then(
      () => undefined,
      () => undefined,
    );
    receivesUnderWay.add(underWay);
    try {
      const messages = (await answer).Messages ?? [];
      stats.messagesReceived += messages.length;
      return messages;
    } finally {
      stats.receives += 1;
      receivesUnderWay.delete(underWay);
      const waiting = receiveWaiters;
      receiveWaiters = [];
      for (const wake of waiting) wake();
    }
  };

  /** Waits for a first message, then keeps gathering until the batch is full or the window closes. */
  const gatherBatch = async (): Promise<Message[]> => {
    const batch = await receive(batchSize, waitTimeSeconds);
    if (batch.length === 0) return batch;
    const windowEnds = Date.now() + batchingWindowMs;
    while (batch.length < batchSize && !stopping.signal.aborted) {
      const remainingMs = windowEnds - Date.now();
      if (remainingMs <= 0) break;
      // Long-poll only for whole seconds that fit in the window, so the window is never overrun (and within
      // SQS's 20 s limit, as a window may be up to 300 s).
      const more = await receive(batchSize - batch.length, Math.min(waitTimeSeconds, Math.floor(remainingMs / 1000)));
      batch.push(...more);
      if (more.length === 0 && remainingMs < 1000) await sleep(Math.min(WINDOW_POLL_INTERVAL_MS, remainingMs));
    }
    return batch;
  };

  const invoke = async (event: SQSEvent): Promise<unknown> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        options.handler(event, createLambdaContext(functionName, functionTimeoutMs)),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`sync handler timed out after ${functionTimeoutMs} ms`)),
            functionTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };

  const processBatch = async (messages: Message[]) => {
    const records = messages.map((message) => toSqsRecord(message, eventSourceARN, awsRegion));
    stats.invocations += 1;
    stats.recordsReceived += records.length;
    options.onRecords?.(records);
    let invocationError: unknown;
    let failedIds: Set<string> | undefined;
    try {
      failedIds = failedItemIdentifiers(await invoke({ Records: records }), records);
    } catch (error) {
      invocationError = error;
    }
    if (failedIds === undefined) {
      invocationError ??= new Error(
        'the handler answered an invalid batchItemFailures list; the whole batch is retried',
      );
      stats.invocationErrors += 1;
      stats.recordsRetained += records.length;
      options.onError?.(invocationError);
      options.onBatch?.({ records: records.length, deleted: 0, retained: records.length, invocationError });
      return;
    }
    const succeeded = records.filter((record) => !failedIds!.has(record.messageId));
    const deleted = await deleteProcessed(client, queueUrl, succeeded, options.onError);
    stats.recordsDeleted += deleted;
    stats.recordsRetained += records.length - succeeded.length;
    options.onBatch?.({ records: records.length, deleted, retained: records.length - succeeded.length });
  };

  const loop = async (loopIndex: number) => {
    while (!stopping.signal.aborted) {
      // Checked in the same synchronous run that starts the receive, so a pause or a lower cap is never missed.
      if (isIdle(loopIndex)) {
        await wokenUp();
        continue;
      }
      let batch: Message[];
      try {
        batch = await gatherBatch();
      } catch (error) {
        if (stopping.signal.aborted) break;
        options.onError?.(error);
        await sleep(RECEIVE_ERROR_BACKOFF_MS);
        continue;
      }
      if (batch.length > 0) await processBatch(batch);
    }
  };

  const loops = Array.from({ length: concurrency }, (_, index) => loop(index));
  return {
    get paused() {
      return paused;
    },
    get maxConcurrency() {
      return maxConcurrency;
    },
    get receivesInFlight() {
      return receivesUnderWay.size;
    },
    async receivesUnderWayFinished() {
      await Promise.all([...receivesUnderWay]);
    },
    nextReceiveFinished() {
      return new Promise<void>((resolve) => receiveWaiters.push(resolve));
    },
    stats,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      wakeAll();
    },
    setMaxConcurrency(next) {
      if (!Number.isInteger(next) || next < 1) throw new RangeError('maxConcurrency must be a positive whole number');
      maxConcurrency = next;
      while (loops.length < next && !stopping.signal.aborted) loops.push(loop(loops.length));
      wakeAll();
    },
    async stop() {
      stopping.abort();
      wakeAll();
      await Promise.all(loops);
      for (const wake of receiveWaiters.splice(0)) wake();
    },
  };
}
