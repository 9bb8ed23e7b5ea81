import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SqsSender } from '../../functions/shared/enqueue';

/**
 * Reads every visible message off a queue (and deletes it), so a test can say exactly what was queued.
 * `waitTimeSeconds` long-polls for the first message only; the rest are read until the queue is empty.
 */
export async function drainQueue(sqs: SQSClient, queueUrl: string, waitTimeSeconds = 0): Promise<string[]> {
  const bodies: string[] = [];
  for (;;) {
    const wait = bodies.length === 0 ? waitTimeSeconds : 0;
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: wait }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return bodies;
    for (const message of messages) {
      bodies.push(message.Body!);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}

/**
 * A thin decorator over a real SQS client: the first SendMessageBatch puts only some entries on the (real)
 * queue and reports the others as failed, as SQS does under partial failure. The emulator cannot fail single
 * entries of a batch, so this is the one place the tests bend SQS; everything sent still lands on the emulator.
 */
export function failEntriesOfFirstBatch(
  real: SQSClient,
  shouldFail: (messageBody: string) => boolean,
): SqsSender & { batchCalls: number } {
  let injected = false;
  const decorator = {
    batchCalls: 0,
    async send(command: unknown) {
      if (!(command instanceof SendMessageBatchCommand)) return real.send(command as never);
      decorator.batchCalls++;
      if (injected) return real.send(command);
      injected = true;
      const entries = command.input.Entries ?? [];
      const failing = entries.filter((entry) => shouldFail(entry.MessageBody!));
      const passing = entries.filter((entry) => !shouldFail(entry.MessageBody!));
      const output =
        passing.length > 0
          ? await real.send(new SendMessageBatchCommand({ ...command.input, Entries: passing }))
          : { Successful: [], Failed: [] };
      return {
        ...output,
        Failed: [
          ...(output.Failed ?? []),
          ...failing.map((entry) => ({
            Id: entry.Id!,
            Code: 'InternalError',
            Message: 'injected partial failure',
            SenderFault: false,
          })),
        ],
      };
    },
  };
  return decorator as unknown as SqsSender & { batchCalls: number };
}
