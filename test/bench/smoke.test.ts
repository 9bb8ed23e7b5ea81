import { measureBundles } from '../../bench/bundles';
import { measureCalloutHotPath } from '../../bench/callout-hot-path';
import { runEndToEnd } from '../../bench/end-to-end';
import { runSyncs } from '../../bench/sync-runs';
import { ledgerBurstFigures } from '../../bench/ledger-burst-report';
import { sweepFigures } from '../../bench/sweep-report';
import { checkLedgerBurst, runLedgerBurst, type BurstRun, type LedgerBurstResult } from '../../bench/ledger-burst';
import { checkSweepBench, runSweepBench, type SweepBenchResult } from '../../bench/sweep-run';
import {
  accountFanOutFigures,
  checkAccountFanOut,
  runAccountFanOut,
  type AccountFanOutResult,
} from '../../bench/account-fanout-run';
import {
  checkSweepOutage,
  runSweepOutage,
  sweepOutageFigures,
  type SweepOutageResult,
} from '../../bench/sweep-outage-run';
import {
  accountSweepFigures,
  accountSweepZuoraFloor,
  checkAccountSweepBench,
  runAccountSweepBench,
  type AccountSweepBenchResult,
} from '../../bench/account-sweep-run';
import { cliStartupFigures, measureCliStartup } from '../../bench/cli-startup';
import {
  CAPACITY_BENCH_SCALES,
  capacityFigures,
  checkCapacityBench,
  type CapacityBench,
} from '../../bench/capacity-bench';
import { runCapacityDrain, type CapacityDrainResult } from '../../bench/capacity-drain';

// `npm run bench` at a few seconds' scale: the same code paths, asserting that each run was correct
// (everything accepted, synced, within the cap). Speed is never asserted here. `npm run chaos`: chaos-smoke.test.ts.

describe('bench, scaled down', () => {
  it('callout hot path: every callout accepted and one message built per id', async () => {
    const result = await measureCalloutHotPath({ callouts: 300 });
    expect(result.accepted).toBe(300);
    expect(result.messagesBuilt).toBe(300);
    expect(result.calloutsPerSecond).toBeGreaterThan(0);
    expect(result.jsonParsePerSecond).toBeGreaterThan(0);
  });

  it('bundles: the callout, sync and sweep Lambdas bundle as CDK bundles them and load in a fresh node with a handler export', async () => {
    const figures = await measureBundles({ runs: 1 });
    expect(figures.map((figure) => figure.name)).toEqual(['callout', 'sync', 'sweep']);
    for (const figure of figures) {
      expect(figure.bytes).toBeGreaterThan(10_000);
      expect(figure.sourceMapBytes).toBeGreaterThan(0);
      expect(figure.loadRuns).toHaveLength(1);
    }
  });

  it('sync runs: every subscription synced, Limio never over the cap, one token and one secret read', async () => {
    const result = await runSyncs({ syncs: 120, syncConcurrency: 3, faults: { latencyMs: 5 } });
    expect(result.synced).toBe(120);
    expect(result.failedItems).toBe(0);
    expect(result.limioCalls).toBe(120);
    expect(result.maxInFlight).toBeGreaterThan(1);
    expect(result.maxInFlight).toBeLessThanOrEqual(3);
    expect(result.tokenRequests).toBe(1);
    expect(result.secretReads).toBe(1);
    expect(result.sqsCalls).toBe(0);
  });

  it('end to end through the local runtime: every callout accepted and synced, each latency after its callout', async () => {
    const result = await runEndToEnd({ callouts: 60, subscriptions: 20, parallel: 8 });
    expect(result.accepted).toBe(60);
    expect(result.subscriptions).toBe(20);
    expect(result.allSynced).toBe(true);
    expect(result.deadLettered).toBe(0);
    expect(result.limioCalls).toBeGreaterThanOrEqual(20);
    expect(result.limioCalls).toBeLessThanOrEqual(60);
    expect(result.maxInFlight).toBeLessThanOrEqual(result.syncConcurrencyCap);
    expect(result.latencyP50Ms).toBeGreaterThan(0);
    expect(result.latencyP99Ms).toBeGreaterThanOrEqual(result.latencyP50Ms);
    expect(result.drainSeconds).toBeGreaterThan(0);
    expect(result.ledger).toBe(true);
    expect(result.firstCalloutP50Ms).toBeGreaterThan(0);
  });

  it('end to end without the sync ledger (the baseline): every callout synced, none covered by a ledger', async () => {
    const result = await runEndToEnd({ callouts: 40, subscriptions: 20, parallel: 8, ledger: false });
    expect(result).toMatchObject({ ledger: false, accepted: 40, allSynced: true, deadLettered: 0, coveredMessages: 0 });
    expect(result.limioCalls).toBeGreaterThanOrEqual(20);
    expect(result.firstCalloutP50Ms).toBeGreaterThan(0);
    expect(result.firstCalloutP50Ms).toBeLessThanOrEqual(result.latencyP99Ms);
  });

  it.each([true, false])(
    'end to end with the sync function in its own process (ledger %s): every callout synced, each latency after its callout',
    async (ledger) => {
      const result = await runEndToEnd({ callouts: 40, subscriptions: 20, parallel: 8, ledger, syncIn: 'own-process' });
      expect(result).toMatchObject({ ledger, accepted: 40, allSynced: true, deadLettered: 0 });
      if (!ledger) expect(result.coveredMessages).toBe(0);
      expect(result.limioCalls).toBeGreaterThanOrEqual(20);
      expect(result.limioCalls).toBeLessThanOrEqual(40);
      expect(result.maxInFlight).toBeLessThanOrEqual(result.syncConcurrencyCap);
      expect(result.firstCalloutP50Ms).toBeGreaterThan(0);
      expect(result.latencyP99Ms).toBeGreaterThanOrEqual(result.latencyP50Ms);
    },
  );
});

