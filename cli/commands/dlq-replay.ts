import { randomBytes } from 'node:crypto';
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
import { approximateCounts, failedAtOf, readDeadLetter, receivePage, restoreVisibility, type DeadLetter } from './dead-letters';

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
  /** Letters sent of those selected. */
  readonly onProgress?: (done: number, total?: number) => void;
  /** Letters read of the DLQ's depth, while the run reads the whole DLQ before sending anything. */
  readonly onScanProgress?: (read: number, depth?: number) => void;
  /** How often to poll a native move task's progress. */
  readonly movePollIntervalMs?: number;
  /** Stamped on every body this run sends; a fresh one (newReplayRunId) by default. */
  readonly runId?: string;
  /**
   * After sending, watch the DLQ this long for the letters this run sent that fail again, and report them
   * (ends early once every letter sent is back). 0 (default): do not wait.
   */
  readonly watchSeconds?: number;
  /** Default MAX_HELD_LETTERS; smaller in tests. */
  readonly maxHeldLetters?: number;
}

/** A letter this run sent that failed again and is back in the DLQ (seen while watching). */
export interface FailedAgain {
  /** The new DLQ message. */
  readonly messageId: string;
  readonly subscriptionId: string;
  /** Counting this run's replay. */
  readonly replayCount: number;
  readonly failureClass: FailureClass | 'unknown';
  readonly httpStatus?: number;
  readonly error?: string;
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
  /** Stamped on every body sent (replayRunId); a letter carrying it failed again after this run. */
  readonly runId?: string;
  /** Replayed (or, in a dry run, would be). */
  readonly replayed: ReplayedMessage[];
  /** Matched the filter but cannot be replayed (unreadable body): left in the DLQ. */
  readonly skipped: { messageId: string; reason: string }[];
  readonly notMatched: number;
  readonly failed: ReplayFailure[];
  /** Letters this run sent that were back in the DLQ before it ended (with --watch); they stay there. */
  readonly failedAgain: FailedAgain[];
  /** How long it watched for letters failing again. */
  readonly watchedSeconds?: number;
  /**
   * Letters hidden (in flight) when the run began: held by another replay, a listing or another reader. This
   * run could not see them, so they were not replayed.
   */
  readonly hiddenAtStart?: number;
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

export type ScanEnd = 'dlq-exhausted' | 'limit-reached' | 'only-seen-messages' | 'held-limit' | 'send-failed';

/**
 * The most letters one run holds at once. A standard queue refuses receives beyond about 120,000 messages in
 * flight, and a run holds every letter it has read until it has sent it; a bigger DLQ takes more than one run
 * (each says so), and a letter of this run that failed again is recognised by its run id, not replayed.
 */
export const MAX_HELD_LETTERS = 100_000;

/**
 * Consecutive pages holding only messages already seen after which the scan gives up. Seen messages come back
 * when their hold ran out (a run slower than planned); a few such pages in a row mean the scan is going round in
 * circles, one alone does not mean the DLQ is done.
 */
export const MAX_CONSECUTIVE_SEEN_PAGES = 5;

/** SQS's longest visibility timeout (12 hours). */
const MAX_VISIBILITY_SECONDS = 43_200;

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
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(300, Math.ceil((scanSeconds + sendSeconds) * 1.5) + 60));
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

/**
 * The body put back on the main queue: the same request, every field kept, replayCount one higher and stamped
 * with the run's id (the sync Lambda dead-letters bodies untouched, so a letter that fails again carries both).
 */
export function replayBody(letter: DeadLetter, rule: SubscriptionIdRule, runId: string): { body: string; replayCount: number } {
  if (!letter.request) throw new Error(`message ${letter.messageId} has no readable sync request`);
  const replayCount = (letter.request.replayCount ?? 0) + 1;
  return { body: serializeSyncRequest(createSyncRequest({ ...letter.request, replayCount, replayRunId: runId }, rule)), replayCount };
}

