import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ReplayOptions, ReplayResult } from './replay-types';

/** `dlq replay --native`: SQS's own redrive (StartMessageMoveTask) of the whole DLQ, where the endpoint has it. */

/**
 * Why SQS's native redrive cannot replay this DLQ, or undefined when it can. It moves every letter to one queue,
 * the main one; the DLQ also takes the fan-out's account letters, which the sync Lambda refuses there (back on the
 * DLQ as poison, their reason lost). So it is used only where the target is known to have no fan-out queue;
 * elsewhere the replay goes message by message, each letter back to its own queue.
 */
export function nativeMoveRefusal(
  options: Pick<ReplayOptions, 'accountQueueUrl' | 'accountQueueUnknown' | 'accountQueueAbsent'>,
): string | undefined {
  const why = "SQS's native redrive would move them to the main queue, where the sync Lambda refuses account messages";
  if (options.accountQueueUrl !== undefined)
    return `the DLQ may hold the fan-out's account letters (this target has a fan-out queue), and ${why}`;
  if (options.accountQueueAbsent !== true) {
    return `the DLQ may hold the fan-out's account letters (${options.accountQueueUnknown ?? 'whether the target has a fan-out queue is unknown'}), and ${why}`;
  }
  return undefined;
}

export async function nativeMove(sqs: SQSClient, options: ReplayOptions): Promise<ReplayResult> {
  const { GetQueueAttributesCommand, ListMessageMoveTasksCommand, StartMessageMoveTaskCommand } = await import(
    '@aws-sdk/client-sqs'
  );
  const arnOf = async (queueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes
      ?.QueueArn;
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
      const problem =
        task?.Status === 'COMPLETED' || !task
          ? undefined
          : `move task ${task.Status}${task.FailureReason ? `: ${task.FailureReason}` : ''}`;
      return {
        mode: 'message-move-task',
        dryRun: false,
        replayed: [],
        skipped: [],
        notMatched: 0,
        failed: [],
        failedAgain: [],
        moved,
        notRestored: 0,
        ...(problem && { stoppedEarly: problem }),
      };
    }
    await sleep(options.movePollIntervalMs ?? 2000);
  }
}

export function isUnsupportedOperation(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? '';
  return (
    ['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented'].includes(name) ||
    /unknown action|not (?:supported|implemented)/i.test(message)
  );
}