describe('sync ledger burst, scaled down (issue #13)', () => {
  it('syncs every message of the burst with the ledger off and on, the last change included, and only the ledger run uses the ledger', async () => {
    const result = await runLedgerBurst({ runs: 1, cooldownSeconds: 2 });
    expect(checkLedgerBurst(result)).toEqual([]);
    const [off] = result.off;
    const [on] = result.on;
    expect(off).toMatchObject({ allDone: true, deadLettered: 0, ledgerReads: 0, ledgerWrites: 0, covered: 0 });
    expect(on).toMatchObject({ allDone: true, deadLettered: 0 });
    expect(on!.ledgerReads).toBeGreaterThan(0);
    // Every Limio call is claimed first and recorded after.
    expect(on!.ledgerWrites).toBeGreaterThanOrEqual(2 * on!.limioCalls);
    for (const run of [off!, on!]) {
      expect(run.limioCalls).toBeGreaterThanOrEqual(1);
      expect(run.limioCalls).toBeLessThanOrEqual(8);
      expect(run.lastChangeSyncedMs).toBeLessThanOrEqual(run.allDoneMs + 1_000);
    }
    expect(ledgerBurstFigures(result)).toHaveLength(3);
  }, 60_000);

  const run = (changes: Partial<BurstRun> = {}): BurstRun => ({
    ledger: true,
    limioCalls: 2,
    lastChangeSyncedMs: 200,
    allDoneMs: 6_000,
    allDone: true,
    deadLettered: 0,
    ledgerReads: 10,
    ledgerWrites: 6,
    covered: 4,
    ...changes,
  });
  const burst = (
    on: BurstRun,
    off: BurstRun = run({ ledger: false, limioCalls: 4, ledgerReads: 0, ledgerWrites: 0, covered: 0 }),
  ): LedgerBurstResult => ({
    options: { runs: 1, callouts: 8, pollers: 2, batchSize: 2, cooldownSeconds: 5, limioLatencyMs: 100 },
    off: [off],
    on: [on],
  });

  it('fails a burst with a message left undone or dead-lettered, a change never synced, or the ledger used while off', () => {
    expect(checkLedgerBurst(burst(run()))).toEqual([]);
    expect(checkLedgerBurst(burst(run({ allDone: false })))).toEqual([
      'ledger on: not every message of the burst was done in time',
    ]);
    expect(checkLedgerBurst(burst(run({ deadLettered: 1 })))).toEqual(['ledger on: 1 messages dead-lettered']);
    expect(checkLedgerBurst(burst(run({ lastChangeSyncedMs: Number.NaN })))).toEqual([
      expect.stringContaining('ledger on: no sync started after the last callout'),
    ]);
    expect(checkLedgerBurst(burst(run(), run({ ledger: false, ledgerReads: 1, ledgerWrites: 0 })))).toEqual([
      'ledger off: the ledger was used',
    ]);
  });

  it('reports the ledger requests per Limio call saved', () => {
    const [calls, , cost] = ledgerBurstFigures(burst(run()));
    expect(calls!.ratio).toBe(0.5);
    expect(cost!.value).toBe('16 ledger requests per burst');
    expect(cost!.baseline).toBe('Limio calls saved per burst: 2');
    expect(cost!.ratio).toBe(8);
  });
});

