import { createServer, request as httpRequest } from 'node:http';
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { AcceptedCallout, RefusedCallout } from '../../functions/callout/callout-handler';
import type { SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { readDeadLetterReason } from '../../functions/shared/dead-letter';
import { loadRuntimeConfig, type CalloutCredentials } from '../../local/config';
import { startLimioSandbox } from '../../local/limio-sandbox';
import { closeServer, listen, PortInUseError } from '../../local/listen';
import { LimioUnreachableError, startRuntime, type Runtime } from '../../local/runtime';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedgerStore } from '../../functions/ledger/dynamodb-ledger-store';
import { LOCAL_TABLES } from '../../local/defaults';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../../local/dynamodb-emulator';

// The whole pipeline in this process, on ephemeral ports: production handlers, SQS emulator, poller, sandbox.

const EPHEMERAL = { PORT: '0', SQS_PORT: '0', LIMIO_SANDBOX_PORT: '0', DYNAMODB_PORT: '0', ZUORA_SANDBOX_PORT: '0' };

interface Recorder {
  readonly syncs: SyncOutcomeEvent[];
  readonly accepted: AcceptedCallout[];
  readonly refused: RefusedCallout[];
  readonly errors: unknown[];
  /** Resolves with the first sync event for this subscription with this outcome, past or future. */
  waitFor(subscriptionId: string, outcome: SyncOutcomeEvent['outcome']): Promise<SyncOutcomeEvent>;
  notify(event: SyncOutcomeEvent): void;
}

function recorder(): Recorder {
  const waiting: Array<{ id: string; outcome: string; resolve: (e: SyncOutcomeEvent) => void }> = [];
  const syncs: SyncOutcomeEvent[] = [];
  return {
    syncs,
    accepted: [],
    refused: [],
    errors: [],
    waitFor(subscriptionId, outcome) {
      const seen = syncs.find((e) => e.subscriptionId === subscriptionId && e.outcome === outcome);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.push({ id: subscriptionId, outcome, resolve }));
    },
    notify(event) {
      syncs.push(event);
      for (const waiter of waiting.splice(0)) {
        if (waiter.id === event.subscriptionId && waiter.outcome === event.outcome) waiter.resolve(event);
        else waiting.push(waiter);
      }
    },
  };
}

async function start(env: Record<string, string>, rec: Recorder): Promise<Runtime> {
  return startRuntime({
    config: loadRuntimeConfig({ ...EPHEMERAL, ...env }),
    quiet: true,
    observers: {
      sync: { onSyncOutcome: (event) => rec.notify(event) },
      callout: { onAccepted: (c) => rec.accepted.push(c), onRefused: (r) => rec.refused.push(r) },
      onError: (error) => rec.errors.push(error),
    },
  });
}

function basicHeader(credentials: CalloutCredentials): string {
  if (credentials.mode !== 'basic') throw new Error('expected Basic credentials');
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.status, body: await response.text(), headers: response.headers };
}

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

    const accepted = await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000271' }, { authorization, 'Zuora-Notification-Id': 'n-1' });
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
      new ReceiveMessageCommand({ QueueUrl: runtime.queues.deadLetterQueueUrl, WaitTimeSeconds: 5, MessageAttributeNames: ['All'] }),
    );
    const message = received.Messages?.find((m) => m.Body?.includes('A-S00000404'));
    expect(message).toBeDefined();
    expect(JSON.parse(message!.Body!)).toMatchObject({ v: 1, subscriptionId: 'A-S00000404' });
    expect(readDeadLetterReason(message!.MessageAttributes)).toMatchObject({ failureClass: 'terminal', httpStatus: 404, attempts: 1 });
    await runtime.sqs.send(new DeleteMessageCommand({ QueueUrl: runtime.queues.deadLetterQueueUrl, ReceiptHandle: message!.ReceiptHandle! }));
    expect(runtime.limioSandbox!.stats.syncCallsById.get('A-S00000404')).toBe(1);
  });

  it('makes one Limio call for a burst of duplicate callouts for one subscription', async () => {
    const id = 'A-S00000555';
    const burst = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postJson(runtime.calloutUrl, { subscriptionNumber: id }, { authorization, 'Zuora-Request-Id': `r-${i}` })),
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
            'Host', new URL(runtime.calloutUrl).host,
            'Authorization', authorization,
            'Content-Type', 'application/json',
            'constructor', 'a',
            '__proto__', 'b',
            'toString', 'c',
            'hasOwnProperty', 'd',
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

  it('reports no worker errors', () => {
    expect(rec.errors).toEqual([]);
  });
});

