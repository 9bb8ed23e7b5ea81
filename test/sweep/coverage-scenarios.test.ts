import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createCalloutHandler } from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { InMemoryLedgerStore } from '../../functions/ledger/ledger-store';
import { loadSweepConfig } from '../../functions/sweep/config';
import { createSweepRunner } from '../../functions/sweep/runner';
import { memoryWatermarkStore } from '../../functions/sweep/sweep';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { basicAuthorization, httpApiEvent } from '../callout/events';
import { drainQueue } from '../callout/queue-reader';
import { useSqsEmulator } from '../support/sqs-emulator';

// Issue #22, item 4: what the sweep counts covered, pending, unproven and missing, on real parts: the Zuora
// sandbox, the SQS emulator, the callout handler marking the ledger as in AWS, and the ledger's in-memory store
// (the same rules as the DynamoDB store). Syncs are recorded in the ledger as the sync Lambda records them.

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const INTERVAL = 15 * MINUTE;
const SETTLE = 5 * MINUTE;
const calloutEnv = { CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'pw' };

describe('sweep coverage: proven, pending, unproven, missing (issue #22)', () => {
  const sqs = useSqsEmulator();
  let sandbox: ZuoraSandbox;
  let queueUrl: string;
  let ledger: InMemoryLedgerStore;
  let counter = 0;

  beforeEach(async () => {
    sandbox = await startZuoraSandbox({ pageSize: 50 });
    queueUrl = (await sqs.sqs.send(new CreateQueueCommand({ QueueName: `coverage-${++counter}` }))).QueueUrl!;
    ledger = new InMemoryLedgerStore();
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  /** The scheduled sweep with its defaults (15 min interval, 5 min settle, 10 min overlap, 60 s commit lag). */
  function scheduledSweep() {
    const config = loadSweepConfig({
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_CLIENT_ID: sandbox.clientId,
      ZUORA_CLIENT_SECRET: sandbox.clientSecret,
    });
    return createSweepRunner({
      config,
      sqs: sqs.sqs,
      queueUrl,
      source: 'sweep',
      ledger,
      watermarks: memoryWatermarkStore(),
    });
  }

  /** Zuora's callout for these subscriptions, received at `atMs` by the callout handler, which queues and marks. */
  async function callout(ids: readonly string[], atMs: number): Promise<void> {
    const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: queueUrl, ...calloutEnv }), {
      sqs: sqs.sqs,
      now: () => new Date(atMs),
      ledger,
    });
    const response = await handler(
      httpApiEvent({
        headers: { 'content-type': 'application/json', authorization: basicAuthorization('zuora', 'pw') },
        body: JSON.stringify({ subscriptions: ids.map((subscriptionNumber) => ({ subscriptionNumber })) }),
      }),
    );
    expect(response.statusCode).toBe(200);
  }

  const synced = (id: string, startedAt: number) =>
    ledger.recordOutcome(id, { kind: 'synced', startedAt, finishedAt: startedAt + 300, httpStatus: 200 });
  const queuedIds = async () =>
    (await drainQueue(sqs.sqs, queueUrl)).map(
      (body) => JSON.parse(body) as { subscriptionId: string; source: string; zuoraUpdatedAt?: string },
    );
  const sweepIds = async () =>
    (await queuedIds())
      .filter((message) => message.source === 'sweep')
      .map((message) => message.subscriptionId)
      .sort();

  it('queues, as missing, a change whose own callout was lost though a sync for an earlier callout started 2.5 s after it', async () => {
    const start = Date.now() - 2 * INTERVAL;
    const changedAt = start + 10 * MINUTE;
    // An earlier change's callout, then its sync, which reads Zuora 2.5 s after the next change is stamped but
    // before that change is committed: it cannot have read it. The next change's own callout never comes.
    sandbox.touch('A-S00000401', changedAt - 20 * SECOND);
    await callout(['A-S00000401'], changedAt - 19 * SECOND);
    sandbox.touch('A-S00000401', changedAt);
    await synced('A-S00000401', changedAt + 2_500);
    await queuedIds();

    const report = await scheduledSweep().run({ now: () => changedAt + SETTLE + MINUTE });
    expect(report).toMatchObject({
      outcome: 'complete',
      counts: { covered: 0, pending: 0, unproven: 0, missing: 1, queued: 1 },
    });
    const queued = await queuedIds();
    expect(queued.map((message) => message.subscriptionId)).toEqual(['A-S00000401']);
    // The sweep's message names the change it read, so the sync that serves it proves it (provenThrough).
    expect(Date.parse(queued[0]!.zuoraUpdatedAt!)).toBe(changedAt - (changedAt % SECOND));
  });

  it('during a Limio outage with callouts arriving, three sweeps queue nothing and count 0 missing', async () => {
    const start = Date.now() - 3 * INTERVAL - 2 * MINUTE;
    const ids = Array.from({ length: 20 }, (_, i) => `A-S0000050${String(i).padStart(2, '0')}`);
    // Every change's callout arrives seconds after it; Limio is down (the breaker open): no sync succeeds.
    for (const [i, id] of ids.entries()) {
      sandbox.touch(id, start + i * 30 * SECOND);
      await callout([id], start + i * 30 * SECOND + 2 * SECOND);
    }
    expect(await queuedIds()).toHaveLength(20);

    const sweep = scheduledSweep();
    for (let run = 0; run < 3; run++) {
      const now = start + 11 * MINUTE + SETTLE + run * INTERVAL;
      const report = await sweep.run({ now: () => now });
      expect(report.outcome).toBe('complete');
      // All twenty are read by the first sweep; the next two re-read what their overlap covers.
      expect(report.counts).toMatchObject({ missing: 0, unproven: 0, queued: 0, covered: 0 });
      expect(report.counts.pending).toBe(report.counts.distinct);
      expect(await sweepIds()).toEqual([]);
    }
  });

  it('20 % of changes made without a callout: exactly those queued and counted missing', async () => {
    const start = Date.now() - INTERVAL - 2 * MINUTE;
    const ids = Array.from({ length: 50 }, (_, i) => `A-S0000060${String(i).padStart(2, '0')}`);
    const withoutCallout = ids.filter((_, i) => i % 5 === 0);
    for (const [i, id] of ids.entries()) {
      sandbox.touch(id, start + i * 10 * SECOND);
      if (!withoutCallout.includes(id)) await callout([id], start + i * 10 * SECOND + 2 * SECOND);
    }
    await queuedIds();

    const report = await scheduledSweep().run({ now: () => start + 10 * MINUTE + SETTLE });
    expect(report.counts).toMatchObject({ distinct: 50, pending: 40, missing: 10, unproven: 0, queued: 10 });
    expect(await sweepIds()).toEqual([...withoutCallout].sort());
  });

  it('queues again, as unproven and not missing, a change whose callout came but whose sync started within the commit lag; covers one whose sync proved it read it', async () => {
    const start = Date.now() - INTERVAL;
    const changedAt = start + MINUTE;
    for (const id of ['A-S00000701', 'A-S00000702', 'A-S00000703']) {
      sandbox.touch(id, changedAt);
      await callout([id], changedAt + 2 * SECOND);
    }
    // Synced 3 s after the change: whether that read it depends on when Zuora committed it.
    await synced('A-S00000701', changedAt + 3 * SECOND);
    // The same, but its callout named its UpdatedDate: the sync proved it read the change.
    await synced('A-S00000702', changedAt + 3 * SECOND);
    await ledger.raiseMark('A-S00000702', 'provenThrough', changedAt);
    // Synced a minute and more after the change: past the commit lag.
    await synced('A-S00000703', changedAt + 61 * SECOND);
    await queuedIds();

    const report = await scheduledSweep().run({ now: () => changedAt + SETTLE + MINUTE });
    expect(report.counts).toMatchObject({ covered: 2, pending: 0, unproven: 1, missing: 0, queued: 1 });
    expect(await sweepIds()).toEqual(['A-S00000701']);
    // Marked as queued by the sweep: the next sweep finds its sync to come, not a missing callout.
    const again = await scheduledSweep().run({ now: () => changedAt + SETTLE + 2 * MINUTE });
    expect(again.counts).toMatchObject({ pending: 1, missing: 0, unproven: 0, queued: 0 });
  });
});
