import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { InMemoryLedgerStore, type LedgerStore } from '../../functions/ledger/ledger-store';
import { parseSyncRequest } from '../../functions/shared/queue-message';
import { describeSweep, ledgerCoverage, sqsEnqueue } from '../../functions/sweep/ports';
import { memoryWatermarkStore, runSweep, type SweepReport } from '../../functions/sweep/sweep';
import { drainQueue, failEntriesOfFirstBatch } from '../callout/queue-reader';
import { useSqsEmulator } from '../support/sqs-emulator';

const at = (iso: string) => Date.parse(iso);

describe('ledgerCoverage', () => {
  it("answers the newest successful sync's start, the marks and a claimed sync whose answer is not recorded, by the ledger's own rules", async () => {
    const ledger = new InMemoryLedgerStore();
    await ledger.recordOutcome('A-S1', { kind: 'synced', startedAt: 2_000, finishedAt: 2_500, httpStatus: 200 });
    // An older success finishing later does not move it back; a later failure does not erase it.
    await ledger.recordOutcome('A-S1', { kind: 'synced', startedAt: 1_000, finishedAt: 3_000, httpStatus: 200 });
    await ledger.recordOutcome('A-S1', {
      kind: 'retryable',
      startedAt: 4_000,
      finishedAt: 4_100,
      httpStatus: 502,
      error: 'Bad Gateway',
    });
    await ledger.recordOutcome('A-S2', {
      kind: 'terminal',
      startedAt: 5_000,
      finishedAt: 5_100,
      httpStatus: 404,
      error: 'not found',
    });
    await ledger.raiseMark('A-S3', 'lastQueuedAt', 6_000);
    await ledger.raiseMark('A-S3', 'provenThrough', 500);
    await ledger.claimSync('A-S3', { startedAt: 7_000, leaseMs: 60_000, expectedLastSuccessStartedAt: undefined });
    await ledger.claimSync('A-S1', { startedAt: 3_000, leaseMs: 60_000, expectedLastSuccessStartedAt: 2_000 });
    const coverage = await ledgerCoverage(ledger, { timeoutMs: 1_000 })(['A-S1', 'A-S2', 'A-S3', 'A-S4']);
    expect(coverage).toEqual(
      new Map([
        ['A-S1', { lastSuccessStartedAt: 2_000 }],
        ['A-S2', {}],
        ['A-S3', { lastQueuedAt: 6_000, provenThrough: 500, unrecordedClaimStartedAt: 7_000 }],
        ['A-S4', undefined],
      ]),
    );
  });

  it('throws when the ledger does not answer in time, so the sweep queues the batch and says why', async () => {
    const stalled: LedgerStore = {
      readMany: () => new Promise(() => undefined),
      claimSync: async () => false,
      recordOutcome: async () => 'superseded',
      raiseMark: async () => false,
    };
    await expect(ledgerCoverage(stalled, { timeoutMs: 50 })(['A-S1'])).rejects.toThrow(
      /the sync ledger could not be read: the ledger did not answer within 50 ms/,
    );
  });
});

