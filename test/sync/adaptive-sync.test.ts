import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { LimitChange } from '../../functions/sync/adaptive-limit';
import { PROBE_PERIOD_MS } from '../../functions/sync/adaptive-limit';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { toSqsRecord } from '../../local/sqs-lambda-event';
import { failedIds, ids, useHandlerParts } from './handler-parts';
import { body, deliver } from './harness';
import { lambdaContext } from './ledger-pipeline';

/** The adaptive limit in the sync handler, over the SQS emulator and the Limio sandbox (issue #21 items 3 and 4). */
describe('sync handler with the adaptive limit', () => {
  const parts = useHandlerParts();
  const { emulator } = parts;

  it('sends a message that got no Limio slot within its bound back for 1-2 s: no Limio call, no retryable failure, counted as a slot wait', async () => {
    parts.sandbox.setFaults({ latencyMs: 1_500 });
    const handler = parts.handlerWith({ SYNC_CONCURRENCY: '1', SYNC_SLOT_WAIT_SECONDS: '1' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);

    expect(failedIds(await handler(event))).toEqual(ids(event, [1]));
    expect(parts.sandbox.stats.syncCalls).toBe(1);
    expect([...parts.sandbox.stats.synced]).toEqual(['A-S1']);
    expect(parts.events).toContainEqual(
      expect.objectContaining({
        subscriptionId: 'A-S2',
        outcome: 'retry',
        error: 'not attempted: no Limio slot within the wait bound',
        visibilitySeconds: expect.any(Number),
      }),
    );
    const returned = parts.events.find((e) => e.subscriptionId === 'A-S2')!;
    expect(returned.visibilitySeconds).toBeGreaterThanOrEqual(1);
    expect(returned.visibilitySeconds).toBeLessThanOrEqual(2);
    const metrics = metricValues(parts.output.lines());
    expect(metrics.get('syncSlotWaits')).toEqual([1]);
    // Not a Limio failure: neither the retry budget's nor the breaker's business.
    expect(metrics.get('retryable')).toBeUndefined();
  });

  it('bounds the wait by what the invocation has left for a sync, not only by SYNC_SLOT_WAIT_SECONDS', async () => {
    parts.sandbox.setFaults({ latencyMs: 1_500 });
    // 800 ms beyond what a sync needs (LIMIO_TIMEOUT_MS and 2 s for the SQS calls after it): A-S2 goes back once
    // those 800 ms have passed, instead of holding on for A-S1's 1.5 s only to be postponed then.
    const handler = parts.handlerWith({ SYNC_CONCURRENCY: '1', LIMIO_TIMEOUT_MS: '2000' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);

    const answer = await handler(event, lambdaContext(4_800));
    expect(failedIds(answer)).toEqual(ids(event, [1]));
    expect(parts.sandbox.stats.syncCalls).toBe(1);
    expect(parts.events).toContainEqual(
      expect.objectContaining({ subscriptionId: 'A-S2', error: 'not attempted: no Limio slot within the wait bound' }),
    );
  });

  it('with SYNC_ADAPTIVE=false waits for the fixed slot as before: every message is synced, none sent back', async () => {
    parts.sandbox.setFaults({ latencyMs: 1_200 });
    const handler = parts.handlerWith({ SYNC_CONCURRENCY: '1', SYNC_SLOT_WAIT_SECONDS: '1', SYNC_ADAPTIVE: 'false' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);

    expect(failedIds(await handler(event))).toEqual([]);
    expect([...parts.sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2']);
    expect(metricValues(parts.output.lines()).get('limioConcurrencyLimit')).toBeUndefined();
  });

  it('drains a backlog against a Limio of hidden capacity 4 at 50 ms with the limit settling near 4 and few overload refusals', async () => {
    const capacity = 4;
    parts.sandbox.setFaults({ latencyMs: 50 });
    parts.sandbox.setCapacity(capacity);
    // The limit grows only once a wall-clock probe has measured Limio: the handler's clock is set just before a
    // minute begins, so the first probe comes at once instead of up to a minute later.
    const offsetMs = PROBE_PERIOD_MS - (Date.now() % PROBE_PERIOD_MS) - 200;
    const changes: LimitChange[] = [];
    const breakerStore = new InMemoryBreakerStore();
    const handler = parts.handlerWith(
      { SYNC_CONCURRENCY: '20', SYNC_ADAPTIVE_INITIAL_LIMIT: '2', SYNC_SLOT_WAIT_SECONDS: '2' },
      { now: () => Date.now() + offsetMs, onLimitChange: (change) => changes.push(change), breakerStore },
    );
    const subscriptions = Array.from({ length: 600 }, (_, n) => `A-S${1000 + n}`);
    for (let first = 0; first < subscriptions.length; first += 10) {
      const entries = subscriptions.slice(first, first + 10).map((id, n) => ({ Id: String(n), MessageBody: body(id) }));
      await emulator.sqs.send(new SendMessageBatchCommand({ QueueUrl: parts.queues.mainQueueUrl, Entries: entries }));
    }

    // Four invocations at a time, as the event source would run them against one container's shared limit.
    const deadline = Date.now() + 20_000;
    const invoke = async () => {
      while (Date.now() < deadline && parts.sandbox.stats.synced.size < subscriptions.length) {
        const answer = await emulator.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: parts.queues.mainQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            AttributeNames: ['All'],
          }),
        );
        const messages = answer.Messages ?? [];
        if (messages.length === 0) continue;
        const event: SQSEvent = {
          Records: messages.map((message) =>
            toSqsRecord(message, 'arn:aws:sqs:us-east-1:000000000000:test', 'us-east-1'),
          ),
        };
        const failed = new Set(failedIds(await handler(event)));
        const done = messages.filter((message) => !failed.has(message.MessageId!));
        if (done.length > 0) {
          await emulator.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: parts.queues.mainQueueUrl,
              Entries: done.map((message, n) => ({ Id: String(n), ReceiptHandle: message.ReceiptHandle! })),
            }),
          );
        }
      }
    };
    await Promise.all([invoke(), invoke(), invoke(), invoke()]);

    const { stats } = parts.sandbox;
    expect(stats.synced.size).toBeGreaterThan(300);
    // Few refusals: the limit found the capacity from latency before Limio had to refuse.
    expect(stats.overloadRefused).toBeLessThanOrEqual(0.1 * stats.syncCalls);
    const limits = metricValues(parts.output.lines()).get('limioConcurrencyLimit')!;
    const settled = limits.slice(-10);
    const meanLimit = settled.reduce((sum, limit) => sum + limit, 0) / settled.length;
    // Near K: above what it started at (2) and well below the ceiling (20).
    expect(meanLimit).toBeGreaterThanOrEqual(0.75 * capacity);
    expect(meanLimit).toBeLessThanOrEqual(2.5 * capacity);
    expect(changes.some((change) => change.reason === 'growth')).toBe(true);
    const metrics = metricValues(parts.output.lines());
    expect(Math.min(...metrics.get('limioUnloadedLatency')!)).toBeGreaterThanOrEqual(40);
    expect(metrics.get('limioLatencyRatio')!.every((ratio) => ratio > 0)).toBe(true);
    // Overload is not an outage: the few refusals reached the breaker, which stayed closed.
    expect((await breakerStore.read()).breaker.state).toBe('closed');
  }, 40_000);
});

/** Every value of each metric in the captured EMF lines, in order. */
function metricValues(lines: Record<string, unknown>[]): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const line of lines) {
    const directives =
      (line._aws as { CloudWatchMetrics?: Array<{ Metrics: Array<{ Name: string }> }> } | undefined)
        ?.CloudWatchMetrics ?? [];
    for (const { Name } of directives.flatMap((directive) => directive.Metrics)) {
      const value = line[Name];
      values.set(Name, [
        ...(values.get(Name) ?? []),
        ...(Array.isArray(value) ? (value as number[]) : [value as number]),
      ]);
    }
  }
  return values;
}
