import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import { MAX_VISIBILITY_SECONDS, readDeadLetter, receivePage, type DeadLetter } from './dead-letters';
import type { FailedAgain, ReplayOptions } from './replay-types';

/**
 * Receives from the DLQ until `watchSeconds` have passed or every letter sent has come back, noting the letters
 * stamped with this run's id. Whatever it receives stays held until the run restores it, so each is seen once.
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