describe('local runtime with an HTTP API front door', () => {
  const rec = recorder();
  let runtime: Runtime;
  beforeAll(async () => {
    runtime = await start({ API_KIND: 'http', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'local-test-password', SYNC_BATCHING_WINDOW_SECONDS: '0' }, rec);
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('cannot challenge: the handler\'s WWW-Authenticate arrives renamed, as from a real HTTP API', async () => {
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

describe('local runtime against a Limio tenant (LIMIO_BASE_URL)', () => {
  it('syncs against the tenant given, with its client credentials, and starts no sandbox', async () => {
    const tenant = await startLimioSandbox();
    const rec = recorder();
    let runtime: Runtime | undefined;
    try {
      runtime = await start(
      {
        LIMIO_BASE_URL: tenant.baseUrl,
        LIMIO_CLIENT_ID: tenant.clientId,
        LIMIO_CLIENT_SECRET: tenant.clientSecret,
        CALLOUT_AUTH_MODE: 'header',
        CALLOUT_HEADER_NAME: 'X-Callout-Token',
        CALLOUT_HEADER_VALUE: 'local-token-value',
        SYNC_BATCHING_WINDOW_SECONDS: '0',
      },
      rec,
    );
      expect(runtime.limioSandbox).toBeUndefined();
      expect(runtime.limioBaseUrl).toBe(tenant.baseUrl);
      // Header mode is not Basic: a callout without the header reaches the handler and is refused there.
      expect((await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000901' })).status).toBe(401);
      const ok = await postJson(runtime.calloutUrl, { subscriptionNumber: 'A-S00000901' }, { 'X-Callout-Token': 'local-token-value' });
      expect(ok.status).toBe(200);
      await rec.waitFor('A-S00000901', 'synced');
      expect(tenant.stats.synced.has('A-S00000901')).toBe(true);
    } finally {
      await runtime?.stop();
      await tenant.stop();
    }
  });

  it('fails fast, naming LIMIO_BASE_URL, when the tenant does not answer', async () => {
    // A port that was just free: nothing listens there.
    const probe = createServer();
    const port = await listen(probe, 0, '127.0.0.1', 'PORT');
    await closeServer(probe);
    const config = loadRuntimeConfig({ ...EPHEMERAL, LIMIO_BASE_URL: `http://127.0.0.1:${port}`, LIMIO_CLIENT_ID: 'id', LIMIO_CLIENT_SECRET: 'secret' });
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(LimioUnreachableError);
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(/LIMIO_BASE_URL http:\/\/127\.0\.0\.1:\d+: the Limio token endpoint could not be reached/);
  });

  it('fails fast when the tenant refuses the client credentials', async () => {
    const tenant = await startLimioSandbox();
    try {
      const config = loadRuntimeConfig({ ...EPHEMERAL, LIMIO_BASE_URL: tenant.baseUrl, LIMIO_CLIENT_ID: tenant.clientId, LIMIO_CLIENT_SECRET: 'wrong' });
      await expect(startRuntime({ config, quiet: true })).rejects.toThrow(/refused the client credentials.*LIMIO_CLIENT_SECRET/);
    } finally {
      await tenant.stop();
    }
  });
});

describe('local runtime and the sync ledger', () => {
  async function ledgerEntryAfterOneSync(ledger: boolean | undefined, subscriptionId: string) {
    const rec = recorder();
    const runtime = await startRuntime({
      config: loadRuntimeConfig({ ...EPHEMERAL, SYNC_BATCHING_WINDOW_SECONDS: '0' }),
      quiet: true,
      ...(ledger !== undefined && { ledger }),
      observers: { sync: { onSyncOutcome: (event) => rec.notify(event) } },
    });
    const dynamodb = new DynamoDBClient({ endpoint: runtime.dynamoDbEndpoint, region: DYNAMODB_EMULATOR_REGION, credentials: DYNAMODB_EMULATOR_CREDENTIALS });
    try {
      expect((await postJson(runtime.calloutUrl, { subscriptionNumber: subscriptionId }, { authorization: basicHeader(runtime.config.callout) })).status).toBe(200);
      await rec.waitFor(subscriptionId, 'synced');
      await runtime.stopWorkers();
      return (await new DynamoDbLedgerStore(dynamodb, LOCAL_TABLES.ledger).readMany([subscriptionId])).entries.get(subscriptionId);
    } finally {
      dynamodb.destroy();
      await runtime.stop();
    }
  }

  it('records each sync in the ledger table of its DynamoDB emulator, as the sync Lambda does in AWS', async () => {
    expect((await ledgerEntryAfterOneSync(undefined, 'A-S00000950'))?.lastSuccess?.limioId).toEqual(expect.any(String));
  });

  it('runs the sync handler without the ledger when asked (a measurement\'s baseline)', async () => {
    expect(await ledgerEntryAfterOneSync(false, 'A-S00000951')).toBeUndefined();
  });
});

describe('local runtime lifecycle', () => {
  it('names PORT when the callout port is taken, and leaves nothing running behind', async () => {
    const squatter = createServer();
    const port = await listen(squatter, 0, '127.0.0.1', 'PORT');
    try {
      const config = loadRuntimeConfig({ ...EPHEMERAL, PORT: String(port) });
      const failure = startRuntime({ config, quiet: true });
      await expect(failure).rejects.toThrow(PortInUseError);
      await expect(failure).rejects.toThrow(`port ${port} is already in use`);
    } finally {
      await closeServer(squatter);
    }
  });

  it.each(['DYNAMODB_PORT', 'ZUORA_SANDBOX_PORT'])('names %s when its port is taken, and leaves nothing running behind', async (variable) => {
    const squatter = createServer();
    const port = await listen(squatter, 0, '127.0.0.1', variable);
    try {
      const config = loadRuntimeConfig({ ...EPHEMERAL, [variable]: String(port) });
      const failure = startRuntime({ config, quiet: true });
      await expect(failure).rejects.toThrow(PortInUseError);
      await expect(failure).rejects.toThrow(`port ${port} is already in use; stop what is listening there or set ${variable} to another port`);
    } finally {
      await closeServer(squatter);
    }
  });

  it('refuses a plain-http Zuora tenant off this machine before starting anything, naming ZUORA_BASE_URL', async () => {
    const config = loadRuntimeConfig({ ...EPHEMERAL, ZUORA_BASE_URL: 'http://rest.zuora.com', ZUORA_CLIENT_ID: 'id', ZUORA_CLIENT_SECRET: 'secret' });
    await expect(startRuntime({ config, quiet: true })).rejects.toThrow(expect.objectContaining({ name: 'ConfigError', variable: 'ZUORA_BASE_URL' }));
  });

  it('stop() closes every port it opened and restores the environment', async () => {
    const endpointBefore = process.env.AWS_ENDPOINT_URL_SQS;
    const dynamoDbEndpointBefore = process.env.AWS_ENDPOINT_URL_DYNAMODB;
    const runtime = await start({}, recorder());
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(runtime.sqsEndpoint);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(runtime.dynamoDbEndpoint);
    const urls = [runtime.calloutUrl, runtime.sqsEndpoint, `${runtime.limioBaseUrl}/oauth2/token`, runtime.dynamoDbEndpoint, `${runtime.zuoraBaseUrl}/oauth/token`];
    for (const url of urls) expect(new URL(url).port).not.toBe('');
    await runtime.stop();
    for (const url of urls) {
      await expect(fetch(url, { method: 'POST' })).rejects.toThrow();
    }
    expect(process.env.AWS_ENDPOINT_URL_SQS).toBe(endpointBefore);
    expect(process.env.AWS_ENDPOINT_URL_DYNAMODB).toBe(dynamoDbEndpointBefore);
  });
});