/**
 * Moves dead letters back to the main queue, working from what was on the DLQ when the run began: the whole DLQ
 * is read and held first (for a hold sized from its depth), and only then are the matching letters sent, so each
 * is replayed at most once per run and one that fails again during the run is never read by it. Each message is
 * sent to the main queue first and deleted from the DLQ only once that send succeeded, so a failure can
 * duplicate a sync (harmless: Limio pulls current state) but never lose one. Whatever is not deleted is made
 * visible again as soon as the run ends. The scan ends on an empty receive; should held messages come back
 * anyway, it says so rather than claim it saw everything.
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
  const runId = options.runId ?? newReplayRunId(now());
  const watchSeconds = options.dryRun ? 0 : Math.max(0, options.watchSeconds ?? 0);
  const { visible: depth, hidden: hiddenAtStart } = await approximateCounts(sqs, options.deadLetterQueueUrl);
  const visibilityTimeoutSeconds = Math.min(
    MAX_VISIBILITY_SECONDS,
    scanHoldSeconds({ depth, limit: options.limit, ratePerSecond: options.ratePerSecond }) + Math.ceil(watchSeconds),
  );
  const sendChunk = options.ratePerSecond ? Math.min(10, Math.max(1, Math.floor(options.ratePerSecond))) : 10;
  const pace = pacer(options.ratePerSecond, now, sleep);

  const replayed: ReplayedMessage[] = [];
  const skipped: { messageId: string; reason: string }[] = [];
  const failed: ReplayFailure[] = [];
  const failedAgain: FailedAgain[] = [];
  const seen = new Set<string>();
  // By message id: a message received again has a new receipt handle, and only the latest one can restore it.
  // Everything received stays here until it is deleted, and is made visible again at the end.
  const held = new Map<string, string>();
  const hold = (letter: DeadLetter) => held.set(letter.messageId, letter.receiptHandle);
  const selected: DeadLetter[] = [];
  let notMatched = 0;
  let stoppedEarly: string | undefined;
  let scanEnded: ScanEnd = 'limit-reached';
  let consecutiveSeenPages = 0;
  let notRestored = 0;

  try {
    // 1. The snapshot: every letter on the DLQ when the run began is received and held before anything is sent,
    //    so a letter this run sends that fails again (a new message, the sync Lambda's copy) cannot be received
    //    by this scan and replayed again. Each letter is replayed at most once per run.
    const maxHeld = options.maxHeldLetters ?? MAX_HELD_LETTERS;
    while (selected.length < limit) {
      if (held.size >= maxHeld) {
        scanEnded = 'held-limit';
        stoppedEarly =
          `this run read ${held.size} letters, as many as one run holds at once (SQS refuses receives beyond about 120,000 messages in flight): ` +
          `it replayed the matching ones among them; run the replay again for the rest`;
        break;
      }
      const page = await receivePage(sqs, {
        queueUrl: options.deadLetterQueueUrl,
        visibilityTimeoutSeconds,
        waitTimeSeconds: options.waitTimeSeconds ?? 1,
      });
      if (page.length === 0) {
        scanEnded = 'dlq-exhausted';
        break;
      }
      let fresh = 0;
      for (const message of page) {
        const letter = readDeadLetter(message, rule);
        hold(letter);
        if (seen.has(letter.messageId)) continue;
        seen.add(letter.messageId);
        fresh++;
        if (selected.length >= limit) continue;
        if (!matchesFilter(letter, filter, now())) {
          notMatched++;
        } else if (!letter.request) {
          skipped.push({ messageId: letter.messageId, reason: `not replayable: ${letter.bodyProblem}` });
        } else if (letter.request.replayRunId === runId) {
          // Only with a run id given again (a resumed run): this run replayed it already, and it failed again.
          failedAgain.push(failedAgainOf(letter));
        } else {
          selected.push(letter);
        }
      }
      options.onScanProgress?.(seen.size, depth);
      if (fresh === 0) {
        // Held again (above) with a fresh hold, so the next pages reach messages not seen yet, if there are any.
        if (++consecutiveSeenPages < MAX_CONSECUTIVE_SEEN_PAGES) continue;
        scanEnded = 'only-seen-messages';
        stoppedEarly =
          `the scan ended before seeing the whole DLQ (${MAX_CONSECUTIVE_SEEN_PAGES} pages in a row held only messages already seen, ` +
          `whose ${visibilityTimeoutSeconds} s hold had run out): matching messages may remain; run the replay again`;
        break;
      }
      consecutiveSeenPages = 0;
    }

    // 2. Send what the snapshot selected, paced; nothing more is received meanwhile.
    for (let start = 0; start < selected.length; start += sendChunk) {
      const chunk = selected.slice(start, start + sendChunk);
      if (options.dryRun) {
        for (const letter of chunk) replayed.push({ messageId: letter.messageId, subscriptionId: letter.request!.subscriptionId, replayCount: replayBody(letter, rule, runId).replayCount });
        continue;
      }
      await pace(chunk.length);
      const sendFailure = await sendThenDelete(sqs, options, chunk, rule, runId, replayed, failed, (letter) => held.delete(letter.messageId));
      options.onProgress?.(replayed.length, selected.length);
      if (sendFailure) {
        // A send failure is almost always the main queue itself (gone, no permission): stop rather than fail every message.
        scanEnded = 'send-failed';
        stoppedEarly = `send to the main queue failed: ${sendFailure}`;
        break;
      }
    }

    // 3. Optionally wait for the letters this run sent to fail again, and report them: they carry its run id.
    if (watchSeconds > 0 && replayed.length > 0) {
      await watchForReturns(sqs, options, { runId, rule, now, watchSeconds, expected: replayed.length, seen, held, failedAgain });
    }
  } finally {
    notRestored = await restoreVisibility(sqs, options.deadLetterQueueUrl, [...held.values()].filter(Boolean));
  }
  return {
    mode: 'receive-send-delete',
    dryRun: options.dryRun ?? false,
    runId,
    replayed,
    skipped,
    notMatched,
    failed,
    failedAgain,
    ...(watchSeconds > 0 && { watchedSeconds: watchSeconds }),
    ...(hiddenAtStart !== undefined && hiddenAtStart > 0 && { hiddenAtStart }),
    stoppedEarly,
    scanEnded,
    notRestored,
  };
}

/**
 * Receives from the DLQ until `watchSeconds` have passed or every letter sent has come back, noting the letters
 * stamped with this run's id. Whatever it receives stays held until the run restores it, so each is seen once.
 */
