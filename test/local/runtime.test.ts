import { request as httpRequest } from 'node:http';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { readDeadLetterReason } from '../../functions/shared/dead-letter';
import type { Runtime } from '../../local/runtime';
import { runCli } from '../../cli/main';
import { countArrivals, emptyTally } from '../../local/output';
import { captureIo } from '../cli/queues';
import { basicHeader, postJson, recorder, start } from './runtime-harness';

describe('local runtime, end to end (REST front door, Basic auth, sandbox)', () => {
  const rec = recorder();
  let runtime: Runtime;
  let authorization: string;

  beforeAll(async () => {
    const env = {
      BACKOFF_BASE_SECONDS: '1',
      BACKOFF_MAX_SECONDS: '1',
      CALLOUT_DELAY_SECONDS: '1',
      SYNC_POLLERS: '1',
      SYNC_BATCHING_WINDOW_SECONDS: '1',
      // Far above one poller's calls in flight: the capacity model is there, never reached.
      LIMIO_SANDBOX_CAPACITY: '50',
      // On, as npm start runs it when asked: its overload line is one of the things this suite checks.
      SYNC_ADAPTIVE: 'true',
    };
    runtime = await start(env, rec);
    // No callout auth was configured, so the runtime generated Basic credentials.
    authorization = basicHeader(runtime.config.callout);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('challenges a callout without credentials like the deployed REST API, then syncs it with a bearer token once they come', async () => {
    const challenge = await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000271' });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toBe('Basic realm="zuora-limio-sync"');
    expect(rec.refused).toHaveLength(0); // the gateway answered; the Lambda never ran

    const accepted = await postJson(
      runtime.calloutUrl,
      { subscriptionNumber: 'A-S00000271' },
      { authorization, 'Zuora-Notification-Id': 'n-1' },
    );
    expect(accepted.status).toBe(200);
    expect(JSON.parse(accepted.body)).toMatchObject({ success: true });

    const synced = await rec.waitFor('A-S00000271', 'synced');
    const sandbox = runtime.limioSandbox!;
    // The sandbox answers 200 only to a valid, unexpired bearer token it issued.
    expect(sandbox.stats.synced.has('A-S00000271')).toBe(true);
    expect(sandbox.stats.tokenRequests).toBeGreaterThanOrEqual(1);
    expect(synced.limioId).toEqual(expect.any(String));
    expect(synced.owner).toEqual(expect.any(String));
  });

  it('refuses wrong credentials with 403 and queues nothing', async () => {
    const before = runtime.limioSandbox!.stats.syncCalls;
    const wrong = `Basic ${Buffer.from('zuora:not-the-password').toString('base64')}`;
    const refused = await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000272' }, { authorization: wrong });
    expect(refused.status).toBe(403);
    expect(rec.refused.at(-1)).toMatchObject({ status: 403, reason: 'auth-invalid' });
    expect(runtime.limioSandbox!.stats.syncCalls).toBe(before);
  });

  it('retries Limio 502s through the queue until the subscription syncs', async () => {
    const sandbox = runtime.limioSandbox!;
    sandbox.setFaults({ rate502: 1 });
    await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000502' }, { authorization });
    const retry = await rec.waitFor('A-S00000502', 'retry');
    expect(retry.httpStatus).toBe(502);
    // An overload answer cuts the sync handler's adaptive limit at once (npm start prints the change).
    expect(rec.limitChanges).toContainEqual(expect.objectContaining({ reason: 'overload' }));
    sandbox.setFaults({ rate502: 0 });
    const synced = await rec.waitFor('A-S00000502', 'synced');
    expect(synced.attempt).toBeGreaterThanOrEqual(2);
    expect(sandbox.stats.syncCallsById.get('A-S00000502')).toBeGreaterThanOrEqual(2);
  });

  it('puts a subscription Limio answers 404 for in the DLQ with its reason', async () => {
    runtime.limioSandbox!.respondWith('A-S00000404', 404);
    await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000404' }, { authorization });
    const dead = await rec.waitFor('A-S00000404', 'dead-lettered');
    expect(dead).toMatchObject({ failureClass: 'terminal', httpStatus: 404 });

    const received = await runtime.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: runtime.queues.deadLetterQueueUrl,
        WaitTimeSeconds: 5,
        MessageAttributeNames: ['All'],
      }),
    );
    const message = received.Messages?.find((m) => m.Body?.includes('A-S00000404'));
    expect(message).toBeDefined();
    expect(JSON.parse(message!.Body!)).toMatchObject({ v: 1, subscriptionId: 'A-S00000404' });
    expect(readDeadLetterReason(message!.MessageAttributes)).toMatchObject({
      failureClass: 'terminal',
      httpStatus: 404,
      attempts: 1,
    });
    await runtime.sqs.send(
      new DeleteMessageCommand({ QueueUrl: runtime.queues.deadLetterQueueUrl, ReceiptHandle: message!.ReceiptHandle! }),
    );
    expect(runtime.limioSandbox!.stats.syncCallsById.get('A-S00000404')).toBe(1);
  });

  it('makes one Limio call for a burst of duplicate callouts for one subscription', async () => {
    const id = 'A-S00000555';
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        postJson(runtime.calloutUrl, { subscriptionNumber: id }, { authorization, 'Zuora-Request-Id': `r-${i}` }),
      ),
    );
    expect(burst.map((r) => r.status)).toEqual(Array(6).fill(200));
    const synced = await rec.waitFor(id, 'synced');
    expect(synced.messageIds).toHaveLength(6);
    expect(runtime.limioSandbox!.stats.syncCallsById.get(id)).toBe(1);
  });

  it('takes query parameters and headers named constructor, __proto__, toString and hasOwnProperty as ordinary input', async () => {
    const id = 'A-S00000313';
    const body = JSON.stringify({ subscriptionNumber: id });
    // node:http with raw header pairs: fetch's Headers drops a header named __proto__.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        `${runtime.calloutUrl}?constructor=1&__proto__=2&toString=3&hasOwnProperty=4`,
        {
          method: 'POST',
          headers: [
            'Host',
            new URL(runtime.calloutUrl).host,
            'Authorization',
            authorization,
            'Content-Type',
            'application/json',
            'constructor',
            'a',
            '__proto__',
            'b',
            'toString',
            'c',
            'hasOwnProperty',
            'd',
          ],
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
    expect(status).toBe(200);
    await rec.waitFor(id, 'synced');
  });

  it('starts the Limio sandbox with LIMIO_SANDBOX_CAPACITY, and changes it on POST /_local/limio/capacity while it runs', async () => {
    const url = new URL('/_local/limio/capacity', runtime.calloutUrl);
    expect(await (await fetch(url)).json()).toEqual({ capacity: 50, latencyMs: 0 });
    const changed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ capacity: 40, latencyMs: 1 }),
    });
    expect(await changed.json()).toEqual({ capacity: 40, latencyMs: 1 });
    expect(runtime.limioSandbox?.serviceModel()).toEqual({ capacity: 40, latencyMs: 1 });
    expect(rec.limioCapacityChanges).toEqual([{ capacity: 40, latencyMs: 1 }]);
  });

  it("counts what the CLI queued for npm start's Stopped. summary, once per message, as the poller hands it over", async () => {
    const cli = captureIo({ SQS_PORT: new URL(runtime.sqsEndpoint).port, PORT: new URL(runtime.calloutUrl).port });
    expect(await runCli(['enqueue', '--local', 'A-S00000611', 'A-S00000612'], cli.io)).toBe(0);
    await Promise.all(['A-S00000611', 'A-S00000612'].map((id) => rec.waitFor(id, 'synced')));
    const tally = emptyTally();
    countArrivals(tally, rec.records);
    expect(tally).toMatchObject({ cliQueued: 2, cliReplayed: 0 });
  });

  it('reports no worker errors', () => {
    expect(rec.errors).toEqual([]);
  });
});

describe('local runtime with an HTTP API front door', () => {
  const rec = recorder();
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await start(
      {
        API_KIND: 'http',
        CALLOUT_USERNAME: 'zuora',
        CALLOUT_PASSWORD: 'local-test-password',
        SYNC_BATCHING_WINDOW_SECONDS: '0',
      },
      rec,
    );
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it("cannot challenge: the handler's WWW-Authenticate arrives renamed, as from a real HTTP API", async () => {
    const response = await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000271' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(response.headers.get('x-amzn-remapped-www-authenticate')).toMatch(/^Basic realm=/);
    expect(rec.refused.at(-1)).toMatchObject({ status: 401, reason: 'auth-missing' });
  });

  it('decodes a form callout that arrives base64-encoded and syncs it', async () => {
    const authorization = `Basic ${Buffer.from('zuora:local-test-password').toString('base64')}`;
    const response = await fetch(runtime.calloutUrl, {
      method: 'POST',
      body: 'subscriptionNumber=A-S00000777&eventType=OrderProcessed',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
    await rec.waitFor('A-S00000777', 'synced');
    expect(runtime.limioSandbox!.stats.synced.has('A-S00000777')).toBe(true);
  });
});