describe('sweep bench, scaled down (issue #14)', () => {
  let result: SweepBenchResult;
  beforeAll(async () => {
    // Pages of 100, so the window takes several queryMore calls as the full run's 2000-record pages do.
    result = await runSweepBench({ subscriptions: 1_000, uncoveredShare: 0.2, pageSize: 100 });
  }, 60_000);

  it('reads every page once, queues exactly the uncovered subscriptions, and moves the watermark in the ledger table', () => {
    expect(checkSweepBench(result)).toEqual([]);
    expect(result.uncovered).toBe(200);
    expect(result.report.counts).toMatchObject({ read: 1_000, distinct: 1_000, covered: 800, queued: 200 });
    expect(result.queuedOnQueue).toBe(200);
    // 10 pages of subscriptions, and each slice's Account and Contact queries (empty: no account changed).
    expect(result.zuoraRequests).toBe(result.pageFloor);
    expect(result.pageFloor).toBe(10 + 2 * result.report.slicesPlanned);
    expect(result.zuoraTokenRequests).toBe(1);
    expect(result.ledgerBatchGets).toBe(10);
    expect(result.sqsSendBatches).toBe(20);
    expect(result.readOnlySeconds).toBeGreaterThan(0);
    const figures = sweepFigures(result, 20);
    expect(figures.map((figure) => figure.ratio)).toEqual([expect.any(Number), 1, 1, 1]);
    expect(figures[0]!.measure).toBe('sweep over 1,000 changed subscriptions (20 % without a sync): time');
  });

  it('fails a sweep that queued a covered subscription, missed or repeated one, or did not finish', () => {
    const failing = (changed: Partial<SweepBenchResult>) => checkSweepBench({ ...result, ...changed });
    expect(failing({ missing: ['A-S00000001'] })).toEqual([
      expect.stringContaining('1 uncovered subscriptions not queued'),
    ]);
    expect(failing({ unexpected: ['A-S00000002'] })).toEqual([
      expect.stringContaining('1 covered subscriptions queued'),
    ]);
    expect(failing({ duplicates: 3 })).toEqual(['3 subscriptions queued more than once']);
    expect(failing({ allSourceSweep: false })).toEqual(['a queued message does not say source "sweep"']);
    expect(failing({ zuoraMaxInFlight: 2 })).toEqual([expect.stringContaining('2 Zuora requests in flight')]);
    expect(failing({ watermarkMs: undefined })).toEqual([
      'the watermark in the ledger table is not at the end of the window read',
    ]);
    expect(failing({ report: { ...result.report, outcome: 'out-of-time' } })).toEqual(['sweep ended out-of-time']);
    expect(failing({ report: { ...result.report, coverageUnavailable: true } })).toEqual([
      expect.stringContaining('the ledger was unavailable'),
    ]);
    expect(
      failing({ report: { ...result.report, counts: { ...result.report.counts, queued: 201, covered: 799 } } }),
    ).toEqual(['sweep reported 201 queued and 799 covered; 200 were uncovered']);
  });
});

describe('account fan-out, scaled down (issue #22)', () => {
  let result: AccountFanOutResult;
  beforeAll(async () => {
    result = await runAccountFanOut({ subscriptions: 40, versions: 3 });
  }, 60_000);

  it('one account callout: one Limio call per subscription, Zuora requests at the floor (a lookup and one page), each row beside its baseline', () => {
    expect(checkAccountFanOut(result)).toEqual([]);
    expect(result).toMatchObject({
      subscriptions: 40,
      versions: 3,
      limioCalls: 40,
      synced: 40,
      zuoraRequests: 2,
      zuoraFloor: 2,
      deadLetters: 0,
      allSynced: true,
      baselineAllSynced: true,
    });
    expect(result.calloutToLastSyncSeconds).toBeGreaterThan(0);
    expect(result.baselineCalloutsToLastSyncSeconds).toBeGreaterThan(0);
    expect(accountFanOutFigures(result).map((figure) => figure.ratio)).toEqual([1, 1, expect.any(Number)]);
  });

  it('fails a fan-out that synced a subscription twice or left one out, read Zuora above the floor, or dead-lettered', () => {
    expect(checkAccountFanOut({ ...result, limioCalls: 41 })).toEqual([
      "41 Limio calls for the account's 40 subscriptions (one each expected)",
    ]);
    expect(checkAccountFanOut({ ...result, allSynced: false, synced: 39 })).toEqual([
      "39 of the account's 40 subscriptions synced after its callout",
    ]);
    expect(checkAccountFanOut({ ...result, zuoraRequests: 3 })).toEqual(['3 Zuora requests, floor 2']);
    expect(checkAccountFanOut({ ...result, deadLetters: 1 })).toEqual(['1 dead letters']);
  });
});

