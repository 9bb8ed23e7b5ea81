import type { LedgerStore } from '../../functions/ledger/ledger-store';
import { CredentialsError } from '../../functions/shared/credentials-source';
import { ledgerCoverage } from '../../functions/sweep/ports';
import type { CoveragePort, EnqueuePort } from '../../functions/sweep/settle';
import {
  memoryWatermarkStore,
  runSweep,
  SWEEP_RUN_DEFAULTS,
  type ChangeSource,
  type SweepOptions,
  type SweepProgress,
} from '../../functions/sweep/sweep';
import type { TimeRange, WindowSettings } from '../../functions/sweep/window';
import { zuoraChangeSource } from '../../functions/sweep/zuora-changes';
import { ZuoraClient } from '../../functions/sweep/zuora-client';
import { startZuoraSandbox, tenantDateTime } from '../../local/zuora-sandbox';

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const settings: WindowSettings = {
  settleSeconds: 300,
  overlapSeconds: 600,
  initialLookbackSeconds: 3600,
  maxSliceSeconds: 3600,
};
const NOW = at('2026-11-24T18:05:00Z');
/** The first sweep at NOW reads [17:00, 18:00). */
const FIRST_WINDOW = { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') };

/** A record as Zuora returns it, and when it really changed (what the fake filters on). */
interface Version {
  readonly record: { readonly Name?: string; readonly UpdatedDate?: string };
  readonly atMs: number;
}

/**
 * Zuora's changes in memory: versions filtered by the half-open range and paged, in no particular order (like
 * ZOQL). `msPerPage` moves the fake clock per page; the deadline is honoured the way ZuoraClient honours it.
 */
class FakeZuora implements ChangeSource {
  readonly versions: Version[] = [];
  readonly reads: TimeRange[] = [];
  pageSize = 1000;
  msPerPage = 0;
  failOnPage: { readonly call: number; readonly page: number } | undefined;

  constructor(private readonly clock: { now: number }) {}

  change(name: string | undefined, atMs: number, updatedDate = tenantDateTime(atMs, -480)): void {
    this.versions.push({ record: { ...(name !== undefined && { Name: name }), UpdatedDate: updatedDate }, atMs });
  }

  async *changed(range: TimeRange, options: { deadlineMs?: number }): AsyncIterable<readonly unknown[]> {
    this.reads.push(range);
    const call = this.reads.length;
    const matching = this.versions
      .filter((version) => version.atMs >= range.startMs && version.atMs < range.endMs)
      .map((version) => version.record);
    matching.reverse();
    for (let page = 0; page === 0 || page * this.pageSize < matching.length; page++) {
      if (options.deadlineMs !== undefined && this.clock.now >= options.deadlineMs) {
        throw Object.assign(new Error('deadline'), { kind: 'deadline' });
      }
      if (this.failOnPage?.call === call && this.failOnPage.page === page) {
        throw Object.assign(new Error('Zuora /v1/action/queryMore failed after 5 attempts: HTTP 500'), {
          kind: 'unavailable',
        });
      }
      this.clock.now += this.msPerPage;
      yield matching.slice(page * this.pageSize, (page + 1) * this.pageSize);
    }
  }
}

/** The ledger: last successful sync start per subscription. */
function ledger(lastSuccess: Record<string, number>, calls: string[][] = []): CoveragePort {
  return async (ids) => {
    calls.push([...ids]);
    return new Map(ids.filter((id) => id in lastSuccess).map((id) => [id, { lastSuccessStartedAt: lastSuccess[id] }]));
  };
}

function queue(): { port: EnqueuePort; batches: string[][]; ids: () => string[] } {
  const batches: string[][] = [];
  return {
    batches,
    ids: () => batches.flat().sort(),
    port: async (ids) => {
      batches.push([...ids]);
      return { notQueued: [] };
    },
  };
}

function setup(overrides: Partial<SweepOptions> = {}) {
  const clock = { now: NOW };
  const zuora = new FakeZuora(clock);
  const watermarks = memoryWatermarkStore();
  const queued = queue();
  const progress: SweepProgress[] = [];
  const options: SweepOptions = { settings, commitLagSeconds: 2, ...overrides };
  const run = (
    lastSuccess: Record<string, number> = {},
    extra: Partial<SweepOptions> = {},
    coverage?: CoveragePort,
    enqueue?: EnqueuePort,
  ) =>
    runSweep(
      {
        source: zuora,
        coverage: coverage ?? ledger(lastSuccess),
        enqueue: enqueue ?? queued.port,
        watermarks,
        onProgress: (event) => progress.push(event),
        now: () => clock.now,
      },
      { ...options, ...extra },
    );
  return { clock, zuora, watermarks, queued, progress, run };
}

describe('runSweep', () => {
  it('queues what changed without a sync since, skips what a later sync covered, and moves the watermark to the window end', async () => {
    const { zuora, watermarks, queued, run } = setup();
    zuora.change('A-S00000001', at('2026-11-24T17:10:00Z'));
    zuora.change('A-S00000002', at('2026-11-24T17:20:00Z'));
    zuora.change('A-S00000003', at('2026-11-24T17:30:00Z'));
    zuora.change('A-S00000004', at('2026-11-24T16:59:59Z'));
    zuora.change('A-S00000005', at('2026-11-24T18:00:00Z'));
    const report = await run({
      // synced by its callout 4 s after the change: covered
      'A-S00000001': at('2026-11-24T17:10:04Z'),
      // last synced before this change: missed
      'A-S00000002': at('2026-11-24T17:00:00Z'),
    });
    expect(report).toMatchObject({
      outcome: 'complete',
      window: FIRST_WINDOW,
      slicesPlanned: 1,
      slicesCompleted: 1,
      counts: { read: 3, distinct: 3, covered: 1, queued: 2, invalid: 0, unnamed: 0 },
      watermark: { completedUntilMs: FIRST_WINDOW.endMs },
      lagSeconds: 300,
      coverageUnavailable: false,
      dryRun: false,
    });
    expect(queued.ids()).toEqual(['A-S00000002', 'A-S00000003']);
    expect(watermarks.current).toEqual({ completedUntilMs: FIRST_WINDOW.endMs });
  });

  it('counts a sync as covering only when it started later than UpdatedDate plus the commit lag and the clock margin', async () => {
    const { zuora, queued, run } = setup();
    const changed = at('2026-11-24T17:10:00Z');
    for (const name of ['A-S1', 'A-S2', 'A-S3']) zuora.change(name, changed);
    // A commit lag of 2 s here (setup), and the clock margin of 1 s.
    await run({ 'A-S1': changed + 1_000, 'A-S2': changed + 3_000, 'A-S3': changed + 3_001 });
    expect(queued.ids()).toEqual(['A-S1', 'A-S2']);
  });

  it('judges a subscription by its latest version, and queues it once', async () => {
    const { zuora, queued, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:05:00Z'));
    zuora.change('A-S1', at('2026-11-24T17:40:00Z'));
    zuora.change('A-S1', at('2026-11-24T17:20:00Z'));
    const report = await run({ 'A-S1': at('2026-11-24T17:30:00Z') });
    expect(report.counts).toMatchObject({ read: 3, distinct: 1, covered: 0, queued: 1 });
    expect(queued.batches).toEqual([['A-S1']]);
  });

  it('counts names the subscription-id rule refuses and records without a Name, and never queues them', async () => {
    const { zuora, queued, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:05:00Z'));
    zuora.change('../../admin', at('2026-11-24T17:05:00Z'));
    zuora.change(undefined, at('2026-11-24T17:05:00Z'));
    const report = await run();
    expect(report.counts).toMatchObject({ read: 3, distinct: 2, queued: 1, invalid: 1, unnamed: 1 });
    expect(report.invalidSamples).toEqual(['../../admin']);
    expect(queued.ids()).toEqual(['A-S1']);
  });

  it('queues a subscription whose UpdatedDate cannot be read rather than risk missing it', async () => {
    const { zuora, queued, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:10:00Z'), '2026-11-24T09:10:00');
    await run({ 'A-S1': at('2026-11-24T17:59:00Z') });
    expect(queued.ids()).toEqual(['A-S1']);
  });

  it('queues everything when the ledger cannot answer, and says so', async () => {
    const { zuora, queued, progress, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:05:00Z'));
    zuora.change('A-S2', at('2026-11-24T17:05:00Z'));
    const report = await run({}, {}, async () => {
      throw new Error('ProvisionedThroughputExceededException');
    });
    expect(report).toMatchObject({ outcome: 'complete', coverageUnavailable: true, counts: { queued: 2, covered: 0 } });
    expect(queued.ids()).toEqual(['A-S1', 'A-S2']);
    expect(progress).toContainEqual({
      type: 'coverage-unavailable',
      ids: 2,
      error: 'ProvisionedThroughputExceededException',
    });
  });

  it('looks up the ledger and queues in batches', async () => {
    const { zuora, queued, run } = setup();
    for (let i = 0; i < 250; i++) zuora.change(`A-S${1000 + i}`, at('2026-11-24T17:05:00Z'));
    const lookups: string[][] = [];
    const synced = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`A-S${1000 + i}`, at('2026-11-24T17:06:00Z')]),
    );
    const report = await run({}, {}, ledger(synced, lookups));
    expect(lookups.map((ids) => ids.length)).toEqual([100, 100, 50]);
    // Zuora's order is the fake's reverse: the synced 50 come last, in a batch with nothing to queue.
    expect(queued.batches.map((ids) => ids.length)).toEqual([100, 100]);
    expect(report.counts).toMatchObject({ distinct: 250, covered: 50, queued: 200 });
  });

  it('fills each enqueue call, however few of a ledger batch are uncovered', async () => {
    const { zuora, queued, run } = setup();
    const synced: Record<string, number> = {};
    for (let i = 0; i < 250; i++) {
      zuora.change(`A-S${1000 + i}`, at('2026-11-24T17:05:00Z'));
      if (i % 2 === 0) synced[`A-S${1000 + i}`] = at('2026-11-24T17:06:00Z');
    }
    const report = await run(synced);
    expect(queued.batches.map((ids) => ids.length)).toEqual([100, 25]);
    expect(report.counts).toMatchObject({ covered: 125, queued: 125 });
  });

  it('cuts a large window into slices, oldest first, and moves the watermark after each whole slice', async () => {
    const { clock, zuora, watermarks, queued, progress, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T15:10:00Z') });
    zuora.change('A-S1', at('2026-11-24T15:30:00Z'));
    zuora.change('A-S2', at('2026-11-24T16:30:00Z'));
    zuora.change('A-S3', at('2026-11-24T17:30:00Z'));
    clock.now = NOW;
    const report = await run();
    expect(zuora.reads).toEqual([
      { startMs: at('2026-11-24T15:00:00Z'), endMs: at('2026-11-24T16:00:00Z') },
      { startMs: at('2026-11-24T16:00:00Z'), endMs: at('2026-11-24T17:00:00Z') },
      { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') },
    ]);
    expect(watermarks.puts.map((mark) => new Date(mark.completedUntilMs).toISOString())).toEqual([
      '2026-11-24T15:10:00.000Z',
      '2026-11-24T16:00:00.000Z',
      '2026-11-24T17:00:00.000Z',
      '2026-11-24T18:00:00.000Z',
    ]);
    expect(report).toMatchObject({ outcome: 'complete', slicesPlanned: 3, slicesCompleted: 3, counts: { queued: 3 } });
    expect(queued.batches).toEqual([['A-S1'], ['A-S2'], ['A-S3']]);
    expect(
      progress.filter((event) => event.type === 'slice').map((event) => event.type === 'slice' && event.counts.queued),
    ).toEqual([1, 2, 3]);
    expect(progress[0]).toEqual({
      type: 'window',
      window: { startMs: at('2026-11-24T15:00:00Z'), endMs: FIRST_WINDOW.endMs },
      slices: 3,
      sliceSeconds: 3600,
    });
  });

  it('does not queue again, in a later slice, what it queued earlier in the same run', async () => {
    const { zuora, watermarks, queued, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    zuora.change('A-S1', at('2026-11-24T16:30:00Z'));
    zuora.change('A-S1', at('2026-11-24T17:30:00Z'));
    const report = await run();
    expect(queued.batches).toEqual([['A-S1']]);
    expect(report.counts).toMatchObject({ read: 2, distinct: 1, queued: 1, covered: 0 });
  });

  it('moves a subscription from covered to queued when a later slice holds a change its sync did not see', async () => {
    const { zuora, watermarks, queued, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    zuora.change('A-S1', at('2026-11-24T16:30:00Z'));
    zuora.change('A-S1', at('2026-11-24T17:30:00Z'));
    const report = await run({ 'A-S1': at('2026-11-24T16:31:00Z') });
    expect(queued.batches).toEqual([['A-S1']]);
    expect(report.counts).toMatchObject({ distinct: 1, queued: 1, covered: 0 });
  });

  it('keeps the watermark where the last whole slice ended when Zuora fails mid-slice, and the next run reads that slice again', async () => {
    const { zuora, watermarks, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    zuora.pageSize = 1;
    zuora.change('A-S1', at('2026-11-24T16:30:00Z'));
    zuora.change('A-S2', at('2026-11-24T17:10:00Z'));
    zuora.change('A-S3', at('2026-11-24T17:20:00Z'));
    zuora.failOnPage = { call: 2, page: 1 };
    const report = await run();
    expect(report).toMatchObject({
      outcome: 'failed',
      errorKind: 'unavailable',
      slicesCompleted: 1,
      counts: { read: 2, queued: 1 },
    });
    expect(report.error).toMatch(/HTTP 500/);
    expect(watermarks.current).toEqual({ completedUntilMs: at('2026-11-24T17:00:00Z') });

    zuora.failOnPage = undefined;
    zuora.reads.length = 0;
    const retry = await run();
    expect(retry.outcome).toBe('complete');
    expect(zuora.reads[0]).toEqual({ startMs: at('2026-11-24T16:50:00Z'), endMs: at('2026-11-24T17:50:00Z') });
    expect(watermarks.current?.completedUntilMs).toBe(FIRST_WINDOW.endMs);
  });

  it('reports an unreadable Zuora secret as a credentials failure, like refused credentials', async () => {
    const { watermarks } = setup();
    const source: ChangeSource = {
      changed: async function* () {
        throw new CredentialsError(
          'cannot read the Zuora credentials secret zuora-limio-sync/zuora: AccessDeniedException',
        );
      },
    };
    const report = await runSweep(
      { source, coverage: ledger({}), enqueue: queue().port, watermarks, now: () => NOW },
      { settings, commitLagSeconds: 2 },
    );
    expect(report).toMatchObject({ outcome: 'failed', errorKind: 'credentials' });
    expect(watermarks.current).toBeUndefined();
  });

  it('keeps the watermark when some subscriptions of a slice could not be queued', async () => {
    const { zuora, watermarks, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:05:00Z'));
    zuora.change('A-S2', at('2026-11-24T17:05:00Z'));
    const report = await run({}, {}, undefined, async (ids) => ({
      notQueued: ids.slice(0, 1),
      error: 'SendMessageBatch entry failed: InternalError',
    }));
    expect(report).toMatchObject({ outcome: 'failed', errorKind: 'enqueue', counts: { queued: 1 } });
    expect(report.error).toMatch(/1 of 2 subscriptions could not be queued: SendMessageBatch entry failed/);
    expect(watermarks.current).toBeUndefined();
  });

  it('halves the slice when one runs out of time, reads smaller slices from the same point, and grows back after a full run', async () => {
    const { clock, zuora, watermarks, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    zuora.pageSize = 1;
    for (let i = 0; i < 6; i++) zuora.change(`A-S${i}`, at('2026-11-24T16:05:00Z') + i * 10 * MINUTE);
    zuora.msPerPage = 10_000;
    const first = await run({}, { deadlineMs: NOW + 30_000, reserveMs: 0 });
    expect(first).toMatchObject({ outcome: 'out-of-time', slicesCompleted: 0 });
    expect(watermarks.current).toEqual({ completedUntilMs: at('2026-11-24T16:10:00Z'), sliceSeconds: 1800 });

    clock.now = NOW;
    zuora.msPerPage = 0;
    zuora.reads.length = 0;
    const second = await run();
    expect(second).toMatchObject({ outcome: 'complete', slicesPlanned: 4 });
    expect(zuora.reads[0]).toEqual({ startMs: at('2026-11-24T16:00:00Z'), endMs: at('2026-11-24T16:30:00Z') });
    // 1800 s worked: the next run may try 3600 s again, the configured maximum (so not stored).
    expect(watermarks.current).toEqual({ completedUntilMs: FIRST_WINDOW.endMs });
  });

  it('starts no slice that the one before says cannot finish before the deadline', async () => {
    const { zuora, watermarks, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T15:10:00Z') });
    zuora.change('A-S1', at('2026-11-24T15:30:00Z'));
    zuora.msPerPage = 20_000;
    const report = await run({}, { deadlineMs: NOW + 45_000, reserveMs: 0 });
    expect(report).toMatchObject({ outcome: 'out-of-time', slicesPlanned: 3, slicesCompleted: 1 });
    expect(zuora.reads).toHaveLength(1);
    expect(watermarks.current).toEqual({ completedUntilMs: at('2026-11-24T16:00:00Z') });
  });

  it('stops settling a slice before its deadline, moves the watermark to where all before is queued, and the next run queues nothing twice', async () => {
    // No overlap: a second queueing could then only come from the slice cut short (the overlap re-reads the end of
    // every run, by design, and would re-queue what Limio has not synced yet).
    const { clock, zuora, watermarks, queued, run } = setup({ settings: { ...settings, overlapSeconds: 0 } });
    await watermarks.put({ completedUntilMs: FIRST_WINDOW.startMs });
    const names = Array.from({ length: 1000 }, (_, i) => `A-S${10_000 + i}`);
    // Changed 3.6 s apart across the hour, none synced since (Limio is down).
    names.forEach((name, i) => zuora.change(name, FIRST_WINDOW.startMs + i * 3_600));
    const slowLedger: CoveragePort = async () => {
      clock.now += 3_000;
      return new Map();
    };

    const deadlineMs = NOW + 20_000;
    const first = await run({}, { deadlineMs }, slowLedger);
    expect(first).toMatchObject({ outcome: 'out-of-time', slicesCompleted: 0, counts: { queued: 400 } });
    expect(clock.now).toBeLessThanOrEqual(deadlineMs - SWEEP_RUN_DEFAULTS.watermarkReserveMs);
    // The 400 oldest changes are queued: the 401st changed at 17:24:00, where the next run starts, with half a slice.
    expect(watermarks.current).toEqual({ completedUntilMs: at('2026-11-24T17:24:00Z'), sliceSeconds: 1800 });

    clock.now = NOW + 5 * MINUTE;
    const second = await run({}, { deadlineMs: clock.now + 5 * MINUTE }, slowLedger);
    expect(second).toMatchObject({ outcome: 'complete', counts: { queued: 600 } });
    const queuedIds = queued.batches.flat();
    expect(queuedIds).toHaveLength(1000);
    expect(new Set(queuedIds)).toEqual(new Set(names));
  });

  it('asks a ledger that failed once no more in that run, and queues every subscription unchecked', async () => {
    const { zuora, watermarks, queued, progress, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    for (let i = 0; i < 250; i++) zuora.change(`A-S${1000 + i}`, at('2026-11-24T16:30:00Z'));
    for (let i = 250; i < 300; i++) zuora.change(`A-S${1000 + i}`, at('2026-11-24T17:30:00Z'));
    let reads = 0;
    const failingStore: LedgerStore = {
      readMany: async () => {
        reads += 1;
        throw new Error('ProvisionedThroughputExceededException');
      },
      claimSync: async () => false,
      recordOutcome: async () => 'superseded',
      raiseMark: async () => false,
    };
    const report = await run({}, {}, ledgerCoverage(failingStore, { timeoutMs: 3_000 }));
    expect(reads).toBe(1);
    expect(report).toMatchObject({
      outcome: 'complete',
      slicesCompleted: 2,
      coverageUnavailable: true,
      counts: { distinct: 300, queued: 300, covered: 0 },
    });
    expect(queued.batches.flat()).toHaveLength(300);
    expect(progress.filter((event) => event.type === 'coverage-unavailable')).toHaveLength(1);
  });

  it('fails, without moving the watermark, when Zuora answers with changes outside the slice asked for', async () => {
    const { zuora, watermarks, queued, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    // A tenant at +01:00 that reads '17:00:00+00:00' as its own 17:00: it answers with what changed an hour earlier.
    zuora.change('A-S1', at('2026-11-24T16:30:00Z'), '2026-11-24T16:30:00.000+01:00');
    const report = await run();
    expect(report).toMatchObject({ outcome: 'failed', errorKind: 'outside-slice', slicesCompleted: 0 });
    expect(report.error).toMatch(/UpdatedDate 2026-11-24T16:30:00.000\+01:00, outside it/);
    expect(watermarks.current).toEqual({ completedUntilMs: at('2026-11-24T16:10:00Z') });
    expect(queued.batches).toEqual([]);
  });

  it('has nothing to do while the watermark is at the settle point, and asks Zuora nothing', async () => {
    const { zuora, watermarks, run } = setup({ settings: { ...settings, overlapSeconds: 0 } });
    await watermarks.put({ completedUntilMs: FIRST_WINDOW.endMs });
    const report = await run();
    expect(report).toMatchObject({ outcome: 'nothing-to-do', slicesPlanned: 0, lagSeconds: 300 });
    expect(zuora.reads).toEqual([]);
  });

  it('reads an explicit window (backfill) whole without reading or moving the watermark', async () => {
    const { zuora, watermarks, queued, run } = setup();
    await watermarks.put({ completedUntilMs: at('2026-11-24T17:55:00Z') });
    const window = { startMs: at('2026-11-20T00:00:00Z'), endMs: at('2026-11-20T03:00:00Z') };
    zuora.change('A-S1', at('2026-11-20T01:00:00Z'));
    const report = await run({}, { window });
    expect(report).toMatchObject({ outcome: 'complete', window, slicesPlanned: 3, counts: { queued: 1 } });
    expect(report.watermark).toBeUndefined();
    expect(queued.ids()).toEqual(['A-S1']);
    expect(watermarks.puts).toHaveLength(1);
  });

  it('plans a window from year 1000 (a typo) without building its nine million slices: the first is read at once', async () => {
    const { zuora, run } = setup();
    const window = { startMs: at('1000-01-01T00:00:00Z'), endMs: at('2026-11-20T00:00:00Z') };
    const startedMs = Date.now();
    // The first slice takes a second, past the deadline: no other is started.
    zuora.msPerPage = 1000;
    const report = await run({}, { window, deadlineMs: NOW + 500, reserveMs: 0 });
    // Built as an array the slices took seconds and most of a gigabyte before the first request.
    expect(Date.now() - startedMs).toBeLessThan(1000);
    expect(report).toMatchObject({
      outcome: 'out-of-time',
      slicesPlanned: (window.endMs - window.startMs) / HOUR,
      slicesCompleted: 1,
    });
    expect(zuora.reads).toEqual([{ startMs: window.startMs, endMs: window.startMs + HOUR }]);
  });

  it('widens an explicit window to whole seconds, so a change in a partial second at either end is read', async () => {
    const { zuora, queued, run } = setup();
    zuora.change('A-S1', at('2026-11-20T01:00:00Z'));
    zuora.change('A-S2', at('2026-11-20T02:00:00Z'));
    const report = await run(
      {},
      { window: { startMs: at('2026-11-20T01:00:00.400Z'), endMs: at('2026-11-20T02:00:00.001Z') } },
    );
    expect(report).toMatchObject({
      outcome: 'complete',
      window: { startMs: at('2026-11-20T01:00:00Z'), endMs: at('2026-11-20T02:00:01Z') },
    });
    expect(queued.ids()).toEqual(['A-S1', 'A-S2']);
  });

  it('in a dry run, counts what it would queue but queues nothing and leaves the watermark', async () => {
    const { zuora, watermarks, queued, run } = setup();
    zuora.change('A-S1', at('2026-11-24T17:05:00Z'));
    zuora.change('A-S2', at('2026-11-24T17:05:00Z'));
    const report = await run({ 'A-S2': at('2026-11-24T17:06:00Z') }, { dryRun: true });
    expect(report).toMatchObject({ outcome: 'complete', dryRun: true, counts: { queued: 1, covered: 1 } });
    expect(queued.batches).toEqual([]);
    expect(watermarks.puts).toEqual([]);
  });

  it('refuses a scheduled run without a watermark store and an empty explicit window', async () => {
    const source = new FakeZuora({ now: NOW });
    await expect(
      runSweep({ source, coverage: ledger({}), enqueue: queue().port }, { settings, commitLagSeconds: 2 }),
    ).rejects.toThrow(/watermark store/);
    const report = await runSweep(
      { source, coverage: ledger({}), enqueue: queue().port },
      { settings, commitLagSeconds: 2, window: { startMs: NOW, endMs: NOW } },
    );
    expect(report.outcome).toBe('failed');
  });
});

describe('memoryWatermarkStore', () => {
  it('never moves the watermark backwards', async () => {
    const store = memoryWatermarkStore({ completedUntilMs: 2 * HOUR });
    await store.put({ completedUntilMs: HOUR });
    expect(store.current).toEqual({ completedUntilMs: 2 * HOUR });
    await store.put({ completedUntilMs: 2 * HOUR, sliceSeconds: 600 });
    expect(store.current).toEqual({ completedUntilMs: 2 * HOUR, sliceSeconds: 600 });
  });
});

describe('a sweep over the Zuora sandbox', () => {
  it('queues the change made without a callout and skips the one its callout synced, reading pages of the real API', async () => {
    const sandbox = await startZuoraSandbox({ pageSize: 2 });
    try {
      const now = Date.now();
      const changedAt = now - 20 * MINUTE;
      // Changed with its callout: synced 3 s later.
      sandbox.touch('A-S00000101', changedAt);
      // Changed in Zuora without any callout (a disabled workflow, a lost notification).
      sandbox.touch('A-S00000102', changedAt);
      sandbox.touch('A-S00000102', changedAt + MINUTE);
      // Too fresh: left to its callout (settle).
      sandbox.touch('A-S00000103', now - MINUTE);
      for (let i = 0; i < 3; i++) sandbox.touch(`A-S0000020${i}`, changedAt - 2 * MINUTE);
      const client = new ZuoraClient({
        baseUrl: sandbox.baseUrl,
        credentials: {
          canRefresh: false,
          read: async () => ({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }),
        },
      });
      const queued = queue();
      const watermarks = memoryWatermarkStore();
      const synced = {
        'A-S00000101': changedAt + 3_000,
        'A-S00000200': changedAt,
        'A-S00000201': changedAt,
        'A-S00000202': changedAt,
      };
      const report = await runSweep(
        { source: zuoraChangeSource(client), coverage: ledger(synced), enqueue: queued.port, watermarks },
        { settings, commitLagSeconds: 2 },
      );
      expect(report).toMatchObject({ outcome: 'complete', counts: { read: 6, distinct: 5, covered: 4, queued: 1 } });
      expect(queued.ids()).toEqual(['A-S00000102']);
      expect(sandbox.stats).toMatchObject({ tokenRequests: 1, queryRequests: 1, queryMoreRequests: 2, maxInFlight: 1 });
    } finally {
      await sandbox.stop();
    }
  });
});
