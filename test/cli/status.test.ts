import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { queueStatus } from '../../cli/commands/status';
import { startSqsEmulator, type QueuePair, type SqsEmulator } from '../../local/sqs-emulator';
import { depth, freshQueues, putDeadLetter, reason } from './queues';

describe('status against the SQS emulator', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let queues: QueuePair;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
    sqs = emulator.client();
    queues = await freshQueues(sqs, 'status');
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('reports depth of both queues, samples the DLQ without consuming it, and leaves the main queue alone unless asked', async () => {
    for (const id of ['A-S1', 'A-S2']) await sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: JSON.stringify({ id }) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: '{}', DelaySeconds: 600 }));
    for (const id of ['A-S3', 'A-S4']) await putDeadLetter(sqs, queues.deadLetterQueueUrl, { request: { subscriptionId: id, source: 'notification' }, reason: reason('terminal', 404) });
    const later = Date.now() + 60 * 60 * 1000;

    const [main, dlq] = await queueStatus(sqs, { ...queues, now: () => later });
    expect(main).toMatchObject({ queue: 'main', visible: 2, inFlight: 0, delayed: 1, sampled: 0 });
    expect(main.oldestAgeMs).toBeUndefined();
    expect(main.ageNote).toMatch(/CloudWatch ApproximateAgeOfOldestMessage/);
    expect(dlq).toMatchObject({ queue: 'dlq', visible: 2, inFlight: 0, delayed: 0, sampled: 2 });
    // Sent within the last minute, looked at an hour later: between one hour and one hour and a minute.
    expect(dlq.oldestAgeMs).toBeGreaterThanOrEqual(60 * 60 * 1000);
    expect(dlq.oldestAgeMs).toBeLessThan(61 * 60 * 1000);
    expect(dlq.ageNote).toMatch(/lower bound/);
    expect(await depth(sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });

    const [peekedMain] = await queueStatus(sqs, { ...queues, peekMain: true, now: () => later });
    expect(peekedMain.sampled).toBe(2);
    expect(await depth(sqs, queues.mainQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
  });
});
