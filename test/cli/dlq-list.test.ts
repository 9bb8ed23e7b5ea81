import { listDeadLetters } from '../../cli/commands/dlq-list';
import { runCli } from '../../cli/main';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { captureIo, depth, freshQueues, putMixedDeadLetters, takeAll } from './queues';

// Listing dead letters against the same SQS emulator `npm start` uses.
describe('dlq list', () => {
  const emulator = useSqsEmulator();
  let queues: QueuePair;
  beforeEach(async () => {
    queues = await freshQueues(emulator.sqs, 'dlq-list');
  });

  const hourAgo = new Date(Date.now() - 60 * 60 * 1000);

  const mixedDeadLetters = () => putMixedDeadLetters(emulator.sqs, queues.deadLetterQueueUrl, hourAgo);

  it('lists every dead letter with its reason and consumes nothing', async () => {
    await mixedDeadLetters();
    const result = await listDeadLetters(emulator.sqs, { deadLetterQueueUrl: queues.deadLetterQueueUrl, limit: 100, waitTimeSeconds: 0 });

    const bySubscription = Object.fromEntries(result.deadLetters.map((row) => [row.subscriptionId ?? 'unreadable', row]));
    expect(Object.keys(bySubscription).sort()).toEqual(['A-S00000001', 'A-S00000002', 'A-S00000003', 'A-S00000004', 'unreadable']);
    expect(bySubscription['A-S00000001']).toMatchObject({ failureClass: 'exhausted', httpStatus: 502, attempts: 8, failedAt: hourAgo.toISOString(), source: 'notification' });
    expect(bySubscription['A-S00000002']).toMatchObject({ failureClass: 'terminal', httpStatus: 404, error: 'Limio answered 404' });
    expect(bySubscription['A-S00000003']).toMatchObject({ replayCount: 2 });
    expect(bySubscription['A-S00000004'].failureClass).toBe('unknown');
    expect(bySubscription['A-S00000004'].error).toMatch(/SQS redrive/);
    // Without a failedAt attribute, the time it was first sent is all there is; it is labelled as such.
    expect(bySubscription['A-S00000004'].failedAt).toBeUndefined();
    expect(Date.parse(bySubscription['A-S00000004'].sentAt!)).toBeGreaterThan(hourAgo.getTime());
    expect(bySubscription.unreadable).toMatchObject({ failureClass: 'poison', bodyProblem: 'message body is not JSON', body: 'this is not json' });
    expect(result).toMatchObject({ truncated: false, notRestored: 0 });

    // Visible again at once, not after a visibility timeout.
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
    expect(await takeAll(emulator.sqs, queues.deadLetterQueueUrl)).toHaveLength(5);
  });

  it('stops at --limit and says so, still consuming nothing', async () => {
    await mixedDeadLetters();
    const result = await listDeadLetters(emulator.sqs, { deadLetterQueueUrl: queues.deadLetterQueueUrl, limit: 2, waitTimeSeconds: 0 });
    expect(result.deadLetters).toHaveLength(2);
    expect(result.truncated).toBe(true);
    expect(await depth(emulator.sqs, queues.deadLetterQueueUrl)).toEqual({ visible: 5, inFlight: 0 });
  });

  it('dlq list does not call a DLQ empty whose letters another reader is hiding', async () => {
    await mixedDeadLetters();
    // Another reader (a replay under way) holds every letter.
    await takeAll(emulator.sqs, queues.deadLetterQueueUrl);
    const result = await listDeadLetters(emulator.sqs, { deadLetterQueueUrl: queues.deadLetterQueueUrl, limit: 100, waitTimeSeconds: 0 });
    expect(result).toMatchObject({ deadLetters: [], hidden: 5 });

    const captured = captureIo({ ZLS_DLQ_URL: queues.deadLetterQueueUrl, AWS_ENDPOINT_URL_SQS: emulator.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
    expect(await runCli(['dlq', 'list'], captured.io)).toBe(0);
    expect(captured.stdout()).toContain('No dead letter is visible right now, but the dead-letter queue is NOT empty.');
    expect(captured.stdout()).not.toContain('The dead-letter queue is empty.');
    expect(captured.stderr()).toMatch(/5 more letter\(s\) are hidden \(in flight\): a `dlq replay` under way/);
  });
});