describe('sweep over changed accounts and contacts, scaled down (issue #22)', () => {
  let result: AccountSweepBenchResult;
  beforeAll(async () => {
    // Pages of 100, so the Account and Contact queries and the 199-account lookups take several pages each.
    result = await runAccountSweepBench({ accounts: 300, uncoveredShare: 0.2, pageSize: 100 });
  }, 60_000);

  it("reads the changed accounts and contacts at the floor and queues exactly the uncovered accounts' subscriptions, once each", () => {
    expect(checkAccountSweepBench(result)).toEqual([]);
    expect(result).toMatchObject({
      accounts: 300,
      accountRecords: 200,
      contactRecords: 200,
      subscriptions: 600,
      uncoveredAccounts: 60,
      uncovered: 120,
      queuedOnQueue: 120,
      duplicates: 0,
    });
    expect(result.report.counts).toMatchObject({
      read: 0,
      accountsRead: 200,
      contactsRead: 200,
      accountsChanged: 300,
      accountSubscriptions: 600,
      covered: 480,
      pending: 0,
      unproven: 0,
      missing: 120,
      queued: 120,
    });
    // The Subscription query (empty), 2 pages of accounts, 2 of contacts, and 199 + 101 accounts' 4 versions each: 8 + 5 pages.
    expect(result.zuoraFloor).toBe(1 + 2 + 2 + 8 + 5);
    expect(result.zuoraRequests).toBe(result.zuoraFloor);
    expect(accountSweepFigures(result, 20).map((figure) => figure.ratio)).toEqual([1, 1]);
  });

  it('counts the floor from the page size and the 199 accounts a lookup carries', () => {
    expect(
      accountSweepZuoraFloor({
        accountRecords: 6_667,
        contactRecords: 6_667,
        changedAccounts: 10_000,
        versionsPerAccount: 4,
        pageSize: 2_000,
      }),
    ).toBe(1 + 4 + 4 + 51);
    expect(
      accountSweepZuoraFloor({
        accountRecords: 0,
        contactRecords: 1,
        changedAccounts: 1,
        versionsPerAccount: 4,
        pageSize: 2_000,
      }),
    ).toBe(4);
  });

  it('fails a sweep that queued a covered subscription, missed or repeated one, read Zuora above the floor, or read it in several slices', () => {
    const failing = (changed: Partial<AccountSweepBenchResult>) => checkAccountSweepBench({ ...result, ...changed });
    expect(failing({ missing: ['A-C00000001'] })).toEqual([
      expect.stringContaining('1 uncovered subscriptions not queued'),
    ]);
    expect(failing({ unexpected: ['A-C00000002'] })).toEqual([
      expect.stringContaining('1 covered subscriptions queued'),
    ]);
    expect(failing({ duplicates: 2 })).toEqual(['2 subscriptions queued more than once']);
    expect(failing({ zuoraRequests: result.zuoraFloor + 1 })).toEqual([
      `${result.zuoraFloor + 1} Zuora requests, floor ${result.zuoraFloor}`,
    ]);
    expect(failing({ report: { ...result.report, slicesPlanned: 2 } })).toEqual([
      'the window was read in 2 slices; the floor counts one',
    ]);
    expect(
      failing({ report: { ...result.report, counts: { ...result.report.counts, queued: 121, unproven: 1 } } }),
    ).toEqual(['sweep reported 121 queued (120 missing) and 480 covered; 120 were uncovered']);
  });
});

