import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { body, deliver, drain, newQueuePair, toRecord } from './harness';
import { failedIds, ids, useHandlerParts } from './handler-parts';

// What becomes of a message whose sync failed: its backoff (ChangeMessageVisibility, Limio's Retry-After, SQS's
// 12 hours), the DLQ once its attempts are spent, and a DLQ that cannot take it. End to end on the Limio sandbox
// and the SQS emulator, as sync-handler.test.ts.

describe('sync handler: backoff and dead-lettering', () => {
  const parts = useHandlerParts();
  const { emulator } = parts;

  it('sets the backoff with ChangeMessageVisibility, so the message comes back after it and not after the queue default', async () => {
    // The queue's own visibility timeout is 3 minutes: only the handler's backoff can bring the message back sooner.
    parts.queues = await newQueuePair(emulator.sqs, 180);
    parts.sandbox.respondWith('A-S502', 502);
    const handler = parts.handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '1' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S502')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    expect(parts.events).toEqual([expect.objectContaining({ outcome: 'retry', visibilitySeconds: 1 })]);
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: parts.queues.mainQueueUrl,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
    );
    expect(again.Messages?.[0]?.Body).toBe(event.Records[0].body);
    expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  // The time budget decides (see outage-mode.test.ts); MAX_ATTEMPTS stays as a safety net on receives.
  it('dead-letters a message on its MAX_ATTEMPTS-th receive, through real redeliveries, well inside its time budget', async () => {
    parts.sandbox.respondWith('A-S502', 502, { message: 'upstream failed' });
    const handler = parts.handlerWith({ MAX_ATTEMPTS: '2', BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '1' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S502')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: parts.queues.mainQueueUrl,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const redelivered = toRecord(again.Messages![0], parts.queues.mainQueueUrl);
    expect(redelivered.attributes.ApproximateReceiveCount).toBe('2');
    expect(await handler({ Records: [redelivered] })).toEqual({ batchItemFailures: [] });
    expect(await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 1)).toEqual([
      {
        body: event.Records[0].body,
        reason: {
          failureClass: 'exhausted',
          httpStatus: 502,
          error: 'received 2 times (MAX_ATTEMPTS 2): Limio answered 502: upstream failed',
          failedAt: expect.any(String),
          attempts: 2,
        },
      },
    ]);
    expect(parts.sandbox.stats.syncCallsById.get('A-S502')).toBe(2);
  });

  it("waits as long as Limio's Retry-After asks, within BACKOFF_MAX_SECONDS", async () => {
    parts.sandbox.setFaults({ retryAfterSeconds: 7 });
    parts.sandbox.respondWith('A-S429', 429);
    const handler = parts.handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '5' });
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S429')]));
    parts.sandbox.setFaults({ retryAfterSeconds: 3 });
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S429')]));
    expect(parts.events.map((e) => [e.outcome, e.httpStatus, e.visibilitySeconds])).toEqual([
      ['retry', 429, 5],
      ['retry', 429, 3],
    ]);
  });

  it("keeps a backoff of 12 hours (BACKOFF_MAX_SECONDS=43200, a day's Retry-After) within SQS's 12 hours from the receive, so SQS takes it", async () => {
    // The queue's own visibility timeout is 2 s: a backoff SQS refused would bring the message back at once.
    parts.queues = await newQueuePair(emulator.sqs, 2);
    parts.sandbox.setFaults({ retryAfterSeconds: 86_400 });
    parts.sandbox.respondWith('A-S429', 429);
    // A clock that stands still, so the seconds spent since the receive are exactly none.
    const at = Date.now();
    const handler = parts.handlerWith({ BACKOFF_MAX_SECONDS: '43200' }, { now: () => at });
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S429')]));

    // 43,200 s less the margin for the time between the event source's receive and the invocation.
    expect(parts.events.map((e) => [e.outcome, e.httpStatus, e.visibilitySeconds])).toEqual([['retry', 429, 42_300]]);
    expect(parts.output.lines().filter((entry) => entry.level === 'ERROR')).toEqual([]);
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, WaitTimeSeconds: 4 }),
    );
    expect(again.Messages ?? []).toEqual([]);
  });

  it('reports a message as failed, never lost, when the DLQ cannot take it', async () => {
    parts.sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    const handler = parts.handlerWith({}, { dlqUrl: missingDlq });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S404'), 'poison', body('A-S1')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(parts.sandbox.stats.synced.has('A-S1')).toBe(true);
    expect(parts.events.filter((e) => e.outcome === 'retry')).toHaveLength(2);
    expect(
      parts.output
        .lines()
        .some((entry) => entry.message === 'could not send the message to the DLQ; leaving it on the queue'),
    ).toBe(true);
  });

  it('backs off a message the DLQ could not take, so it does not come back after the queue default and call Limio again', async () => {
    // The queue's own visibility timeout is 1 s: without a backoff the message would be back at once.
    parts.queues = await newQueuePair(emulator.sqs, 1);
    parts.sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    const handler = parts.handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '30' }, { dlqUrl: missingDlq });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S404'), 'poison']);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    // Between 3/4 of BACKOFF_MAX_SECONDS and all of it; random() is 0.5 here.
    expect(parts.events.map((e) => [e.outcome, e.visibilitySeconds])).toEqual([
      ['retry', 27],
      ['retry', 27],
    ]);
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 3 }),
    );
    expect(again.Messages ?? []).toEqual([]);
    expect(parts.sandbox.stats.syncCallsById.get('A-S404')).toBe(1);
  });

  it('keeps the backoff of a message the DLQ could not take within 12 hours of its receive, BACKOFF_MAX_SECONDS=43200 included', async () => {
    parts.queues = await newQueuePair(emulator.sqs, 2);
    parts.sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    // random() 0 asks for the whole of BACKOFF_MAX_SECONDS; the clock stands still, so no time is spent since the receive.
    const at = Date.now();
    const handler = parts.handlerWith(
      { BACKOFF_MAX_SECONDS: '43200' },
      { dlqUrl: missingDlq, random: () => 0, now: () => at },
    );
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S404')]));

    expect(parts.events.map((e) => [e.outcome, e.visibilitySeconds])).toEqual([['retry', 42_300]]);
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: parts.queues.mainQueueUrl, WaitTimeSeconds: 4 }),
    );
    expect(again.Messages ?? []).toEqual([]);
  });
});
