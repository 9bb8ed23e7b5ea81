import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULT_SUBSCRIPTION_ID_RULE } from '../../functions/shared/subscription-id';
import {
  approximateCounts,
  MAX_VISIBILITY_SECONDS,
  readDeadLetter,
  receivePage,
  restoreVisibility,
  type DeadLetter,
} from './dead-letters';
import { isUnfiltered, matchesFilter, newReplayRunId, replayBody } from './replay-filter';
import { isUnsupportedOperation, nativeMove, nativeMoveRefusal } from './replay-native';
import { keyOf, pacer, sendThenDelete } from './replay-send';
import type { FailedAgain, ReplayedMessage, ReplayFailure, ReplayOptions, ReplayResult, ScanEnd } from './replay-types';
import { failedAgainOf, watchForReturns } from './replay-watch';

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

/** Upper bound on the time one scanned page costs (receive, and send + delete of its matches), real SQS included. */
const SECONDS_PER_PAGE = 1;

/**
 * How long scanned messages stay hidden: for the whole run, so that none comes back and is counted twice or ends
 * the scan. The run scans every message of the DLQ (its depth, not --limit: matches may be anywhere) and sends at
 * most `limit` of them at `ratePerSecond`; half as much again plus a minute for slack, 5 minutes at least, 12
 * hours (SQS's maximum) at most.
 */
export function scanHoldSeconds({
  depth,
  limit,
  ratePerSecond,
}: {
  depth?: number;
  limit?: number;
  ratePerSecond?: number;
}): number {
  const messages = depth ?? 0;
  const scanSeconds = Math.ceil(messages / 10) * SECONDS_PER_PAGE;
  const sendSeconds = ratePerSecond ? Math.ceil(Math.min(messages, limit ?? Infinity) / ratePerSecond) : 0;
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(300, Math.ceil((scanSeconds + sendSeconds) * 1.5) + 60));
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
    const refusal = nativeMoveRefusal(options);
    if (refusal !== undefined)
      return {
        ...(await receiveSendDelete(sqs, options)),
        fallbackReason: `--native not used: ${refusal}; replayed message by message instead, each letter to its own queue`,
      };
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
        } else if (letter.account && options.accountQueueUrl === undefined) {
          skipped.push({
            messageId: letter.messageId,
            reason: `account letter for ${letter.account.accountKey}: not replayed, the fan-out queue is unknown (${options.accountQueueUnknown ?? 'no fan-out queue given'})`,
          });
        } else if (letter.account) {
          // Account letters that fail again are not watched for (the watch reads subscription letters): replayed once.
          if (letter.account.replayRunId === runId) notMatched++;
          else selected.push(letter);
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
        for (const letter of chunk)
          replayed.push({
            messageId: letter.messageId,
            ...keyOf(letter),
            replayCount: replayBody(letter, rule, runId).replayCount,
          });
        continue;
      }
      await pace(chunk.length);
      // Each kind back to the queue its consumer reads: subscription letters to the main queue, account letters
      // to the fan-out queue (the sync Lambda would refuse them as poison).
      const subscriptionLetters = chunk.filter((letter) => !letter.account);
      const accountLetters = chunk.filter((letter) => letter.account);
      const onDeleted = (letter: DeadLetter) => held.delete(letter.messageId);
      let sendFailure: string | undefined;
      if (subscriptionLetters.length > 0)
        sendFailure = await sendThenDelete(sqs, options, subscriptionLetters, rule, runId, replayed, failed, onDeleted);
      if (accountLetters.length > 0 && sendFailure === undefined) {
        const accountFailure = await sendThenDelete(
          sqs,
          { ...options, mainQueueUrl: options.accountQueueUrl! },
          accountLetters,
          rule,
          runId,
          replayed,
          failed,
          onDeleted,
        );
        if (accountFailure !== undefined) sendFailure = `(fan-out queue) ${accountFailure}`;
      }
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
      const sentTo = [
        options.mainQueueUrl,
        ...(options.accountQueueUrl && selected.some((letter) => letter.account) ? [options.accountQueueUrl] : []),
      ];
      await watchForReturns(sqs, options, {
        runId,
        rule,
        now,
        watchSeconds,
        expected: replayed.length,
        seen,
        held,
        failedAgain,
        sentTo,
      });
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
