import { DynamoDbLedgerStore } from '../../functions/ledger/dynamodb-ledger-store';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeSweep } from '../../functions/sweep/ports';
import type { SweepReport } from '../../functions/sweep/sweep';
import type { SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { loadRuntimeConfig } from '../../local/config';
import { LOCAL_TABLES, LOCAL_ZUORA_CLIENT } from '../../local/defaults';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../../local/dynamodb-emulator';
import { startRuntime, type Runtime } from '../../local/runtime';
import { startZuoraSandbox } from '../../local/zuora-sandbox';

/**
 * Issue #14's "Done when" on `npm start`'s runtime, with the sweep's minutes compressed into seconds: a change made
 * in the Zuora sandbox with no callout is synced into Limio within one sweep interval after it settles, while a
 * change that came with its callout costs Limio no second call (the ledger shows it covered).
 */

const SETTLE_SECONDS = 2;
const INTERVAL_SECONDS = 2;
const SWEEP_ENV = {
  PORT: '0',
  SQS_PORT: '0',
  LIMIO_SANDBOX_PORT: '0',
  DYNAMODB_PORT: '0',
  ZUORA_SANDBOX_PORT: '0',
  SYNC_BATCHING_WINDOW_SECONDS: '0',
  SWEEP_INTERVAL_SECONDS: String(INTERVAL_SECONDS),
  SWEEP_SETTLE_SECONDS: String(SETTLE_SECONDS),
  SWEEP_OVERLAP_SECONDS: '60',
  SWEEP_INITIAL_LOOKBACK_SECONDS: '60',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('reconciliation sweep on the local runtime', () => {
  let runtime: Runtime;
  const sweeps: Array<{ at: number; report: SweepReport }> = [];
  const syncs: SyncOutcomeEvent[] = [];
  const errors: unknown[] = [];
  const limioCalls = new Map<string, number[]>();

  beforeAll(async () => {
    runtime = await startRuntime({
      config: loadRuntimeConfig(SWEEP_ENV),
      quiet: true,
      observers: {
        sync: { onSyncOutcome: (event) => syncs.push(event) },
        onSweep: (report) => sweeps.push({ at: Date.now(), report }),
        onSweepFailed: (error) => errors.push(error),
        onError: (error) => errors.push(error),
      },
    });
    runtime.limioSandbox!.onSync = ({ subscriptionId, status }) => {
      if (status === 200) limioCalls.set(subscriptionId, [...(limioCalls.get(subscriptionId) ?? []), Date.now()]);
    };
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  async function callout(subscriptionId: string): Promise<void> {
    const credentials = runtime.config.callout;
    if (credentials.mode !== 'basic') throw new Error('expected generated Basic credentials');
    const response = await fetch(runtime.calloutUrl, {
      method: 'POST',
      body: JSON.stringify({ subscriptionNumber: subscriptionId }),
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
      },
    });
    expect(response.status).toBe(200);
  }

  it('syncs a change made without a callout within one interval after it settles, and costs no second call for one that came with its callout', async () => {
    const zuora = runtime.zuoraSandbox!;
    const withoutCallout = 'A-S20000001';
    const withCallout = 'A-S20000002';

    // A change whose callout arrives (as Zuora sends it, seconds after the change is saved)...
    zuora.touch(withCallout, Date.now() - 3_000);
    await callout(withCallout);
    await until('the callout to be synced', () => limioCalls.get(withCallout), 10_000);
    // ...and one Zuora never called out for (a disabled workflow, a lost notification), through the control endpoint.
    const touched = await fetch(new URL('/_local/zuora/touch', runtime.calloutUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscriptions: [withoutCallout] }),
    });
    expect(touched.status).toBe(200);
    const changedAt = zuora.versions().find((version) => version.name === withoutCallout)!.updatedMs;

    const syncedAt = await until(
      'the sweep to sync the change made without a callout',
      () => limioCalls.get(withoutCallout)?.[0],
      30_000,
    );
    // Settled at changedAt + settle (UpdatedDate is whole seconds, so up to a second before the touch); the next
    // sweep starts within an interval; one more second for the queue, the poller and the sync.
    expect(syncedAt - changedAt).toBeLessThanOrEqual((SETTLE_SECONDS + INTERVAL_SECONDS + 2) * 1000);

    // The sweep that read both queued only the one without a callout: the other was covered by its sync.
    const reading = sweeps.filter(
      ({ report }) => report.window !== undefined && report.window.endMs > changedAt && report.counts.queued > 0,
    );
    expect(reading[0].report.counts).toMatchObject({ distinct: 2, covered: 1, queued: 1 });
    // Later sweeps re-read both (the overlap) and find both covered; Limio heard of each exactly once.
    await until(
      'a later sweep that re-reads both',
      () => sweeps.find(({ at }) => at > syncedAt && at > reading[0].at)?.report,
      10_000,
    );
    await sleep(500);
    expect(limioCalls.get(withCallout)).toHaveLength(1);
    expect(limioCalls.get(withoutCallout)).toHaveLength(1);
    expect(sweeps.slice(-1)[0].report.counts).toMatchObject({ distinct: 2, covered: 2, queued: 0 });
    expect(errors).toEqual([]);

    // The ledger and the sweep's watermark are in the DynamoDB emulator's ledger table, as in AWS.
    const dynamodb = new DynamoDBClient({
      endpoint: runtime.dynamoDbEndpoint,
      region: DYNAMODB_EMULATOR_REGION,
      credentials: DYNAMODB_EMULATOR_CREDENTIALS,
    });
    try {
      const { entries } = await new DynamoDbLedgerStore(dynamodb, LOCAL_TABLES.ledger).readMany([
        withoutCallout,
        withCallout,
      ]);
      expect(entries.get(withoutCallout)?.lastSuccess?.startedAt).toBeGreaterThan(changedAt);
      expect(entries.get(withCallout)?.lastSuccess).toBeDefined();
    } finally {
      dynamodb.destroy();
    }
    expect(sweeps.slice(-1)[0].report.watermark?.completedUntilMs).toBeGreaterThan(changedAt);
  }, 60_000);

  it('signs in to the sandbox with the fixed local client the CLI knows', () => {
    expect(runtime.zuoraSandbox).toMatchObject(LOCAL_ZUORA_CLIENT);
    expect(runtime.zuoraSandbox!.stats.tokenRequests).toBe(1);
  });

  it('refuses a touch from a web page (Origin header) or of any other content type, and changes nothing then', async () => {
    const touchUrl = new URL('/_local/zuora/touch', runtime.calloutUrl);
    const body = JSON.stringify({ subscriptions: ['A-S20000099'] });
    const crossSite = await fetch(touchUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body,
    });
    expect(crossSite.status).toBe(403);
    // What a page can send cross-site without a preflight: a "simple" form or text body.
    const simple = await fetch(touchUrl, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    expect(simple.status).toBe(415);
    const preflight = await fetch(touchUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect((await fetch(touchUrl)).status).toBe(405);
    const malformed = await fetch(touchUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ subscriptions: 'A-S1' }),
    });
    expect(malformed.status).toBe(400);
    expect(runtime.zuoraSandbox!.versions().some((version) => version.name === 'A-S20000099')).toBe(false);
  });
});

