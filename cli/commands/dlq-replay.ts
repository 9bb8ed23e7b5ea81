import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { FailureClass } from '../../functions/shared/dead-letter';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../../functions/shared/subscription-id';
import { approximateDepth, failedAtOf, readDeadLetter, receivePage, restoreVisibility, type DeadLetter } from './dead-letters';

export interface ReplayFilter {
  readonly subscriptions?: readonly string[];
  /** `unknown` selects messages SQS's own redrive put in the DLQ (no reason attributes). */
  readonly failureClasses?: readonly (FailureClass | 'unknown')[];
  readonly httpStatuses?: readonly number[];
  /** Only messages that failed at least this long ago. */
  readonly olderThanMs?: number;
}

export interface ReplayOptions {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly filter?: ReplayFilter;
  readonly dryRun?: boolean;
  /** Messages per second sent to the main queue (so a replay cannot stampede Limio right after an outage). */
  readonly ratePerSecond?: number;
  /** Replay at most this many messages. */
  readonly limit?: number;
  /**
   * Use SQS's native redrive (StartMessageMoveTask) for an unfiltered replay of everything. Faster on a huge DLQ,
   * but it moves bodies untouched (no replayCount), so the sync Lambda grants the moved messages no fresh retry
   * budget. Falls back to receive -> send -> delete where unsupported.
   */
  readonly native?: boolean;
  readonly rule?: SubscriptionIdRule;
  readonly waitTimeSeconds?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onProgress?: (done: number, total?: number) => void;
  /** How often to poll a native move task's progress. */
  readonly movePollIntervalMs?: number;
}

export interface ReplayedMessage {
  readonly messageId: string;
  readonly subscriptionId: string;
  /** replayCount of the copy put on the main queue. */
  readonly replayCount: number;
}

export interface ReplayFailure {
  readonly messageId: string;
  readonly subscriptionId?: string;
  /** `send`: nothing happened, the message is still in the DLQ. `delete`: sent, but also still in the DLQ. */
  readonly stage: 'send' | 'delete';
  readonly error: string;
}

export interface ReplayResult {
  readonly mode: 'receive-send-delete' | 'message-move-task';
  readonly dryRun: boolean;
  /** Replayed (or, in a dry run, would be). */
  readonly replayed: ReplayedMessage[];
  /** Matched the filter but cannot be replayed (unreadable body): left in the DLQ. */
  readonly skipped: { messageId: string; reason: string }[];
  readonly notMatched: number;
  readonly failed: ReplayFailure[];
  /** Why the replay stopped before the DLQ was exhausted, if it did. */
  readonly stoppedEarly?: string;
  /** Why native redrive was not used although asked for. */
  readonly fallbackReason?: string;
  /** Messages moved by a native move task. */
  readonly moved?: number;
  readonly notRestored: number;
}

export function matchesFilter(letter: DeadLetter, filter: ReplayFilter, nowMs: number): boolean {
  if (filter.subscriptions?.length && !filter.subscriptions.includes(letter.request?.subscriptionId ?? '')) return false;
  if (filter.failureClasses?.length && !filter.failureClasses.includes(letter.reason.failureClass ?? 'unknown')) return false;
  if (filter.httpStatuses?.length && !filter.httpStatuses.includes(letter.reason.httpStatus ?? -1)) return false;
  if (filter.olderThanMs !== undefined) {
    const failedAt = Date.parse(failedAtOf(letter) ?? '');
    if (Number.isNaN(failedAt) || nowMs - failedAt < filter.olderThanMs) return false;
  }
  return true;
}

export function isUnfiltered(filter: ReplayFilter | undefined): boolean {
  return !filter || (!filter.subscriptions?.length && !filter.failureClasses?.length && !filter.httpStatuses?.length && filter.olderThanMs === undefined);
}

/** The body put back on the main queue: the same request, every field kept, replayCount one higher. */
export function replayBody(letter: DeadLetter, rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE): { body: string; replayCount: number } {
  if (!letter.request) throw new Error(`message ${letter.messageId} has no readable sync request`);
  const replayCount = (letter.request.replayCount ?? 0) + 1;
  return { body: serializeSyncRequest(createSyncRequest({ ...letter.request, replayCount }, rule)), replayCount };
}

