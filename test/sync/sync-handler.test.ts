import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { createSyncHandler, type SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import type { QueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { body, deliver, drain, LIMIO_SECRET_ID, mockLimioSecret, newQueuePair, syncConfig, toRecord } from './harness';
import { captureOutput } from '../support/capture-output';

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

const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();
const ids = (event: SQSEvent, indexes: number[]) => indexes.map((index) => event.Records[index].messageId).sort();

describe('sync handler', () => {
  const emulator = useSqsEmulator();
  let sandbox: LimioSandbox;
  let queues: QueuePair;
  let secret: ReturnType<typeof mockLimioSecret>;
  let output: ReturnType<typeof captureOutput>;
  let events: SyncOutcomeEvent[];

  beforeEach(async () => {
    output = captureOutput();
    sandbox = await startLimioSandbox();
    queues = await newQueuePair(emulator.sqs);
    secret = mockLimioSecret(sandbox);
    events = [];
  });
  afterEach(async () => {
    output.restore();
    secret.mock.restore();
    await sandbox.stop();
  });

  function handlerWith(env: Record<string, string> = {}, extra: { now?: () => number; random?: () => number; dlqUrl?: string } = {}) {
    const config = syncConfig(sandbox, queues, env);
    return createSyncHandler(extra.dlqUrl ? { ...config, deadLetterQueueUrl: extra.dlqUrl } : config, {
      sqs: emulator.sqs,
      secretsManager: secret.client,
      now: extra.now,
      random: extra.random ?? (() => 0.5),
      observer: { onSyncOutcome: (event) => events.push(event) },
    });
  }

  it('syncs a batch: every message handled, one token, one secret read, Limio id and owner reported', async () => {
    const handler = handlerWith();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S2'), body('A-S3')]);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect([...sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2', 'A-S3']);
    expect(sandbox.stats.tokenRequests).toBe(1);
    expect(secret.reads()).toBe(1);
    expect(events).toHaveLength(3);
    expect(events.find((e) => e.subscriptionId === 'A-S1')).toEqual({
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
    const handler = handlerWith();
    for (const id of ['A-S1', 'A-S2', 'A-S3']) {
      expect(await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body(id)]))).toEqual({ batchItemFailures: [] });
    }
    expect(sandbox.stats.syncCalls).toBe(3);
    expect(sandbox.stats.tokenRequests).toBe(1);
    expect(secret.reads()).toBe(1);
  });

  it('makes one token request when a cold batch syncs many subscriptions at once', async () => {
    const handler = handlerWith({ SYNC_CONCURRENCY: '10' });
    const subscriptions = Array.from({ length: 10 }, (_, n) => `A-S${100 + n}`);
    expect(await handler(await deliver(emulator.sqs, queues.mainQueueUrl, subscriptions.map((id) => body(id))))).toEqual({ batchItemFailures: [] });
    expect(sandbox.stats.synced.size).toBe(10);
    expect(sandbox.stats.tokenRequests).toBe(1);
  });

  it('fetches a new token when the cached one is about to expire', async () => {
    let now = Date.now();
    const handler = handlerWith({}, { now: () => now });
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')]));
    now += (3600 - 61) * 1000; // still outside the 60 s margin
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S2')]));
    expect(sandbox.stats.tokenRequests).toBe(1);
    now += 2 * 1000; // inside it
    expect(await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S3')]))).toEqual({ batchItemFailures: [] });
    expect(sandbox.stats.tokenRequests).toBe(2);
    expect(secret.reads()).toBe(1);
  });

  it('on a 401 fetches a new token and retries once at once', async () => {
    const handler = handlerWith();
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')]));
    sandbox.revokeTokens();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S2'), body('A-S3')]);
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(sandbox.stats.tokenRequests).toBe(2);
    expect(sandbox.stats.syncCallsById.get('A-S2')).toBe(2);
    expect(sandbox.stats.synced.has('A-S2')).toBe(true);
    expect(secret.reads()).toBe(1);
  });

  it('treats a second 401, with a fresh token, as retryable', async () => {
    sandbox.respondWith('A-S1', 401, { message: 'token not valid for this tenant' });
    const handler = handlerWith();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    expect(sandbox.stats.syncCallsById.get('A-S1')).toBe(2);
    expect(sandbox.stats.tokenRequests).toBe(2);
    expect(events).toEqual([expect.objectContaining({ outcome: 'retry', httpStatus: 401, visibilitySeconds: expect.any(Number) })]);
  });

  it('re-reads the secret only when the token endpoint refuses the credentials (rotation)', async () => {
    secret.mock
      .on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID })
      .resolvesOnce({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: 'before-rotation' }) })
      .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }) });
    const handler = handlerWith();
    expect(await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1')]))).toEqual({ batchItemFailures: [] });
    expect(await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S2')]))).toEqual({ batchItemFailures: [] });
    expect(secret.reads()).toBe(2);
    expect(sandbox.stats.tokenRequests).toBe(2);
    expect(output.text()).not.toContain('before-rotation');
  });

  it('keeps messages for retry when the credentials are refused even after a re-read', async () => {
    secret.mock
      .on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID })
      .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: 'revoked-by-limio' }) });
    const handler = handlerWith();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(sandbox.stats.syncCalls).toBe(0);
    expect(secret.reads()).toBe(2);
    expect(events.map((e) => e.error)).toEqual([
      expect.stringContaining('refused the client credentials'),
      expect.stringContaining('refused the client credentials'),
    ]);
    expect(output.text()).not.toContain('revoked-by-limio');
  });

  it('calls Limio once per subscription however many messages ask for it, and all share the outcome', async () => {
    sandbox.respondWith('A-S9', 502, { message: 'Zuora timed out' });
    const handler = handlerWith();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S9'), body('A-S1'), body('A-S9'), body('A-S1')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [1, 3]));
    expect(Object.fromEntries(sandbox.stats.syncCallsById)).toEqual({ 'A-S1': 1, 'A-S9': 1 });
    expect(events.find((e) => e.subscriptionId === 'A-S1')?.messageIds.slice().sort()).toEqual(ids(event, [0, 2, 4]));
  });

  it('never has more than SYNC_CONCURRENCY calls in flight at Limio, even across concurrent invocations', async () => {
    sandbox.setFaults({ latencyMs: 100 });
    const handler = handlerWith({ SYNC_CONCURRENCY: '3' });
    const first = await deliver(emulator.sqs, queues.mainQueueUrl, Array.from({ length: 8 }, (_, n) => body(`A-S${n}`)));
    const second = await deliver(emulator.sqs, queues.mainQueueUrl, Array.from({ length: 8 }, (_, n) => body(`B-S${n}`)));
    const responses = await Promise.all([handler(first), handler(second)]);
    expect(responses).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
    expect(sandbox.stats.synced.size).toBe(16);
    expect(sandbox.stats.maxInFlight).toBe(3);
  });

  it('gives up on a hung Limio after LIMIO_TIMEOUT_MS and keeps the messages for retry', async () => {
    sandbox.setFaults({ hangRate: 1 });
    const handler = handlerWith({ LIMIO_TIMEOUT_MS: '300', SYNC_CONCURRENCY: '1' });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S2')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(events.map((e) => e.error)).toEqual(['Limio did not answer within 300 ms', 'Limio did not answer within 300 ms']);
    expect(sandbox.stats.syncCalls).toBe(2);
    expect(sandbox.stats.synced.size).toBe(0);
  });

  it('reports exactly the failed messages of a mixed batch and dead-letters the rest with their reasons', async () => {
    sandbox.respondWith('A-S404', 404, { message: 'Subscription not found in Zuora' });
    sandbox.respondWith('A-S502', 502, { message: 'upstream failed' });
    sandbox.respondWith('A-S200', 200, { success: false });
    sandbox.respondWith('A-S429', 429, { message: 'slow down' });
    const handler = handlerWith({ MAX_ATTEMPTS: '5' });
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
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, bodies, { 3: 5 });
    expect(failedIds(await handler(event))).toEqual(ids(event, [2, 7, 8]));

    const dead = await drain(emulator.sqs, queues.deadLetterQueueUrl, 5);
    const byBody = (text: string) => dead.filter((letter) => letter.body === text).map((letter) => letter.reason);
    expect(dead).toHaveLength(5);
    expect(byBody(bodies[1])).toEqual([
      { failureClass: 'terminal', httpStatus: 404, error: 'Limio answered 404: Subscription not found in Zuora', failedAt: expect.any(String), attempts: 1 },
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
    expect(byBody(bodies[4])).toEqual([expect.objectContaining({ failureClass: 'poison', error: 'message body is not JSON', attempts: 1 })]);
    expect(byBody(bodies[5])).toEqual([expect.objectContaining({ failureClass: 'poison', error: expect.stringContaining('invalid subscriptionId') })]);
    expect(byBody(bodies[6])).toEqual([expect.objectContaining({ failureClass: 'poison', error: expect.stringContaining('unsupported message version') })]);
    expect(Object.fromEntries(sandbox.stats.syncCallsById)).toEqual({ 'A-S1': 1, 'A-S404': 1, 'A-S502': 1, 'A-S200': 1, 'A-S429': 1 });

    const outcomes = events.map((e) => `${e.subscriptionId ?? '-'} ${e.outcome} ${e.failureClass ?? ''} ${e.messageIds.length}`).sort();
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

  it('sets the backoff with ChangeMessageVisibility, so the message comes back after it and not after the queue default', async () => {
    // The queue's own visibility timeout is 3 minutes: only the handler's backoff can bring the message back sooner.
    queues = await newQueuePair(emulator.sqs, 180);
    sandbox.respondWith('A-S502', 502);
    const handler = handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '1' });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S502')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    expect(events).toEqual([expect.objectContaining({ outcome: 'retry', visibilitySeconds: 1 })]);
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    expect(again.Messages?.[0]?.Body).toBe(event.Records[0].body);
    expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('2');
  });

  // The time budget decides (see outage-mode.test.ts); MAX_ATTEMPTS stays as a safety net on receives.
  it('dead-letters a message on its MAX_ATTEMPTS-th receive, through real redeliveries, well inside its time budget', async () => {
    sandbox.respondWith('A-S502', 502, { message: 'upstream failed' });
    const handler = handlerWith({ MAX_ATTEMPTS: '2', BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '1' });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S502')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0]));
    const again = await emulator.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }),
    );
    const redelivered = toRecord(again.Messages![0], queues.mainQueueUrl);
    expect(redelivered.attributes.ApproximateReceiveCount).toBe('2');
    expect(await handler({ Records: [redelivered] })).toEqual({ batchItemFailures: [] });
    expect(await drain(emulator.sqs, queues.deadLetterQueueUrl, 1)).toEqual([
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
    expect(sandbox.stats.syncCallsById.get('A-S502')).toBe(2);
  });

  it("waits as long as Limio's Retry-After asks, within BACKOFF_MAX_SECONDS", async () => {
    sandbox.setFaults({ retryAfterSeconds: 7 });
    sandbox.respondWith('A-S429', 429);
    const handler = handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '5' });
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S429')]));
    sandbox.setFaults({ retryAfterSeconds: 3 });
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S429')]));
    expect(events.map((e) => [e.outcome, e.httpStatus, e.visibilitySeconds])).toEqual([
      ['retry', 429, 5],
      ['retry', 429, 3],
    ]);
  });

  it("keeps a backoff of 12 hours (BACKOFF_MAX_SECONDS=43200, a day's Retry-After) within SQS's 12 hours from the receive, so SQS takes it", async () => {
    // The queue's own visibility timeout is 2 s: a backoff SQS refused would bring the message back at once.
    queues = await newQueuePair(emulator.sqs, 2);
    sandbox.setFaults({ retryAfterSeconds: 86_400 });
    sandbox.respondWith('A-S429', 429);
    // A clock that stands still, so the seconds spent since the receive are exactly none.
    const at = Date.now();
    const handler = handlerWith({ BACKOFF_MAX_SECONDS: '43200' }, { now: () => at });
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S429')]));

    // 43,200 s less the margin for the time between the event source's receive and the invocation.
    expect(events.map((e) => [e.outcome, e.httpStatus, e.visibilitySeconds])).toEqual([['retry', 429, 42_300]]);
    expect(output.lines().filter((entry) => entry.level === 'ERROR')).toEqual([]);
    const again = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 4 }));
    expect(again.Messages ?? []).toEqual([]);
  });

  it('reports a message as failed, never lost, when the DLQ cannot take it', async () => {
    sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    const handler = handlerWith({}, { dlqUrl: missingDlq });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S404'), 'poison', body('A-S1')]);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    expect(sandbox.stats.synced.has('A-S1')).toBe(true);
    expect(events.filter((e) => e.outcome === 'retry')).toHaveLength(2);
    expect(output.lines().some((entry) => entry.message === 'could not send the message to the DLQ; leaving it on the queue')).toBe(true);
  });

  it('backs off a message the DLQ could not take, so it does not come back after the queue default and call Limio again', async () => {
    // The queue's own visibility timeout is 1 s: without a backoff the message would be back at once.
    queues = await newQueuePair(emulator.sqs, 1);
    sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    const handler = handlerWith({ BACKOFF_BASE_SECONDS: '1', BACKOFF_MAX_SECONDS: '30' }, { dlqUrl: missingDlq });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S404'), 'poison']);
    expect(failedIds(await handler(event))).toEqual(ids(event, [0, 1]));
    // Between 3/4 of BACKOFF_MAX_SECONDS and all of it; random() is 0.5 here.
    expect(events.map((e) => [e.outcome, e.visibilitySeconds])).toEqual([
      ['retry', 27],
      ['retry', 27],
    ]);
    const again = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 3 }));
    expect(again.Messages ?? []).toEqual([]);
    expect(sandbox.stats.syncCallsById.get('A-S404')).toBe(1);
  });

  it('keeps the backoff of a message the DLQ could not take within 12 hours of its receive, BACKOFF_MAX_SECONDS=43200 included', async () => {
    queues = await newQueuePair(emulator.sqs, 2);
    sandbox.respondWith('A-S404', 404);
    const missingDlq = `${emulator.endpoint}/000000000000/no-such-queue`;
    // random() 0 asks for the whole of BACKOFF_MAX_SECONDS; the clock stands still, so no time is spent since the receive.
    const at = Date.now();
    const handler = handlerWith({ BACKOFF_MAX_SECONDS: '43200' }, { dlqUrl: missingDlq, random: () => 0, now: () => at });
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S404')]));

    expect(events.map((e) => [e.outcome, e.visibilitySeconds])).toEqual([['retry', 42_300]]);
    const again = await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.mainQueueUrl, WaitTimeSeconds: 4 }));
    expect(again.Messages ?? []).toEqual([]);
  });

  it('postpones the syncs that could outlive the invocation instead of letting Lambda time out', async () => {
    const remaining = [60_000, 60_000, 1_000, 1_000];
    const context = lambdaContext(() => remaining.shift() ?? 1_000);
    const handler = handlerWith({ SYNC_CONCURRENCY: '1', LIMIO_TIMEOUT_MS: '5000' });
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1'), body('A-S2'), body('A-S3'), body('A-S4')]);
    expect(failedIds(await handler(event, context))).toEqual(ids(event, [2, 3]));
    expect([...sandbox.stats.synced].sort()).toEqual(['A-S1', 'A-S2']);
    expect(sandbox.stats.syncCalls).toBe(2);
    expect(events.filter((e) => e.outcome === 'retry').map((e) => e.error)).toEqual([
      'not attempted: the invocation was running out of time',
      'not attempted: the invocation was running out of time',
    ]);
  });

  it('logs JSON with subscriptionId, messageId and the Zuora request id, emits EMF metrics, and never a token or secret', async () => {
    sandbox.respondWith('A-S404', 404);
    const handler = handlerWith();
    await handler(await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S1', { zuoraRequestId: 'zuora-req-42' })]));
    sandbox.revokeTokens();
    const event = await deliver(emulator.sqs, queues.mainQueueUrl, [body('A-S2'), body('A-S404')]);
    await handler(event);

    const entries = output.lines();
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'INFO', message: 'subscription synced', subscriptionId: 'A-S1', zuoraRequestId: 'zuora-req-42', messageId: expect.any(String) }),
    );
    expect(entries).toContainEqual(
      expect.objectContaining({ level: 'ERROR', subscriptionId: 'A-S404', messageId: event.Records[1].messageId, httpStatus: 404 }),
    );
    const metricNames = entries
      .filter((entry) => entry._aws !== undefined)
      .flatMap((entry) => (entry._aws as { CloudWatchMetrics: Array<{ Namespace: string; Metrics: Array<{ Name: string }> }> }).CloudWatchMetrics)
      .flatMap((directive) => directive.Metrics.map((metric) => `${directive.Namespace}/${metric.Name}`));
    expect(new Set(metricNames)).toEqual(
      new Set(['synced', 'terminal', 'deadLettered', 'tokenFetches', 'syncLatency'].map((name) => `ZuoraLimioSync/${name}`)),
    );

    const text = output.text();
    expect(sandbox.issuedTokens()).toHaveLength(2);
    for (const token of sandbox.issuedTokens()) expect(text).not.toContain(token);
    expect(text).not.toContain(sandbox.clientSecret);
    expect(text.toLowerCase()).not.toContain('bearer');
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});
