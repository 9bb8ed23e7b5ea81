import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { body, deliver, drain, LIMIO_SECRET_ID } from './harness';
import { failedIds, ids, useHandlerParts } from './handler-parts';
import { MAX_REFUSAL_LENGTH } from '../../functions/shared/queue-message';
import { deeplyNestedBody } from '../support/hostile-bodies';

// The sync handler end to end on real local parts: the Limio sandbox over HTTP (counting token requests and
// in-flight calls at the server), real queues on the SQS emulator; only Secrets Manager is mocked.

function lambdaContext(remainingMs: () => number): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'zuora-limio-sync-sync',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:zuora-limio-sync-sync',
    memoryLimitInMB: '256',
    awsRequestId: 'test-request',
    logGroupName: '/aws/lambda/zuora-limio-sync-sync',
    logStreamName: 'test',
    getRemainingTimeInMillis: remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

describe('sync handler', () => {
  const parts = useHandlerParts();
  const { emulator } = parts;

  it('syncs a batch: every message handled, one token, one secret read, Limio id and owner reported', async () => {
    const handler = parts.handlerWith();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2'), body('A-S3')]);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect([...parts.sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2', 'A-S3']);
    expect(parts.sandbox.stats.tokenRequests).toBe(1);
    expect(parts.secret.reads()).toBe(1);
    expect(parts.events).toHaveLength(3);
    expect(parts.events.find((e) => e.subscriptionId === 'A-S1')).toEqual({
      subscriptionId: 'A-S1',
      messageIds: [event.Records[0].messageId],
      outcome: 'synced',
      httpStatus: 200,
      limioId: expect.stringMatching(/^sub-/),
      owner: expect.stringMatching(/^identity-/),
      latencyMs: expect.any(Number),
      attempt: 1,
    });
  });

  it('reuses the token and the secret across invocations', async () => {
    const handler = parts.handlerWith();
    for (const id of ['A-S1', 'A-S2', 'A-S3']) {
      expect(await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body(id)]))).toEqual({
        batchItemFailures: [],
      });
    }
    expect(parts.sandbox.stats.syncCalls).toBe(3);
    expect(parts.sandbox.stats.tokenRequests).toBe(1);
    expect(parts.secret.reads()).toBe(1);
  });

  it('makes one token request when a cold batch syncs many subscriptions at once', async () => {
    const handler = parts.handlerWith({ SYNC_CONCURRENCY: '10' });
    const subscriptions = Array.from({ length: 10 }, (_, n) => `A-S${100 + n}`);
    expect(
      await handler(
        await deliver(
          emulator.sqs,
          parts.queues.mainQueueUrl,
          subscriptions.map((id) => body(id)),
        ),
      ),
    ).toEqual({ batchItemFailures: [] });
    expect(parts.sandbox.stats.synced.size).toBe(10);
    expect(parts.sandbox.stats.tokenRequests).toBe(1);
  });

  it('fetches a new token when the cached one is about to expire', async () => {
    let now = Date.now();
    const handler = parts.handlerWith({}, { now: () => now });
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1')]));
    now += (3600 - 61) * 1000; // still outside the 60 s margin
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S2')]));
    expect(parts.sandbox.stats.tokenRequests).toBe(1);
    now += 2 * 1000; // inside it
    expect(await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S3')]))).toEqual({
      batchItemFailures: [],
    });
    expect(parts.sandbox.stats.tokenRequests).toBe(2);
    expect(parts.secret.reads()).toBe(1);
  });

  it('on a 401 fetches a new token and retries once at once', async () => {
    const handler = parts.handlerWith();
    await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1')]));
    parts.sandbox.revokeTokens();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S2'), body('A-S3')]);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(parts.sandbox.stats.tokenRequests).toBe(2);
    expect(parts.sandbox.stats.syncCallsById.get('A-S2')).toBe(2);
    expect(parts.sandbox.stats.synced.has('A-S2')).toBe(true);
    expect(parts.secret.reads()).toBe(1);
  });

  it('treats a second 401, with a fresh token, as retryable', async () => {
    parts.sandbox.respondWith('A-S1', 401, { message: 'token not valid for this tenant' });
    const handler = parts.handlerWith();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    expect(parts.sandbox.stats.syncCallsById.get('A-S1')).toBe(2);
    expect(parts.sandbox.stats.tokenRequests).toBe(2);
    expect(parts.events).toEqual([
      expect.objectContaining({ outcome: 'retry', httpStatus: 401, visibilitySeconds: expect.any(Number) }),
    ]);
  });

  it('re-reads the secret only when the token endpoint refuses the credentials (rotation)', async () => {
    parts.secret.mock
      .on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID })
      .resolvesOnce({
        SecretString: JSON.stringify({ clientId: parts.sandbox.clientId, clientSecret: 'before-rotation' }),
      })
      .resolves({
        SecretString: JSON.stringify({ clientId: parts.sandbox.clientId, clientSecret: parts.sandbox.clientSecret }),
      });
    const handler = parts.handlerWith();
    expect(await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1')]))).toEqual({
      batchItemFailures: [],
    });
    expect(await handler(await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S2')]))).toEqual({
      batchItemFailures: [],
    });
    expect(parts.secret.reads()).toBe(2);
    expect(parts.sandbox.stats.tokenRequests).toBe(2);
    expect(parts.output.text()).not.toContain('before-rotation');
  });

  it('keeps messages for retry when the credentials are refused even after a re-read', async () => {
    parts.secret.mock.on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID }).resolves({
      SecretString: JSON.stringify({ clientId: parts.sandbox.clientId, clientSecret: 'revoked-by-limio' }),
    });
    const handler = parts.handlerWith();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(parts.sandbox.stats.syncCalls).toBe(0);
    expect(parts.secret.reads()).toBe(2);
    expect(parts.events.map((e) => e.error)).toEqual([
      expect.stringContaining('refused the client credentials'),
      expect.stringContaining('refused the client credentials'),
    ]);
    expect(parts.output.text()).not.toContain('revoked-by-limio');
  });

  it('calls Limio once per subscription however many messages ask for it, and all share the outcome', async () => {
    parts.sandbox.respondWith('A-S9', 502, { message: 'Zuora timed out' });
    const handler = parts.handlerWith();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [
      body('A-S1'),
      body('A-S9'),
      body('A-S1'),
      body('A-S9'),
      body('A-S1'),
    ]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [1, 3]));
    expect(Object.fromEntries(parts.sandbox.stats.syncCallsById)).toEqual({ 'A-S1': 1, 'A-S9': 1 });
    expect(
      parts.events
        .find((e) => e.subscriptionId === 'A-S1')
        ?.messageIds.slice()
        .sort(),
    ).toEqual(ids(event, [0, 2, 4]));
  });

  // The adaptive limit may admit fewer (it halves during its probe at seconds 0-4 of each minute), never more.
  it.each([
    ['false', 'exactly'],
    ['true', 'at most'],
  ])(
    'never has more than SYNC_CONCURRENCY calls in flight at Limio, even across concurrent invocations (SYNC_ADAPTIVE=%s: %s 3)',
    async (adaptive) => {
      parts.sandbox.setFaults({ latencyMs: 100 });
      const handler = parts.handlerWith({ SYNC_CONCURRENCY: '3', SYNC_ADAPTIVE: adaptive });
      const first = await deliver(
        emulator.sqs,
        parts.queues.mainQueueUrl,
        Array.from({ length: 8 }, (_, n) => body(`A-S${n}`)),
      );
      const second = await deliver(
        emulator.sqs,
        parts.queues.mainQueueUrl,
        Array.from({ length: 8 }, (_, n) => body(`B-S${n}`)),
      );
      const responses = await Promise.all([handler(first), handler(second)]);
      expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(parts.sandbox.stats.synced.size).toBe(16);
      if (adaptive === 'false') expect(parts.sandbox.stats.maxInFlight).toBe(3);
      else expect(parts.sandbox.stats.maxInFlight).toBeLessThanOrEqual(3);
    },
  );

  it('gives up on a hung Limio after LIMIO_TIMEOUT_MS and keeps the messages for retry', async () => {
    parts.sandbox.setFaults({ hangRate: 1 });
    const handler = parts.handlerWith({ LIMIO_TIMEOUT_MS: '300', SYNC_CONCURRENCY: '1' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(parts.events.map((e) => e.error)).toEqual([
      'Limio did not answer within 300 ms',
      'Limio did not answer within 300 ms',
    ]);
    expect(parts.sandbox.stats.syncCalls).toBe(2);
    expect(parts.sandbox.stats.synced.size).toBe(0);
  });

  it('reports exactly the failed messages of a mixed batch and dead-letters the rest with their reasons', async () => {
    parts.sandbox.respondWith('A-S404', 404, { message: 'Subscription not found in Zuora' });
    parts.sandbox.respondWith('A-S502', 502, { message: 'upstream failed' });
    parts.sandbox.respondWith('A-S200', 200, { success: false });
    parts.sandbox.respondWith('A-S429', 429, { message: 'slow down' });
    const handler = parts.handlerWith({ MAX_ATTEMPTS: '5' });
    const bodies = [
      body('A-S1', { zuoraRequestId: 'zuora-req-1' }), // 0 synced
      body('A-S404'), // 1 terminal -> DLQ
      body('A-S502'), // 2 retryable -> retry
      body('A-S502'), // 3 same subscription, but on its last attempt -> DLQ exhausted
      'not json at all', // 4 poison
      JSON.stringify({ v: 1, subscriptionId: '../../admin', source: 'test', receivedAt: new Date().toISOString() }), // 5 poison
      JSON.stringify({ v: 2, subscriptionId: 'A-S1', source: 'test', receivedAt: new Date().toISOString() }), // 6 poison
      body('A-S200'), // 7 200 without success -> retry
      body('A-S429'), // 8 429 -> retry
      body('A-S1'), // 9 duplicate of 0 -> synced
    ];
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, bodies, { 3: 5 });
    expect(failedIds(await handler(event))).toEqual(ids(event, [2, 7, 8]));

    const dead = await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 5);
    const byBody = (text: string) => dead.filter((letter) => letter.body === text).map((letter) => letter.reason);
    expect(dead).toHaveLength(5);
    expect(byBody(bodies[1])).toEqual([
      {
        failureClass: 'terminal',
        httpStatus: 404,
        error: 'Limio answered 404: Subscription not found in Zuora',
        failedAt: expect.any(String),
        attempts: 1,
      },
    ]);
    expect(byBody(bodies[3])).toEqual([
      {
        failureClass: 'exhausted',
        httpStatus: 502,
        error: 'received 5 times (MAX_ATTEMPTS 5): Limio answered 502: upstream failed',
        failedAt: expect.any(String),
        attempts: 5,
      },
    ]);
    expect(byBody(bodies[4])).toEqual([
      expect.objectContaining({ failureClass: 'poison', error: 'message body is not JSON', attempts: 1 }),
    ]);
    expect(byBody(bodies[5])).toEqual([
      expect.objectContaining({ failureClass: 'poison', error: expect.stringContaining('invalid subscriptionId') }),
    ]);
    expect(byBody(bodies[6])).toEqual([
      expect.objectContaining({
        failureClass: 'poison',
        error: expect.stringContaining('unsupported message version'),
      }),
    ]);
    expect(Object.fromEntries(parts.sandbox.stats.syncCallsById)).toEqual({
      'A-S1': 1,
      'A-S404': 1,
      'A-S502': 1,
      'A-S200': 1,
      'A-S429': 1,
    });

    const outcomes = parts.events
      .map((e) => `${e.subscriptionId ?? '-'} ${e.outcome} ${e.failureClass ?? ''} ${e.messageIds.length}`)
      .sort();
    expect(outcomes).toEqual([
      '- dead-lettered poison 1',
      '../../admin dead-lettered poison 1',
      'A-S1 dead-lettered poison 1',
      'A-S1 synced  2',
      'A-S200 retry  1',
      'A-S404 dead-lettered terminal 1',
      'A-S429 retry  1',
      'A-S502 dead-lettered exhausted 1',
      'A-S502 retry  1',
    ]);
  });

  it('dead-letters a body nested 5,000 deep as poison with its reason, and syncs the good messages of its batch (issue #20 item 1)', async () => {
    const handler = parts.handlerWith();
    const good = ['A-S1', 'A-S2', 'A-S3', 'A-S4', 'A-S5', 'A-S6', 'A-S7', 'A-S8', 'A-S9'];
    const nested = deeplyNestedBody();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [
      ...good.slice(0, 4).map((id) => body(id)),
      nested,
      ...good.slice(4).map((id) => body(id)),
    ]);

    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect([...parts.sandbox.stats.synced].sort()).toEqual(good);
    const dead = await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 1);
    expect(dead.map((letter) => letter.body === nested)).toEqual([true]);
    expect(dead[0].reason).toMatchObject({
      failureClass: 'poison',
      attempts: 1,
      error: expect.stringMatching(/^unsupported message version \[\[\[\[.*… \(array\); expected 1$/),
    });
    expect(dead[0].reason.error!.length).toBeLessThanOrEqual(MAX_REFUSAL_LENGTH);
    expect(parts.events.filter((e) => e.outcome === 'dead-lettered').map((e) => e.messageIds)).toEqual([
      [event.Records[4].messageId],
    ]);
  });

  it('dead-letters an account message that reached the sync queue as poison, saying it belongs on the fan-out queue, and syncs the rest (issue #22)', async () => {
    const handler = parts.handlerWith();
    const account = JSON.stringify({
      v: 1,
      kind: 'account',
      accountKey: 'A00001234',
      source: 'notification',
      receivedAt: new Date().toISOString(),
    });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1'), account, body('A-S2')]);

    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect([...parts.sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2']);
    expect(parts.sandbox.stats.syncCalls).toBe(2);
    const dead = await drain(emulator.sqs, parts.queues.deadLetterQueueUrl, 1);
    expect(dead.map((letter) => letter.body)).toEqual([account]);
    expect(dead[0].reason).toMatchObject({
      failureClass: 'poison',
      attempts: 1,
      error:
        'account message for A00001234 on the sync queue: account messages belong on the fan-out queue (ACCOUNT_QUEUE_URL), which turns them into subscription messages',
    });
  });

  it('postpones the syncs that could outlive the invocation instead of letting Lambda time out', async () => {
    const remaining = [60_000, 60_000, 1_000, 1_000];
    const context = lambdaContext(() => remaining.shift() ?? 1_000);
    // The fixed limit, whose tasks wait as long as it takes and read the time left once their slot comes (the
    // adaptive limit reads it before, for its wait bound: adaptive-sync.test.ts).
    const handler = parts.handlerWith({ SYNC_CONCURRENCY: '1', LIMIO_TIMEOUT_MS: '5000', SYNC_ADAPTIVE: 'false' });
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [
      body('A-S1'),
      body('A-S2'),
      body('A-S3'),
      body('A-S4'),
    ]);
    expect(failedIds(await handler(event, context))).toEqual(ids(event, [2, 3]));
    expect([...parts.sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2']);
    expect(parts.sandbox.stats.syncCalls).toBe(2);
    expect(parts.events.filter((e) => e.outcome === 'retry').map((e) => e.error)).toEqual([
      'not attempted: the invocation was running out of time',
      'not attempted: the invocation was running out of time',
    ]);
  });

  it('logs JSON with subscriptionId, messageId and the Zuora request id, emits EMF metrics, and never a token or secret', async () => {
    // Answers 150 ms apart close an adaptive-limit window (100 ms at least), so its latency metrics are always there:
    // at the sandbox's own few milliseconds they came only when the machine was slow or a probe was under way.
    parts.sandbox.setFaults({ latencyMs: 150 });
    parts.sandbox.respondWith('A-S404', 404);
    const handler = parts.handlerWith();
    await handler(
      await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S1', { zuoraRequestId: 'zuora-req-42' })]),
    );
    parts.sandbox.revokeTokens();
    const event = await deliver(emulator.sqs, parts.queues.mainQueueUrl, [body('A-S2'), body('A-S404')]);
    await handler(event);

    const entries = parts.output.lines();
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'INFO',
        message: 'subscription synced',
        subscriptionId: 'A-S1',
        zuoraRequestId: 'zuora-req-42',
        messageId: expect.any(String),
      }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'ERROR',
        subscriptionId: 'A-S404',
        messageId: event.Records[1].messageId,
        httpStatus: 404,
      }),
    );
    const metricNames = entries
      .filter((entry) => entry._aws !== undefined)
      .flatMap(
        (entry) =>
          (entry._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> })
            .CloudWatchMetrics,
      )
      .flatMap((directive) => directive.Metrics.map((metric) => `${directive.Namespace}/${metric.Name}`));
    expect(new Set(metricNames)).toEqual(
      new Set(
        [
          'synced',
          'terminal',
          'deadLettered',
          'tokenFetches',
          'syncLatency',
          'limioConcurrencyLimit',
          'limioCallsInFlight',
          'limioUnloadedLatency',
          'limioLatencyRatio',
        ].map((name) => `ZuoraLimioSync/${name}`),
      ),
    );

    const text = parts.output.text();
    expect(parts.sandbox.issuedTokens()).toHaveLength(2);
    for (const token of parts.sandbox.issuedTokens()) expect(text).not.toContain(token);
    expect(text).not.toContain(parts.sandbox.clientSecret);
    expect(text.toLowerCase()).not.toContain('bearer');
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});