/**
 * Moves dead letters back to the main queue. Each message is sent to the main queue first and deleted from the
 * DLQ only once that send succeeded, so a failure can duplicate a sync (harmless: Limio pulls current state)
 * but never lose one. Messages that do not match stay hidden while the DLQ is scanned, so the scan sees every
 * message once and terminates, and are made visible again as soon as it ends.
 */
export async function replayDeadLetters(sqs: SQSClient, options: ReplayOptions): Promise<ReplayResult> {
  let fallbackReason: string | undefined;
  if (options.native && isUnfiltered(options.filter) && options.limit === undefined && !options.dryRun) {
    try {
      return await nativeMove(sqs, options);
    } catch (error) {
      if (!isUnsupportedOperation(error)) throw error;
      fallbackReason = `StartMessageMoveTask is not supported by this SQS endpoint (${(error as Error).message}); replayed message by message instead`;
    }
  }
  return { ...(await receiveSendDelete(sqs, options)), ...(fallbackReason && { fallbackReason }) };
}

async function receiveSendDelete(sqs: SQSClient, options: ReplayOptions): Promise<ReplayResult> {
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const filter = options.filter ?? {};
  const limit = options.limit ?? Infinity;
  const depth = await approximateDepth(sqs, options.deadLetterQueueUrl);
  const total = depth === undefined ? undefined : Math.min(depth, limit);
  // Held messages must stay hidden for the whole run, paced sends included; SQS allows up to 12 hours.
  const expectedSeconds = options.ratePerSecond && depth ? Math.ceil(Math.min(depth, limit) / options.ratePerSecond) : 0;
  const visibilityTimeoutSeconds = Math.min(43_200, Math.max(300, Math.ceil(expectedSeconds * 1.5) + 60));
  const sendChunk = options.ratePerSecond ? Math.min(10, Math.max(1, Math.floor(options.ratePerSecond))) : 10;
  const pace = pacer(options.ratePerSecond, now, sleep);

  const replayed: ReplayedMessage[] = [];
  const skipped: { messageId: string; reason: string }[] = [];
  const failed: ReplayFailure[] = [];
  const seen = new Set<string>();
  const held: string[] = [];
  let notMatched = 0;
  let stoppedEarly: string | undefined;
  let notRestored = 0;

  try {
    scan: while (replayed.length < limit) {
      const page = await receivePage(sqs, {
        queueUrl: options.deadLetterQueueUrl,
        visibilityTimeoutSeconds,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
      });
      if (page.length === 0) break;
      const selected: DeadLetter[] = [];
      let fresh = 0;
      for (const message of page) {
        const letter = readDeadLetter(message, rule);
        if (seen.has(letter.messageId) || replayed.length + selected.length >= limit) {
          held.push(letter.receiptHandle);
          continue;
        }
        seen.add(letter.messageId);
        fresh++;
        if (!matchesFilter(letter, filter, now())) {
          notMatched++;
          held.push(letter.receiptHandle);
        } else if (!letter.request) {
          skipped.push({ messageId: letter.messageId, reason: `not replayable: ${letter.bodyProblem}` });
          held.push(letter.receiptHandle);
        } else {
          selected.push(letter);
        }
      }
      if (fresh === 0) break;

      for (let start = 0; start < selected.length; start += sendChunk) {
        const chunk = selected.slice(start, start + sendChunk);
        if (options.dryRun) {
          for (const letter of chunk) {
            held.push(letter.receiptHandle);
            replayed.push({ messageId: letter.messageId, subscriptionId: letter.request!.subscriptionId, replayCount: replayBody(letter, rule).replayCount });
          }
          continue;
        }
        await pace(chunk.length);
        const sendFailure = await sendThenDelete(sqs, options, chunk, rule, replayed, failed, held);
        options.onProgress?.(replayed.length, total);
        if (sendFailure) {
          // A send failure is almost always the main queue itself (gone, no permission): stop rather than fail every message.
          for (const letter of selected.slice(start + sendChunk)) held.push(letter.receiptHandle);
          stoppedEarly = `send to the main queue failed: ${sendFailure}`;
          break scan;
        }
      }
      options.onProgress?.(replayed.length, total);
    }
  } finally {
    notRestored = await restoreVisibility(sqs, options.deadLetterQueueUrl, held.filter(Boolean));
  }
  return { mode: 'receive-send-delete', dryRun: options.dryRun ?? false, replayed, skipped, notMatched, failed, stoppedEarly, notRestored };
}

