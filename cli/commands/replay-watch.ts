import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import { MAX_VISIBILITY_SECONDS, readDeadLetter, receivePage, type DeadLetter } from './dead-letters';
import type { FailedAgain, ReplayOptions } from './replay-types';

/** How long one receive of the watch waits at most: the queues it waits on are read again between receives. */
const WATCH_RECEIVE_SECONDS = 5;

/**
 * Receives from the DLQ until `watchSeconds` have passed, every letter sent has come back, or nothing is left to
 * watch: the queues the letters went to (the main queue, and the fan-out queue for account letters) read empty
 * twice in a row, a receive of the DLQ between, so every letter sent has been handled and those that failed are
 * back. Twice, because SQS's counts are approximate. Notes the letters stamped with this run's id; whatever it
 * receives stays held until the run restores it, so each is seen once.
 */
export async function watchForReturns(
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
    /** The queues the letters were sent to. */
    sentTo: readonly string[];
  },
): Promise<void> {
  const deadline = watch.now() + watch.watchSeconds * 1000;
  let emptyReadings = 0;
  for (;;) {
    const remainingSeconds = (deadline - watch.now()) / 1000;
    if (remainingSeconds < 1 || watch.failedAgain.length >= watch.expected || emptyReadings >= 2) return;
    const page = await receivePage(sqs, {
      queueUrl: options.deadLetterQueueUrl,
      visibilityTimeoutSeconds: Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(remainingSeconds) + 60),
      waitTimeSeconds: Math.min(WATCH_RECEIVE_SECONDS, Math.floor(remainingSeconds)),
    });
    for (const message of page) {
      const letter = readDeadLetter(message, watch.rule);
      watch.held.set(letter.messageId, letter.receiptHandle);
      if (watch.seen.has(letter.messageId)) continue;
      watch.seen.add(letter.messageId);
      if (letter.request?.replayRunId === watch.runId) watch.failedAgain.push(failedAgainOf(letter));
    }
    emptyReadings = (await nothingLeftOn(sqs, watch.sentTo)) ? emptyReadings + 1 : 0;
  }
}

/** Whether the queues hold no message in any state (waiting, in flight, delayed); unknown counts as not empty. */
async function nothingLeftOn(sqs: SQSClient, queueUrls: readonly string[]): Promise<boolean> {
  const { queueDepth } = await import('../../local/queue-depth');
  try {
    const depths = await Promise.all(queueUrls.map((queueUrl) => queueDepth(sqs, queueUrl)));
    return depths.every((depth) => depth === 0);
  } catch {
    return false;
  }
}

export function failedAgainOf(letter: DeadLetter): FailedAgain {
  return {
    messageId: letter.messageId,
    subscriptionId: letter.request!.subscriptionId,
    replayCount: letter.request!.replayCount ?? 0,
    failureClass: letter.reason.failureClass ?? 'unknown',
    ...(letter.reason.httpStatus !== undefined && { httpStatus: letter.reason.httpStatus }),
    ...(letter.reason.error !== undefined && { error: letter.reason.error }),
  };
}
