import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { openBreaker } from '../../functions/breaker/operator';
import { createSyncHandler, type SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import type { QueuePair, SqsEmulator } from '../../local/sqs-emulator';
import { captureOutput, metricValues } from '../support/capture-output';
import {
  body,
  deliver,
  drain,
  mockLimioSecret,
  newQueuePair,
  startSqsEmulatorWithVisibilityCeiling,
  syncConfig,
  toRecord,
} from './harness';

// What the sync handler does when SQS refuses a ChangeMessageVisibility. The SQS emulator here refuses any
// visibility that ends more than 5 s after the receive (its test-only FAUXQS_VISIBILITY_CEILING_SECONDS), the
// way real SQS refuses one beyond 12 hours; the handler still asks for its usual holds and backoffs, so each is
// refused. Such a message is never lost: it comes back after the queue's visibility timeout, the refusal is
// logged and counted, and a held message refused again and again goes to the DLQ with a reason before SQS's
// redrive would move it there with none.

const CEILING_SECONDS = 5;
/** The queue's own visibility timeout: where a message whose hold was refused comes back. */
const QUEUE_VISIBILITY_SECONDS = 2;

describe('sync handler when SQS refuses a visibility change', () => {
  let emulator: SqsEmulator;
  let sqs: SQSClient;
  let sandbox: LimioSandbox;
  let queues: QueuePair;
  let secret: ReturnType<typeof mockLimioSecret>;
  let output: ReturnType<typeof captureOutput>;
  let events: SyncOutcomeEvent[];

  beforeAll(async () => {
    emulator = await startSqsEmulatorWithVisibilityCeiling(CEILING_SECONDS);
    sqs = emulator.client();
  });
  afterAll(() => emulator.stop());
  beforeEach(async () => {
    output = captureOutput();
    sandbox = await startLimioSandbox();
    queues = await newQueuePair(sqs, QUEUE_VISIBILITY_SECONDS);
    secret = mockLimioSecret(sandbox);
    events = [];
  });
  afterEach(async () => {
    output.restore();
    secret.mock.restore();
    await sandbox.stop();
  });

  function handlerWith(env: Record<string, string>, store?: InMemoryBreakerStore) {
    return createSyncHandler(syncConfig(sandbox, queues, env), {
      sqs,
      secretsManager: secret.client,
      random: () => 0.5,
      ...(store && { breakerStore: store }),
      observer: { onSyncOutcome: (event) => events.push(event) },
    });
  }

  const refusals = () =>
    output.lines().filter((entry) => typeof entry.message === 'string' && entry.message.startsWith('SQS refused the '));

  /** Waits for the message to come back on the main queue, as the event source would receive it. */
  async function receivedAgain(): Promise<SQSEvent> {
    for (let round = 0; round < 5; round++) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.mainQueueUrl,
          WaitTimeSeconds: 2,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
      );
      if (answer.Messages?.length)
        return { Records: answer.Messages.map((message) => toRecord(message, queues.mainQueueUrl)) };
    }
    throw new Error('the message did not come back');
  }

  it('logs and counts a refused hold, and the message comes back after the queue visibility timeout instead of being lost', async () => {
    const store = new InMemoryBreakerStore();
    await openBreaker(store, 'Limio down');
    const handler = handlerWith({ BREAKER_HOLD_SECONDS: '10' }, store);
    const event = await deliver(sqs, queues.mainQueueUrl, [body('A-S1')]);

    expect((await handler(event)).batchItemFailures).toEqual([{ itemIdentifier: event.Records[0].messageId }]);
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: "SQS refused the hold visibility: the message comes back after the queue's visibility timeout",
        messageId: event.Records[0].messageId,
        // BREAKER_HOLD_SECONDS plus its jitter (random() is 0.5 here).
        visibilitySeconds: 11,
        errorCode: 'InvalidParameterValue',
        error: expect.stringContaining('Total VisibilityTimeout for the message is beyond the limit [5 seconds]'),
      }),
    ]);
    expect(metricValues(output.lines(), 'visibilityRefused')).toEqual([1]);
    // The event says no hold was set: it was not.
    expect(events).toEqual([expect.not.objectContaining({ visibilitySeconds: expect.anything() })]);
    expect((await receivedAgain()).Records.map((record) => record.messageId)).toEqual([event.Records[0].messageId]);
  });

  it('logs and counts a refused backoff the same way', async () => {
    sandbox.respondWith('A-S502', 502);
    const handler = handlerWith({ BACKOFF_BASE_SECONDS: '20', BACKOFF_MAX_SECONDS: '60' });
    const event = await deliver(sqs, queues.mainQueueUrl, [body('A-S502')]);

    await handler(event);
    expect(refusals()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: expect.stringContaining('SQS refused the backoff visibility'),
        visibilitySeconds: 10,
      }),
    ]);
    expect(metricValues(output.lines(), 'visibilityRefused')).toEqual([1]);
    expect(events).toEqual([expect.objectContaining({ outcome: 'retry', httpStatus: 502 })]);
    expect(events[0].visibilitySeconds).toBeUndefined();
  });

  it("dead-letters with its reason, on its MAX_ATTEMPTS-th receive, a held message whose holds SQS keeps refusing, before SQS's redrive moves it with none", async () => {
    const store = new InMemoryBreakerStore();
    await openBreaker(store, 'Limio down');
    const handler = handlerWith({ BREAKER_HOLD_SECONDS: '10', MAX_ATTEMPTS: '3' }, store);
    let event = await deliver(sqs, queues.mainQueueUrl, [body('A-S1')]);
    const messageId = event.Records[0].messageId;

    const receives: string[] = [];
    const failures: number[] = [];
    for (let receive = 1; receive <= 3; receive++) {
      if (receive > 1) event = await receivedAgain();
      receives.push(event.Records[0].attributes.ApproximateReceiveCount);
      failures.push((await handler(event)).batchItemFailures.length);
    }

    expect(receives).toEqual(['1', '2', '3']);
    // Handled on the third receive: the event source deletes it from the main queue.
    expect(failures).toEqual([1, 1, 0]);
    expect(sandbox.stats.syncCalls).toBe(0);
    expect(refusals()).toHaveLength(2);
    expect(await drain(sqs, queues.deadLetterQueueUrl, 1)).toEqual([
      {
        body: event.Records[0].body,
        reason: expect.objectContaining({
          failureClass: 'exhausted',
          attempts: 3,
          error:
            "received 3 times (MAX_ATTEMPTS 3) while the breaker was open, dead-lettered before SQS's redrive moves it without a reason; held: the circuit breaker is open (opened by hand: Limio down)",
        }),
      },
    ]);
    expect(events.at(-1)).toEqual(
      expect.objectContaining({ messageIds: [messageId], outcome: 'dead-lettered', failureClass: 'exhausted' }),
    );
  });
});