/** Sends one chunk, deletes what was sent; returns the first send error, if any. */
async function sendThenDelete(
  sqs: SQSClient,
  options: ReplayOptions,
  chunk: readonly DeadLetter[],
  rule: SubscriptionIdRule,
  replayed: ReplayedMessage[],
  failed: ReplayFailure[],
  held: string[],
): Promise<string | undefined> {
  const bodies = chunk.map((letter) => replayBody(letter, rule));
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
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request?.subscriptionId, stage: 'send', error: `${failure.Code} ${failure.Message ?? ''}`.trim() });
      held.push(letter.receiptHandle);
    }
  } catch (error) {
    firstError = describeError(error);
    for (const letter of chunk) {
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request?.subscriptionId, stage: 'send', error: firstError });
      held.push(letter.receiptHandle);
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
    for (const failure of result.Failed ?? []) deleteFailures.set(Number(failure.Id), `${failure.Code} ${failure.Message ?? ''}`.trim());
  } catch (error) {
    for (const index of sentIndexes) deleteFailures.set(index, describeError(error));
  }
  for (const index of sentIndexes) {
    const letter = chunk[index];
    replayed.push({ messageId: letter.messageId, subscriptionId: letter.request!.subscriptionId, replayCount: bodies[index].replayCount });
    const deleteError = deleteFailures.get(index);
    if (deleteError !== undefined) {
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request!.subscriptionId, stage: 'delete', error: `sent to the main queue but still in the DLQ: ${deleteError}` });
    }
  }
  return firstError;
}

async function nativeMove(sqs: SQSClient, options: ReplayOptions): Promise<ReplayResult> {
  const arnOf = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn;
  const sourceArn = await arnOf(options.deadLetterQueueUrl);
  const destinationArn = await arnOf(options.mainQueueUrl);
  await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: sourceArn,
      DestinationArn: destinationArn,
      ...(options.ratePerSecond && { MaxNumberOfMessagesPerSecond: Math.max(1, Math.floor(options.ratePerSecond)) }),
    }),
  );
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (;;) {
    const tasks = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
    const task = tasks.Results?.[0];
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    options.onProgress?.(moved, task?.ApproximateNumberOfMessagesToMove);
    if (!task || task.Status === 'COMPLETED' || task.Status === 'FAILED' || task.Status === 'CANCELLED') {
      const problem = task?.Status === 'COMPLETED' || !task ? undefined : `move task ${task.Status}${task.FailureReason ? `: ${task.FailureReason}` : ''}`;
      return { mode: 'message-move-task', dryRun: false, replayed: [], skipped: [], notMatched: 0, failed: [], moved, notRestored: 0, ...(problem && { stoppedEarly: problem }) };
    }
    await sleep(options.movePollIntervalMs ?? 2000);
  }
}

function isUnsupportedOperation(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? '';
  return ['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented'].includes(name) || /unknown action|not (?:supported|implemented)/i.test(message);
}

function describeError(error: unknown): string {
  const name = (error as { name?: string }).name;
  const message = (error as Error).message ?? String(error);
  return name && !message.startsWith(name) ? `${name}: ${message}` : message;
}

/** Spreads sends so that at most `ratePerSecond` messages go out per second on average. */
function pacer(ratePerSecond: number | undefined, now: () => number, sleep: (ms: number) => Promise<void>) {
  let nextAllowedAt = 0;
  return async (count: number) => {
    if (!ratePerSecond) return;
    const wait = nextAllowedAt - now();
    if (wait > 0) await sleep(wait);
    nextAllowedAt = Math.max(nextAllowedAt, now()) + (count * 1000) / ratePerSecond;
  };
}