describe('Limio outage over three sweeps, scaled down (issue #22)', () => {
  let result: SweepOutageResult;
  beforeAll(async () => {
    result = await runSweepOutage({ subscriptions: 30, withoutCalloutShare: 0.2 });
  }, 90_000);

  it('counts no missing callout and queues nothing during the outage, then queues exactly the changes made without a callout', () => {
    expect(checkSweepOutage(result)).toEqual([]);
    expect(
      result.outageSweeps.map((sweep) => [sweep.counts.pending, sweep.counts.queued, sweep.missingMetric]),
    ).toEqual([
      [10, 0, 0],
      [20, 0, 0],
      [30, 0, 0],
    ]);
    expect(result.afterOutage.counts).toMatchObject({ missing: 6, queued: 6, unproven: 0, covered: 24 });
    expect(result.syncedAfterSweep).toEqual(result.expectedAfterSweep);
    expect(sweepOutageFigures(result).map((figure) => figure.value)).toEqual(['0', '0', '6']);
  });

  it('fails a sweep that counted a pending change missing or queued it, or queued other than the changes without a callout', () => {
    const [first, ...rest] = result.outageSweeps;
    const withFirst = (counts: Partial<SweepOutageResult['outageSweeps'][number]['counts']>, missingMetric = 0) =>
      checkSweepOutage({
        ...result,
        outageSweeps: [{ counts: { ...first!.counts, ...counts }, missingMetric }, ...rest],
      });
    expect(withFirst({ missing: 1, pending: 9 }, 1)).toEqual([
      'sweep 1 in the outage counted 1 missing callouts (metric 1)',
      'sweep 1 in the outage counted 9 pending of 10 changes with callouts',
    ]);
    expect(withFirst({ unproven: 2, queued: 2, pending: 8 })).toEqual([
      'sweep 1 in the outage queued 2 (unproven 2) for changes whose callouts came',
      'sweep 1 in the outage counted 8 pending of 10 changes with callouts',
    ]);
    expect(checkSweepOutage({ ...result, syncedAfterSweep: [...result.expectedAfterSweep, 'A-W00000002'] })).toEqual([
      'synced after the sweep: 7, expected exactly the 6 without a callout',
    ]);
    expect(
      checkSweepOutage({
        ...result,
        afterOutage: { ...result.afterOutage, counts: { ...result.afterOutage.counts, queued: 7, unproven: 1 } },
      }),
    ).toEqual(['after the outage the sweep counted 6 missing (metric 6) and queued 7; 6 changes had no callout']);
  });
});

describe('bench, CLI start, scaled down', () => {
  // Needs the install's link node_modules/.bin/zuora-limio-sync (`npm ci` makes it); npx --no-install never fetches.
  it('each command printed what it should; both figures compare with a baseline of the same run', async () => {
    const result = await measureCliStartup({ runs: 1 });
    expect(result.failures).toEqual([]);
    expect(Object.keys(result.medianMs)).toEqual([
      'npx zuora-limio-sync --help',
      'npx esbuild --version',
      'node cli/bin.js --help',
      'node -e 0',
    ]);
    for (const ms of Object.values(result.medianMs)) expect(ms).toBeGreaterThan(0);
    const figures = cliStartupFigures(result);
    expect(figures.map((figure) => figure.ratio)).toEqual([
      result.medianMs['npx zuora-limio-sync --help']! / result.medianMs['npx esbuild --version']!,
      result.nodeRatio,
    ]);
    expect(figures[0]!.note).toMatch(/ms over; goal at most 150 ms over: (goal met|GOAL NOT MET)$/);
  });
});

describe('capacity, scaled down (issue #21)', () => {
  let result: CapacityDrainResult;
  let bench: CapacityBench;
  beforeAll(async () => {
    // One sync process, its adaptive limit at once (no wait for a wall-clock minute), against a Limio of hidden
    // capacity 4 at 50 ms, under a ceiling of 8.
    result = await runCapacityDrain({
      subscriptions: 60,
      workers: 1,
      pollersPerWorker: 1,
      capacity: 4,
      latencyMs: 50,
      syncConcurrency: 8,
      adaptive: true,
      timeoutMs: 60_000,
    });
    // Every run of the section played by this one: its figures and checks, not its goals, are what is smoke-tested.
    bench = {
      scale: { ...CAPACITY_BENCH_SCALES.quick, capacity: 4, latencyMs: 50, ceiling: 8, backlog: 60 },
      unbounded: result,
      fixedDefault: result,
      fixedCeiling: result,
      fleets: [result],
      steps: result,
    };
  }, 90_000);

  it('drains every subscription through the adaptive limit, never above its ceiling, nothing left on the queue', () => {
    expect(result).toMatchObject({ drained: true, synced: 60, lost: 0, leftOnQueue: 0 });
    expect(result.limioCalls).toBeGreaterThanOrEqual(60);
    expect(result.maxInFlight).toBeGreaterThan(0);
    expect(result.maxInFlight).toBeLessThanOrEqual(8);
    const figures = capacityFigures(bench);
    expect(figures.length).toBeGreaterThan(10);
    expect(figures.every((figure) => figure.measure.startsWith('capacity'))).toBe(true);
    expect(checkCapacityBench(bench).filter((failure) => /not synced|over the ceiling/.test(failure))).toEqual([]);
  });

  it('fails a run that left a subscription unsynced or went over its ceiling', () => {
    const failures = checkCapacityBench({
      ...bench,
      fleets: [{ ...result, drained: false, lost: 1, synced: 59 }],
      steps: { ...result, maxInFlight: 9 },
    });
    expect(failures).toContain('adaptive × 1: 1 of 60 subscriptions not synced');
    expect(failures).toContain('adaptive × 1: 9 Limio calls in flight, over the ceiling of 8');
  });
});