async function watchForReturns(
  sqs: SQSClient,
  options: ReplayOptions,
  watch: {
    runId: string;
    rule: SubscriptionIdRule;
    now: () => number;
    watchSeconds: number;
    expected: number;
    seen: Set<string>;
    held: Map<string, string>;
    failedAgain: FailedAgain[];
  },
): Promise<void> {
  const deadline = watch.now() + watch.watchSeconds * 1000;
  for (;;) {
    const remainingSeconds = (deadline - watch.now()) / 1000;
    if (remainingSeconds < 1 || watch.failedAgain.length >= watch.expected) return;
    const page = await receivePage(sqs, {
      queueUrl: options.deadLetterQueueUrl,
      visibilityTimeoutSeconds: Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(remainingSeconds) + 60),
      waitTimeSeconds: Math.min(20, Math.floor(remainingSeconds)),
    });
    for (const message of page) {
      const letter = readDeadLetter(message, watch.rule);
      watch.held.set(letter.messageId, letter.receiptHandle);
      if (watch.seen.has(letter.messageId)) continue;
      watch.seen.add(letter.messageId);
      if (letter.request?.replayRunId === watch.runId) watch.failedAgain.push(failedAgainOf(letter));
    }
  }
}

function failedAgainOf(letter: DeadLetter): FailedAgain {
  return {
    messageId: letter.messageId,
    subscriptionId: letter.request!.subscriptionId,
    replayCount: letter.request!.replayCount ?? 0,
    failureClass: letter.reason.failureClass ?? 'unknown',
    ...(letter.reason.httpStatus !== undefined && { httpStatus: letter.reason.httpStatus }),
    ...(letter.reason.error !== undefined && { error: letter.reason.error }),
  };
}

/** Sortable by time and unique enough for one operator's runs: r-20261130T041500Z-1a2b3c. */
export function newReplayRunId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `r-${stamp}-${randomBytes(3).toString('hex')}`;
}

/** Sends one chunk, deletes what was sent; returns the first send error, if any. */
async function sendThenDelete(
  sqs: SQSClient,
  options: ReplayOptions,
  chunk: readonly DeadLetter[],
  rule: SubscriptionIdRule,
  runId: string,
  replayed: ReplayedMessage[],
  failed: ReplayFailure[],
  deleted: (letter: DeadLetter) => void,
): Promise<string | undefined> {
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
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request?.subscriptionId, stage: 'send', error: `${failure.Code} ${failure.Message ?? ''}`.trim() });
    }
  } catch (error) {
    firstError = describeError(error);
    for (const letter of chunk) {
      failed.push({ messageId: letter.messageId, subscriptionId: letter.request?.subscriptionId, stage: 'send', error: firstError });
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
    if (deleteError === undefined) deleted(letter);
    else {
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
      return { mode: 'message-move-task', dryRun: false, replayed: [], skipped: [], notMatched: 0, failed: [], failedAgain: [], moved, notRestored: 0, ...(problem && { stoppedEarly: problem }) };
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