describe('sqsEnqueue (SQS emulator)', () => {
  const emulator = useSqsEmulator();
  let queueUrl: string;
  let counter = 0;
  beforeEach(async () => {
    queueUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: `sweep-${++counter}` }))).QueueUrl!;
  });

  it('puts one shared-schema sync request per id on the queue, receivedAt = now', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `A-S${100 + i}`);
    const enqueue = sqsEnqueue(emulator.sqs, { queueUrl, source: 'sweep', now: () => at('2026-11-24T18:05:00Z') });
    expect(await enqueue(ids)).toEqual({ notQueued: [] });
    const bodies = await drainQueue(emulator.sqs, queueUrl);
    const requests = bodies.map((body) => parseSyncRequest(body));
    expect(requests.every((parsed) => parsed.ok)).toBe(true);
    expect(requests.map((parsed) => parsed.ok && parsed.request.subscriptionId).sort()).toEqual(ids.sort());
    expect(requests[0]).toEqual({
      ok: true,
      request: { v: 1, subscriptionId: expect.any(String), source: 'sweep', receivedAt: '2026-11-24T18:05:00.000Z' },
    });
  });

  it('names the UpdatedDate the sweep read on each message, and marks lastQueuedAt for what it queued, not for what it could not', async () => {
    const ledger = new InMemoryLedgerStore();
    const now = at('2026-11-24T18:05:00Z');
    const enqueue = sqsEnqueue(emulator.sqs, { queueUrl, source: 'sweep', now: () => now, ledger });
    expect(await enqueue(['A-S1', 'A-S2'], new Map([['A-S1', at('2026-11-24T17:10:00Z')]]))).toEqual({ notQueued: [] });
    const requests = (await drainQueue(emulator.sqs, queueUrl))
      .map((body) => parseSyncRequest(body))
      .map((parsed) => parsed.ok && parsed.request);
    expect(requests.find((request) => request && request.subscriptionId === 'A-S1')).toMatchObject({
      zuoraUpdatedAt: '2026-11-24T17:10:00.000Z',
    });
    expect(requests.find((request) => request && request.subscriptionId === 'A-S2')).not.toHaveProperty(
      'zuoraUpdatedAt',
    );
    const { entries } = await ledger.readMany(['A-S1', 'A-S2']);
    expect([entries.get('A-S1')?.lastQueuedAt, entries.get('A-S2')?.lastQueuedAt]).toEqual([now, now]);

    const broken = { send: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    await sqsEnqueue(broken, {
      queueUrl,
      source: 'sweep',
      ledger,
      now: () => now + 60_000,
      sleep: async () => undefined,
    })(['A-S1']);
    expect((await ledger.readMany(['A-S1'])).entries.get('A-S1')?.lastQueuedAt).toBe(now);
  });

  it('reports the ids SQS would not take, after the retries', async () => {
    const failing = failEntriesOfFirstBatch(emulator.sqs, (body) => body.includes('A-S2'));
    const enqueue = sqsEnqueue(failing, { queueUrl, source: 'sweep', sleep: async () => undefined });
    // A failed entry is sent again: it lands, so nothing is left unqueued.
    expect(await enqueue(['A-S1', 'A-S2'])).toEqual({ notQueued: [] });
    expect((await drainQueue(emulator.sqs, queueUrl)).length).toBe(2);

    const broken = { send: async () => Promise.reject(new Error('connect ECONNREFUSED')) };
    const result = await sqsEnqueue(broken, { queueUrl, source: 'sweep', sleep: async () => undefined })(['A-S1']);
    expect(result).toEqual({ notQueued: ['A-S1'], error: expect.stringMatching(/ECONNREFUSED/) });
  });

  it('serves a whole sweep: what the ledger shows synced after its change is skipped, the rest lands on the queue', async () => {
    const ledger = new InMemoryLedgerStore();
    const changed = at('2026-11-24T17:10:00Z');
    await ledger.recordOutcome('A-S1', {
      kind: 'synced',
      startedAt: changed + 4_000,
      finishedAt: changed + 4_400,
      httpStatus: 200,
    });
    await ledger.recordOutcome('A-S2', {
      kind: 'synced',
      startedAt: changed - 60_000,
      finishedAt: changed - 59_000,
      httpStatus: 200,
    });
    const source = {
      changed: async function* () {
        yield ['A-S1', 'A-S2', 'A-S3'].map((Name) => ({ Name, UpdatedDate: '2026-11-24T09:10:00.000-08:00' }));
      },
    };
    const report = await runSweep(
      {
        source,
        coverage: ledgerCoverage(ledger, { timeoutMs: 1_000 }),
        enqueue: sqsEnqueue(emulator.sqs, { queueUrl, source: 'sweep' }),
        watermarks: memoryWatermarkStore(),
        now: () => at('2026-11-24T18:05:00Z'),
      },
      {
        settings: { settleSeconds: 300, overlapSeconds: 600, initialLookbackSeconds: 3600, maxSliceSeconds: 3600 },
        commitLagSeconds: 2,
      },
    );
    expect(report.counts).toMatchObject({ distinct: 3, covered: 1, queued: 2 });
    const queued = (await drainQueue(emulator.sqs, queueUrl)).map((body) => JSON.parse(body).subscriptionId).sort();
    expect(queued).toEqual(['A-S2', 'A-S3']);
  });
});

describe('describeSweep', () => {
  const base: SweepReport = {
    outcome: 'complete',
    window: { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') },
    slicesPlanned: 1,
    slicesCompleted: 1,
    counts: {
      read: 12,
      distinct: 10,
      covered: 7,
      pending: 1,
      unproven: 1,
      missing: 2,
      queued: 3,
      invalid: 0,
      unnamed: 0,
      accountsRead: 4,
      contactsRead: 6,
      accountsChanged: 5,
      accountSubscriptions: 8,
    },
    watermark: { completedUntilMs: at('2026-11-24T18:00:00Z') },
    lagSeconds: 300,
    coverageUnavailable: false,
    invalidSamples: [],
    durationMs: 840,
    dryRun: false,
  };

  it('says the window, read (subscriptions, accounts and contacts), covered and queued on one line', () => {
    expect(describeSweep(base)).toBe(
      'sweep complete: 2026-11-24T17:00:00Z .. 2026-11-24T18:00:00Z, read 12 (10 subscriptions), accounts 4 and contacts 6 read (5 accounts changed, 8 of their subscriptions), covered 7, pending 1, queued 3 (missing 2, unproven 1), lag 300 s, 840 ms',
    );
  });

  it('adds what went wrong or was unusual', () => {
    const line = describeSweep({
      ...base,
      outcome: 'failed',
      dryRun: true,
      slicesPlanned: 3,
      slicesCompleted: 1,
      counts: { ...base.counts, invalid: 1 },
      invalidSamples: ['../x'],
      coverageUnavailable: true,
      error: 'Zuora /v1/action/query failed after 5 attempts: HTTP 503',
      errorKind: 'unavailable',
    });
    expect(line).toMatch(/^sweep failed \(dry run\): /);
    expect(line).toContain('would queue 3');
    expect(line).toContain('invalid 1 (e.g. ../x)');
    expect(line).toContain('slices 1/3');
    expect(line).toContain('ledger unavailable: queued without checking');
    expect(line).toContain('error (unavailable): Zuora /v1/action/query failed after 5 attempts: HTTP 503');
  });
});
