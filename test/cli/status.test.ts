import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { queueStatus } from '../../cli/commands/status';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { depth, freshQueues, putDeadLetter, reason } from './queues';

describe('status against the SQS emulator', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeAll(async () => {
    queues = await freshQueues(emulator.sqs, 'status');
  });

  it('reports depth of both queues, samples the DLQ without consuming it, and leaves the main queue alone unless asked', async () => {
    for (const id of ['A-S1', 'A-S2']) await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: JSON.stringify({ id }) }));
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: '{}', DelaySeconds: 600 }));
    for (const id of ['A-S3', 'A-S4']) await putDeadLetter(emulator.sqs, queues.deadLetterQueueUrl, { request: { subscriptionId: id, source: 'notification' }, reason: reason('terminal', 404) });
    const later = Date.now() + 60 * 60 * 1000;

    const [main, dlq] = await queueStatus(emulator.sqs, { ...queues, now: () => later });
    expect(main).toMatchObject({ queue: 'main', visible: 2, inFlight: 0, delayed: 1, sampled: 0 });
    expect(main.oldestAgeMs).toBeUndefined();
    expect(main.ageNote).toMatch(/CloudWatch ApproximateAgeOfOldestMessage/);
    expect(dlq).toMatchObject({ queue: 'dlq', visible: 2, inFlight: 0, delayed: 0, sampled: 2 });
    // Sent within the last minute, looked at an hour later: between one hour and one hour and a minute.
    expect(dlq.oldestAgeMs).toBeGreaterThanOrEqual(60 * 60 * 1000);
    expect(dlq.oldestAgeMs).toBeLessThan(61 * 60 * 1000);
    expect(dlq.ageNote).toMatch(/lower bound/);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 2, inFlight: 0 });

    const [peekedMain] = await queueStatus(emulator.sqs, { ...queues, peekMain: true, now: () => later });
    expect(peekedMain.sampled).toBe(2);
    expect(await depth(emulator.sqs, queues.mainQueueUrl)).toEqual({ visible: 2, inFlight: 0 });
  });
});
