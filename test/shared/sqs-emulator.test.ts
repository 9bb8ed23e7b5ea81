import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { createQueuePair, startSqsEmulator, type SqsEmulator } from '../../local/sqs-emulator';

// The queue behaviour the bridge relies on, checked against the real emulator the tests and `npm start` use.
describe('SQS emulator', () => {
  let emulator: SqsEmulator;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('redelivers after the visibility timeout and redrives to the DLQ after maxReceiveCount', async () => {
    const sqs = emulator.client();
    const queues = await createQueuePair(sqs, {
      mainQueueName: 'redrive-main',
      deadLetterQueueName: 'redrive-dlq',
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 2,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: 'hello' }));

    const counts: string[] = [];
    for (let i = 0; i < 2; i++) {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 3, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
      );
      expect(received.Messages).toHaveLength(1);
      counts.push(received.Messages![0].Attributes!.ApproximateReceiveCount!);
      await sqs.send(
        new ChangeMessageVisibilityCommand({ QueueUrl: queues.mainQueueUrl, ReceiptHandle: received.Messages![0].ReceiptHandle!, VisibilityTimeout: 0 }),
      );
    }
    expect(counts).toEqual(['1', '2']);

    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 1 }));
    expect(third.Messages ?? []).toHaveLength(0);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, WaitTimeSeconds: 2 }));
    expect(dead.Messages?.[0].Body).toBe('hello');
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, ReceiptHandle: dead.Messages![0].ReceiptHandle! }));
  });
});
