import { GetQueueAttributesCommand, SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createQueuePair, type QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startSqsPoller, type BatchOutcome, type SqsPoller } from '../../local/sqs-poller';

// The poller against the real emulator, with a plain function as the handler.
describe('SQS poller (Lambda event source mapping)', () => {
  const emulator = useSqsEmulator();
  let poller: SqsPoller | undefined;
  let queueNumber = 0;

  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
  });

  async function freshQueues(visibilityTimeoutSeconds = 1): Promise<QueuePair> {
    queueNumber += 1;
    return createQueuePair(emulator.sqs, {
      mainQueueName: `poller-${queueNumber}`,
      deadLetterQueueName: `poller-${queueNumber}-dlq`,
      visibilityTimeoutSeconds,
      maxReceiveCount: 5,
    });
  }

  async function queueDepth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
    const answer = await emulator.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(answer.Attributes!.ApproximateNumberOfMessages),
      inFlight: Number(answer.Attributes!.ApproximateNumberOfMessagesNotVisible),
    };
  }

  /** Resolves once `count` batches have finished. */
  function batchesSeen(count: number): {
    outcomes: BatchOutcome[];
    done: Promise<void>;
    onBatch: (o: BatchOutcome) => void;
  } {
    const outcomes: BatchOutcome[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    return {
      outcomes,
      done,
      onBatch: (outcome) => {
        outcomes.push(outcome);
        if (outcomes.length === count) resolve();
      },
    };
  }

  it('hands the handler a Lambda-shaped SQSEvent', async () => {
    const queues = await freshQueues();
    await emulator.sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.mainQueueUrl,
        MessageBody: '{"hello":"world"}',
        MessageAttributes: {
          source: { DataType: 'String', StringValue: 'test' },
          attempts: { DataType: 'Number', StringValue: '3' },
        },
      }),
    );
    const events: SQSEvent[] = [];
    const seen = batchesSeen(1);
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchingWindowSeconds: 0,
      handler: async (event) => {
        events.push(event);
      },
      onBatch: seen.onBatch,
    });
    await seen.done;
    const record = events[0].Records[0];
    expect(record.body).toBe('{"hello":"world"}');
    expect(record.eventSource).toBe('aws:sqs');
    expect(record.eventSourceARN).toMatch(/^arn:aws:sqs:[a-z0-9-]+:\d+:poller-\d+$/);
    expect(record.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(record.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(record.messageAttributes.source).toEqual({
      stringValue: 'test',
      stringListValues: [],
      binaryListValues: [],
      dataType: 'String',
    });
    expect(record.messageAttributes.attempts.dataType).toBe('Number');
    expect(record.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.outcomes[0]).toEqual({ records: 1, deleted: 1, retained: 0 });
  });

  it('deletes exactly the records not in batchItemFailures; the failed one comes back with a higher receive count', async () => {
    const queues = await freshQueues(2);
    await emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.mainQueueUrl,
        Entries: ['ok-1', 'fail', 'ok-2'].map((body, index) => ({ Id: String(index), MessageBody: body })),
      }),
    );
    const received: SQSRecord[] = [];
    const seen = batchesSeen(2);
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchingWindowSeconds: 0,
      handler: async (event) => {
        received.push(...event.Records);
        // Fail "fail" once; the second time it succeeds.
        const failing = event.Records.filter((r) => r.body === 'fail' && r.attributes.ApproximateReceiveCount === '1');
        return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      onBatch: seen.onBatch,
    });
    await seen.done;
    expect(seen.outcomes[0]).toEqual({ records: 3, deleted: 2, retained: 1 });
    expect(seen.outcomes[1]).toEqual({ records: 1, deleted: 1, retained: 0 });
    expect(received.map((r) => [r.body, r.attributes.ApproximateReceiveCount])).toEqual([
      ['ok-1', '1'],
      ['fail', '1'],
      ['ok-2', '1'],
      ['fail', '2'],
    ]);
    expect(await queueDepth(queues.mainQueueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes nothing when the handler throws, so the whole batch reappears', async () => {
    const queues = await freshQueues(2);
    await emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.mainQueueUrl,
        Entries: ['a', 'b'].map((body) => ({ Id: body, MessageBody: body })),
      }),
    );
    const errors: unknown[] = [];
    const receiveCounts: string[] = [];
    const seen = batchesSeen(2);
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchingWindowSeconds: 0,
      handler: async (event) => {
        receiveCounts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        if (event.Records[0].attributes.ApproximateReceiveCount === '1') throw new Error('handler failed');
      },
      onBatch: seen.onBatch,
      onError: (error) => errors.push(error),
    });
    await seen.done;
    expect(seen.outcomes[0]).toMatchObject({ records: 2, deleted: 0, retained: 2 });
    expect(seen.outcomes[1]).toEqual({ records: 2, deleted: 2, retained: 0 });
    expect(receiveCounts).toEqual(['1', '1', '2', '2']);
    expect(errors).toHaveLength(1);
    expect(poller.stats.invocationErrors).toBe(1);
  });

  it('gathers messages that arrive within the batching window into one invocation', async () => {
    const queues = await freshQueues(30);
    const sizes: number[] = [];
    const seen = batchesSeen(1);
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchSize: 4,
      // Far longer than the test needs: the batch ends when full, and a slow machine cannot close it early.
      batchingWindowSeconds: 20,
      waitTimeSeconds: 5,
      handler: async (event) => {
        sizes.push(event.Records.length);
      },
      onBatch: seen.onBatch,
    });
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: 'm0' }));
    // The window opens when a receive hands the poller its first message; the rest arrive after that.
    while (poller.stats.messagesReceived === 0) await poller.nextReceiveFinished();
    await emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.mainQueueUrl,
        Entries: [1, 2, 3].map((n) => ({ Id: `m${n}`, MessageBody: `m${n}` })),
      }),
    );
    await seen.done;
    expect(sizes).toEqual([4]);
  });

  it('receives nothing while paused and picks up again on resume', async () => {
    const queues = await freshQueues();
    let calls = 0;
    const seen = batchesSeen(1);
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchingWindowSeconds: 0,
      waitTimeSeconds: 1,
      concurrency: 2,
      handler: async () => {
        calls += 1;
      },
      onBatch: seen.onBatch,
    });
    poller.pause();
    expect(poller.paused).toBe(true);
    // Let the long polls already waiting run out: pausing does not cut them (that would lose their messages).
    await poller.receivesUnderWayFinished();
    const receivesBefore = poller.stats.receives;
    await emulator.sqs.send(new SendMessageCommand({ QueueUrl: queues.mainQueueUrl, MessageBody: 'held' }));
    // Give the loops every chance to act on the event loop (an I/O turn, not a guess at a duration).
    await new Promise((resolve) => setImmediate(resolve));
    expect(poller.receivesInFlight).toBe(0);
    expect(poller.stats.receives).toBe(receivesBefore);
    expect(calls).toBe(0);
    expect(await queueDepth(queues.mainQueueUrl)).toEqual({ visible: 1, inFlight: 0 });
    expect(poller.receivesInFlight).toBe(0);
    poller.resume();
    await seen.done;
    expect(calls).toBe(1);
    expect(poller.stats.receives).toBeGreaterThan(receivesBefore);
  });

  it('caps concurrent invocations with setMaxConcurrency, down to one and up beyond the loops it started with', async () => {
    const queues = await freshQueues(30);
    let running = 0;
    let mostAtOnce = 0;
    let releaseAll!: () => void;
    const allFourRunning = new Promise<void>((resolve) => (releaseAll = resolve));
    const seen = batchesSeen(7);
    let narrowDone!: () => void;
    const threeNarrowDone = new Promise<void>((resolve) => (narrowDone = resolve));
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      batchSize: 1,
      batchingWindowSeconds: 0,
      waitTimeSeconds: 1,
      concurrency: 3,
      handler: async (event) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        if (event.Records[0].body.startsWith('wide')) {
          if (running === 4) releaseAll();
          // Held until four run side by side (or, failing that, long enough for the assertion to fail).
          await Promise.race([allFourRunning, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        } else {
          // Long enough for invocations to overlap, were the cap not kept.
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        running -= 1;
      },
      onBatch: (outcome) => {
        seen.onBatch(outcome);
        if (seen.outcomes.length === 3) narrowDone();
      },
    });
    poller.setMaxConcurrency(1);
    expect(poller.maxConcurrency).toBe(1);
    // Long polls already waiting run out first (a cap, like a pause, never cuts a receive short); after that
    // only the first loop receives.
    await poller.receivesUnderWayFinished();
    await emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.mainQueueUrl,
        Entries: [1, 2, 3].map((n) => ({ Id: `n${n}`, MessageBody: `narrow-${n}` })),
      }),
    );
    await threeNarrowDone;
    expect(mostAtOnce).toBe(1);
    expect(poller.receivesInFlight).toBeLessThanOrEqual(1);

    poller.setMaxConcurrency(4);
    await emulator.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queues.mainQueueUrl,
        Entries: [1, 2, 3, 4].map((n) => ({ Id: `w${n}`, MessageBody: `wide-${n}` })),
      }),
    );
    await seen.done;
    expect(mostAtOnce).toBe(4);
  });

  it('stops promptly while a long poll is waiting', async () => {
    const queues = await freshQueues();
    poller = await startSqsPoller({
      client: emulator.sqs,
      queueUrl: queues.mainQueueUrl,
      waitTimeSeconds: 20,
      concurrency: 3,
      handler: async () => undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stopping = poller.stop();
    poller = undefined;
    // Half the long poll's 20 s: a stop that waited for the poll to run out would lose this race.
    let timer: NodeJS.Timeout | undefined;
    const winner = await Promise.race([
      stopping.then(() => 'stopped'),
      new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting'), 10_000))),
    ]);
    clearTimeout(timer);
    expect(winner).toBe('stopped');
  });
});