describe('stopping the local runtime with a sweep under way', () => {
  it('ends the sweep at once instead of leaving it retrying against a closed sandbox after stop()', async () => {
    const ended: string[] = [];
    const runtime = await startRuntime({
      config: loadRuntimeConfig({ ...SWEEP_ENV, SWEEP_INTERVAL_SECONDS: '3600', ZUORA_SANDBOX_LATENCY_MS: '20000' }),
      quiet: true,
      observers: { onSweep: (report) => ended.push(report.outcome), onSweepFailed: () => ended.push('failed') },
    });
    const sandbox = runtime.zuoraSandbox!;
    void runtime.sweep.trigger();
    await until('the sweep query to be in flight', () => (sandbox.stats.queryRequests > 0 ? true : undefined), 5_000);
    const stopStartedAt = Date.now();
    await runtime.stop();
    // The sweep had ended (its query refused, not retried) before stop() returned, well within its grace.
    expect(ended).toEqual(['failed']);
    expect(Date.now() - stopStartedAt).toBeLessThan(2_000);
    expect(sandbox.stats.queryRequests).toBe(1);
  });
});

describe('local runtime sweeping a Zuora tenant (ZUORA_BASE_URL)', () => {
  const EPHEMERAL = {
    PORT: '0',
    SQS_PORT: '0',
    LIMIO_SANDBOX_PORT: '0',
    DYNAMODB_PORT: '0',
    ZUORA_SANDBOX_PORT: '0',
    SYNC_BATCHING_WINDOW_SECONDS: '0',
  };

  it('sweeps the tenant given instead of a sandbox, and the touch endpoint says there is nothing local to change', async () => {
    const tenant = await startZuoraSandbox({ clientId: 'tenant-client', clientSecret: 'tenant-secret' });
    tenant.touch('A-S30000001', Date.now() - 120_000);
    const sweeps: SweepReport[] = [];
    let runtime: Runtime | undefined;
    try {
      runtime = await startRuntime({
        config: loadRuntimeConfig({
          ...EPHEMERAL,
          ZUORA_BASE_URL: tenant.baseUrl,
          ZUORA_CLIENT_ID: 'tenant-client',
          ZUORA_CLIENT_SECRET: 'tenant-secret',
          SWEEP_INTERVAL_SECONDS: '3600',
        }),
        quiet: true,
        observers: { onSweep: (report) => sweeps.push(report) },
      });
      expect(runtime.zuoraSandbox).toBeUndefined();
      expect(runtime.zuoraBaseUrl).toBe(tenant.baseUrl);
      const touch = await fetch(new URL('/_local/zuora/touch', runtime.calloutUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ subscriptions: ['A-S1'] }),
      });
      expect(touch.status).toBe(409);

      await runtime.sweep.trigger();
      // Subscription, Account and Contact changes: one query each.
      expect(tenant.stats.queryRequests).toBe(3);
      expect(sweeps[0].counts).toMatchObject({ distinct: 1, queued: 1 });
      await until(
        'the tenant change to be synced',
        () => (runtime!.limioSandbox!.stats.synced.has('A-S30000001') ? true : undefined),
        10_000,
      );
    } finally {
      await runtime?.stop();
      await tenant.stop();
    }
  });

  it('reports a sweep that fails (refused Zuora credentials) and keeps taking and syncing callouts', async () => {
    const tenant = await startZuoraSandbox({ clientId: 'tenant-client', clientSecret: 'tenant-secret' });
    const failures: Error[] = [];
    const synced: string[] = [];
    let runtime: Runtime | undefined;
    try {
      runtime = await startRuntime({
        config: loadRuntimeConfig({
          ...EPHEMERAL,
          ZUORA_BASE_URL: tenant.baseUrl,
          ZUORA_CLIENT_ID: 'tenant-client',
          ZUORA_CLIENT_SECRET: 'wrong',
          SWEEP_INTERVAL_SECONDS: '3600',
        }),
        quiet: true,
        observers: {
          onSweepFailed: (error) => failures.push(error),
          // Recorded too, so an unexpected success or a worker error shows in the assertion below.
          onSweep: (report) => failures.push(new Error(`unexpected: ${describeSweep(report)}`)),
          onError: (error) => failures.push(error as Error),
          sync: { onSyncOutcome: (event) => event.outcome === 'synced' && synced.push(event.subscriptionId!) },
        },
      });
      const running = runtime;
      const sweep = running.sweep.trigger();
      const credentials = running.config.callout;
      if (credentials.mode !== 'basic') throw new Error('expected generated Basic credentials');
      const response = await fetch(running.calloutUrl, {
        method: 'POST',
        body: JSON.stringify({ subscriptionNumber: 'A-S30000002' }),
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
        },
      });
      expect(response.status).toBe(200);
      await sweep;
      expect(failures.map((error) => error.message)).toEqual([
        expect.stringMatching(/^sweep failed: .*error \(credentials\)/),
      ]);
      await until('the callout to be synced', () => (synced.includes('A-S30000002') ? true : undefined), 10_000);
      // The schedule goes on: the next run tries again.
      await running.sweep.trigger();
      expect(failures).toHaveLength(2);
    } finally {
      await runtime?.stop();
      await tenant.stop();
    }
  });
});
