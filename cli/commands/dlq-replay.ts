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
  /**
   * How the message-by-message scan ended. Only `dlq-exhausted` (an empty receive) means every message was seen;
   * `only-seen-messages` means pages kept returning messages already seen, so matching ones may remain.
   */
  readonly scanEnded?: ScanEnd;
  /** Why native redrive was not used although asked for. */
  readonly fallbackReason?: string;
  /** Messages moved by a native move task. */
  readonly moved?: number;
  readonly notRestored: number;
}

export type ScanEnd = 'dlq-exhausted' | 'limit-reached' | 'only-seen-messages' | 'send-failed';

/**
 * Consecutive pages holding only messages already seen after which the scan gives up. Seen messages come back
 * when their hold ran out (a run slower than planned); a few such pages in a row mean the scan is going round in
 * circles, one alone does not mean the DLQ is done.
 */
export const MAX_CONSECUTIVE_SEEN_PAGES = 5;

/** Upper bound on the time one scanned page costs (receive, and send + delete of its matches), real SQS included. */
const SECONDS_PER_PAGE = 1;

/**
 * How long scanned messages stay hidden: for the whole run, so that none comes back and is counted twice or ends
 * the scan. The run scans every message of the DLQ (its depth, not --limit: matches may be anywhere) and sends at
 * most `limit` of them at `ratePerSecond`; half as much again plus a minute for slack, 5 minutes at least, 12
 * hours (SQS's maximum) at most.
 */
export function scanHoldSeconds({ depth, limit, ratePerSecond }: { depth?: number; limit?: number; ratePerSecond?: number }): number {
  const messages = depth ?? 0;
  const scanSeconds = Math.ceil(messages / 10) * SECONDS_PER_PAGE;
  const sendSeconds = ratePerSecond ? Math.ceil(Math.min(messages, limit ?? Infinity) / ratePerSecond) : 0;
  return Math.min(43_200, Math.max(300, Math.ceil((scanSeconds + sendSeconds) * 1.5) + 60));
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
 * but never lose one. Messages that do not match stay hidden while the DLQ is scanned (for a hold sized from the
 * DLQ's depth), so the scan sees every message once, and are made visible again as soon as it ends. The scan ends
 * on an empty receive; should held messages come back anyway, it says so rather than claim it saw everything.
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
  const visibilityTimeoutSeconds = scanHoldSeconds({ depth, limit: options.limit, ratePerSecond: options.ratePerSecond });
  const sendChunk = options.ratePerSecond ? Math.min(10, Math.max(1, Math.floor(options.ratePerSecond))) : 10;
  const pace = pacer(options.ratePerSecond, now, sleep);

  const replayed: ReplayedMessage[] = [];
  const skipped: { messageId: string; reason: string }[] = [];
  const failed: ReplayFailure[] = [];
  const seen = new Set<string>();
  // By message id: a message received again has a new receipt handle, and only the latest one can restore it.
  const held = new Map<string, string>();
  const hold = (letter: DeadLetter) => held.set(letter.messageId, letter.receiptHandle);
  let notMatched = 0;
  let stoppedEarly: string | undefined;
  let scanEnded: ScanEnd = 'limit-reached';
  let consecutiveSeenPages = 0;
  let notRestored = 0;

  try {
    scan: while (replayed.length < limit) {
      const page = await receivePage(sqs, {
        queueUrl: options.deadLetterQueueUrl,
        visibilityTimeoutSeconds,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
      });
      if (page.length === 0) {
        scanEnded = 'dlq-exhausted';
        break;
      }
      const selected: DeadLetter[] = [];
      let fresh = 0;
      for (const message of page) {
        const letter = readDeadLetter(message, rule);
        if (seen.has(letter.messageId) || replayed.length + selected.length >= limit) {
          hold(letter);
          continue;
        }
        seen.add(letter.messageId);
        fresh++;
        if (!matchesFilter(letter, filter, now())) {
          notMatched++;
          hold(letter);
        } else if (!letter.request) {
          skipped.push({ messageId: letter.messageId, reason: `not replayable: ${letter.bodyProblem}` });
          hold(letter);
        } else {
          selected.push(letter);
        }
      }
      if (fresh === 0 && replayed.length < limit) {
        // Held again (above) with a fresh hold, so the next pages reach messages not seen yet, if there are any.
        if (++consecutiveSeenPages < MAX_CONSECUTIVE_SEEN_PAGES) continue;
        scanEnded = 'only-seen-messages';
        stoppedEarly =
          `the scan ended before seeing the whole DLQ (${MAX_CONSECUTIVE_SEEN_PAGES} pages in a row held only messages already seen, ` +
          `whose ${visibilityTimeoutSeconds} s hold had run out): matching messages may remain; run the replay again`;
        break;
      }
      consecutiveSeenPages = 0;

      for (let start = 0; start < selected.length; start += sendChunk) {
        const chunk = selected.slice(start, start + sendChunk);
        if (options.dryRun) {
          for (const letter of chunk) {
            hold(letter);
            replayed.push({ messageId: letter.messageId, subscriptionId: letter.request!.subscriptionId, replayCount: replayBody(letter, rule).replayCount });
          }
          continue;
        }
        await pace(chunk.length);
        const sendFailure = await sendThenDelete(sqs, options, chunk, rule, replayed, failed, hold);
        options.onProgress?.(replayed.length, total);
        if (sendFailure) {
          // A send failure is almost always the main queue itself (gone, no permission): stop rather than fail every message.
          for (const letter of selected.slice(start + sendChunk)) hold(letter);
          scanEnded = 'send-failed';
          stoppedEarly = `send to the main queue failed: ${sendFailure}`;
          break scan;
        }
      }
      options.onProgress?.(replayed.length, total);
    }
  } finally {
    notRestored = await restoreVisibility(sqs, options.deadLetterQueueUrl, [...held.values()].filter(Boolean));
  }
  return { mode: 'receive-send-delete', dryRun: options.dryRun ?? false, replayed, skipped, notMatched, failed, stoppedEarly, scanEnded, notRestored };
}

/** Sends one chunk, deletes what was sent; returns the first send error, if any. */
async function sendThenDelete(
  sqs: SQSClient,
  options: ReplayOptions,
  chunk: readonly DeadLetter[],
  rule: SubscriptionIdRule,
  replayed: ReplayedMessage[],
  failed: ReplayFailure[],
  hold: (letter: DeadLetter) => void,
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
      hold(letter);
    }
  } catch (error) {
    firstError = describeError(error);
    for (const letter of chunk) {
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request?.subscriptionId, stage: 'send', error: firstError });
      hold(letter);
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
