import type { SQSClient } from '@aws-sdk/client-sqs';
import type { ReplayOptions, ReplayResult } from './replay-types';

/** `dlq replay --native`: SQS's own redrive (StartMessageMoveTask) of the whole DLQ, where the endpoint has it. */

export async function nativeMove(sqs: SQSClient, options: ReplayOptions): Promise<ReplayResult> {
  const { GetQueueAttributesCommand, ListMessageMoveTasksCommand, StartMessageMoveTaskCommand } = await import('@aws-sdk/client-sqs');
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

export function isUnsupportedOperation(error: unknown): boolean {
  const name = (error as { name?: string }).name ?? '';
  const message = (error as Error).message ?? '';
  return ['InvalidAction', 'UnsupportedOperation', 'UnknownOperationException', 'NotImplemented'].includes(name) || /unknown action|not (?:supported|implemented)/i.test(message);
}
