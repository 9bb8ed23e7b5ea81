import { measureBundles } from '../../bench/bundles';
import { measureCalloutHotPath } from '../../bench/callout-hot-path';
import { checkChaos, PER_CONTAINER_CHECK } from '../../bench/fault-run-report';
import { checkCalloutsLost } from '../../bench/ledger-run-report';
import { checkBadSubscription, checkOutage } from '../../bench/outage-report';
import { checkReplayWhileFailing } from '../../bench/replay-report';
import { runBadSubscription, type OutageResult } from '../../bench/outage-run';
import { runChaos } from '../../bench/chaos-run';
import type { ChaosResult } from '../../bench/chaos-options';
import { runEndToEnd } from '../../bench/end-to-end';
import { runReplayWhileFailing, REPLAY_WHILE_FAILING_DEFAULTS, type ReplayWhileFailingResult } from '../../bench/replay-run';
import { runSyncs } from '../../bench/sync-runs';
import { ledgerBurstFigures } from '../../bench/ledger-burst-report';
import { sweepFigures } from '../../bench/sweep-report';
import { checkLedgerBurst, runLedgerBurst, type BurstRun, type LedgerBurstResult } from '../../bench/ledger-burst';
import { checkSweepBench, runSweepBench, type SweepBenchResult } from '../../bench/sweep-run';

// `npm run bench` and `npm run chaos` at a few seconds' scale: the same code paths, asserting that each run was
// correct (everything accepted, synced, within the cap, faults really injected). Speed is never asserted here.

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
    ledger: true, limioCalls: 2, lastChangeSyncedMs: 200, allDoneMs: 6_000, allDone: true, deadLettered: 0, ledgerReads: 10, ledgerWrites: 6, covered: 4, ...changes,
  });
  const burst = (on: BurstRun, off: BurstRun = run({ ledger: false, limioCalls: 4, ledgerReads: 0, ledgerWrites: 0, covered: 0 })): LedgerBurstResult => ({
    options: { runs: 1, callouts: 8, pollers: 2, batchSize: 2, cooldownSeconds: 5, limioLatencyMs: 100 }, off: [off], on: [on],
  });

  it('fails a burst with a message left undone or dead-lettered, a change never synced, or the ledger used while off', () => {
    expect(checkLedgerBurst(burst(run()))).toEqual([]);
    expect(checkLedgerBurst(burst(run({ allDone: false })))).toEqual(['ledger on: not every message of the burst was done in time']);
    expect(checkLedgerBurst(burst(run({ deadLettered: 1 })))).toEqual(['ledger on: 1 messages dead-lettered']);
    expect(checkLedgerBurst(burst(run({ lastChangeSyncedMs: Number.NaN })))).toEqual([expect.stringContaining('ledger on: no sync started after the last callout')]);
    expect(checkLedgerBurst(burst(run(), run({ ledger: false, ledgerReads: 1, ledgerWrites: 0 })))).toEqual(['ledger off: the ledger was used']);
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
    expect(result.zuoraRequests).toBe(10);
    expect(result.pageFloor).toBe(10);
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
    expect(failing({ missing: ['A-S00000001'] })).toEqual([expect.stringContaining('1 uncovered subscriptions not queued')]);
    expect(failing({ unexpected: ['A-S00000002'] })).toEqual([expect.stringContaining('1 covered subscriptions queued')]);
    expect(failing({ duplicates: 3 })).toEqual(['3 subscriptions queued more than once']);
    expect(failing({ allSourceSweep: false })).toEqual(['a queued message does not say source "sweep"']);
    expect(failing({ zuoraMaxInFlight: 2 })).toEqual([expect.stringContaining('2 Zuora requests in flight')]);
    expect(failing({ watermarkMs: undefined })).toEqual(['the watermark in the ledger table is not at the end of the window read']);
    expect(failing({ report: { ...result.report, outcome: 'out-of-time' } })).toEqual(['sweep ended out-of-time']);
    expect(failing({ report: { ...result.report, coverageUnavailable: true } })).toEqual([expect.stringContaining('the ledger was unavailable')]);
    expect(failing({ report: { ...result.report, counts: { ...result.report.counts, queued: 201, covered: 799 } } })).toEqual([
      'sweep reported 201 queued and 799 covered; 200 were uncovered',
    ]);
  });
});

describe('chaos, scaled down', () => {
  it('loses nothing under 502s, 429s, hangs, a token revocation and a worker killed mid-batch', async () => {
    const result = await runChaos({
      subscriptions: 40,
      calloutsPerSubscription: 2,
      // Higher rates than the full run, so that even 40 subscriptions meet every fault.
      rate502: 0.3,
      rate429: 0.1,
      hangRate: 0.15,
      // Messages held by the killed worker come back sooner; invocations stay shorter than this. The function
      // timeout leaves the sync handler its room for a Limio call and the ledger's claim and record (5.5 s).
      visibilityTimeoutSeconds: 8,
      functionTimeoutSeconds: 7,
      cooldownSeconds: 2,
      drainTimeoutMs: 90_000,
    });
    const failed = checkChaos(result).filter((check) => !check.passed);
    expect(failed).toEqual([]);
    expect(result.clientMaxInFlight).toBeGreaterThan(0);
    expect(result.maxInFlight).toBeLessThanOrEqual(result.deployedConcurrencyBound);
    expect(result.acceptedSubscriptions).toBe(40);
    expect(result.synced + result.deadLettered).toBe(40);
    expect(result.workerStarts).toBe(2);
    expect(result.ledgerAnswered).toBeGreaterThan(0);
  }, 120_000);

  const noLimioFaults = { rate502: 0, rate429: 0, hangRate: 0, revokeAt: undefined, killAt: undefined, cooldownSeconds: 2, drainTimeoutMs: 60_000 };

  it('syncs everything when the ledger becomes unreachable part-way (fail open)', async () => {
    const result = await runChaos({ subscriptions: 40, ...noLimioFaults, ledgerOutageAt: 0.3 });
    expect(checkChaos(result).filter((check) => !check.passed)).toEqual([]);
    expect(result.ledgerStopped).toBe(true);
    expect(result.ledgerUnanswered).toBeGreaterThan(0);
    expect(result.synced).toBe(40);
  }, 90_000);

  it('callouts lost: the sweep queues exactly the changes that came without a callout, and each is synced', async () => {
    const result = await runChaos({ subscriptions: 30, ...noLimioFaults, droppedShare: 0.2 });
    expect([...checkChaos(result), ...checkCalloutsLost(result)].filter((check) => !check.passed)).toEqual([]);
    expect(result.sweep).toMatchObject({ dropped: 6, withCallouts: 24, queuedMetric: 6, coveredMetric: 24, droppedSynced: 6, secondCallsForCalledOut: 0 });
    expect(result.acceptedSubscriptions).toBe(24);
  }, 90_000);
});

describe('chaos checks', () => {
  const clean: ChaosResult = {
    options: {
      subscriptions: 2, calloutsPerSubscription: 1, rate502: 0.3, rate429: 0, hangRate: 0, latencyMs: 0, syncConcurrency: 5, pollers: 2,
      limioTimeoutMs: 500, visibilityTimeoutSeconds: 8, functionTimeoutSeconds: 4, backoffBaseSeconds: 1, backoffMaxSeconds: 2, maxAttempts: 8,
      revokeAt: undefined, killAt: undefined, ledger: true, cooldownSeconds: 5, ledgerOutageAt: undefined, droppedShare: 0, drainTimeoutMs: 1000,
    },
    callouts: 2, calloutsAccepted: 2, calloutsRefused: 0, acceptedSubscriptions: 2, synced: 1, deadLettered: 1,
    deadLettersByClass: { exhausted: 1 }, deadLettersWithoutReason: 0, lost: [], drained: true, drainSeconds: 1, limioCalls: 9,
    tokenRequests: 1, maxInFlight: 5, clientMaxInFlight: 5, concurrencyCap: 5, deployedConcurrencyBound: 10, answersByStatus: { 200: 1, 502: 8 }, unanswered: 0,
    overCap: { episodes: 0, totalMs: 0, longestMs: 0 },
    retries: 7, workerKills: 0, killedMidBatch: false, workerStarts: 1, tokensRevoked: false,
    ledgerAnswered: 30, ledgerUnanswered: 0, ledgerStopped: false, syncedAfterLedgerStopped: 0,
  };
  const failedNames = (result: ChaosResult) => checkChaos(result).filter((check) => !check.passed).map((check) => check.name);

  it('passes a run where each subscription is synced or dead-lettered with a reason', () => {
    expect(failedNames(clean)).toEqual([]);
  });

  it('fails a lost subscription, a dead letter without reason, a breach of the cap, an undrained queue', () => {
    expect(failedNames({ ...clean, lost: ['A-S1'] })).toEqual(['nothing lost: every accepted subscription synced or on the DLQ with a reason']);
    expect(failedNames({ ...clean, deadLettersWithoutReason: 1 })).toEqual(['every dead letter carries its reason']);
    expect(failedNames({ ...clean, maxInFlight: 11 })).toEqual(['Limio concurrency never over the cap']);
    // The worker itself waited on more than SYNC_CONCURRENCY: the limiter failed, whatever the sandbox saw.
    expect(failedNames({ ...clean, clientMaxInFlight: 6 })).toEqual([PER_CONTAINER_CHECK]);
    // The sandbox above SYNC_CONCURRENCY while the worker stayed within it: abandoned calls closing, reported only.
    expect(failedNames({ ...clean, maxInFlight: 6, overCap: { episodes: 3, totalMs: 1.5, longestMs: 0.8 } })).toEqual([]);
  });

  it('fails a run whose faults never happened', () => {
    expect(failedNames({ ...clean, answersByStatus: { 200: 2 } })).toEqual(['the faults happened']);
    expect(failedNames({ ...clean, options: { ...clean.options, killAt: 0.5 } })).toEqual(['the faults happened']);
  });

  it('fails a ledger run that never used the ledger, and an outage run whose ledger never went away or stopped the syncing', () => {
    expect(failedNames({ ...clean, ledgerAnswered: 0 })).toEqual(['the sync ledger was in use']);
    expect(failedNames({ ...clean, options: { ...clean.options, ledger: false } })).toEqual(['no sync ledger']);
    const outage = { ...clean, options: { ...clean.options, ledgerOutageAt: 0.4 }, ledgerStopped: true, ledgerUnanswered: 12, syncedAfterLedgerStopped: 1 };
    const failOpen = 'the ledger became unreachable and syncing went on without it (fail open)';
    expect(failedNames(outage)).toEqual([]);
    expect(failedNames({ ...outage, ledgerStopped: false })).toEqual([failOpen]);
    expect(failedNames({ ...outage, ledgerUnanswered: 0 })).toEqual([failOpen]);
    expect(failedNames({ ...outage, syncedAfterLedgerStopped: 0 })).toEqual([failOpen]);
  });

  it('fails a callouts-lost run whose sweep queued too much or too little, miscounted, left a change unsynced or called Limio twice', () => {
    const report = {
      outcome: 'complete' as const, slicesPlanned: 1, slicesCompleted: 1, coverageUnavailable: false, invalidSamples: [], durationMs: 20, dryRun: false,
      counts: { read: 10, distinct: 10, covered: 8, queued: 2, invalid: 0, unnamed: 0 },
    };
    const sweep = {
      dropped: 2, withCallouts: 8, report, queuedMetric: 2, coveredMetric: 8, droppedSynced: 2, droppedNotSynced: [], secondCallsForCalledOut: 0, drainedAfterSweep: true, sweepDrainSeconds: 1,
    };
    const failed = (changes: Partial<typeof sweep>) => checkCalloutsLost({ ...clean, sweep: { ...sweep, ...changes } }).filter((check) => !check.passed).map((check) => check.name);
    expect(failed({})).toEqual([]);
    expect(failed({ report: { ...report, counts: { ...report.counts, queued: 3, covered: 7 } } })).toEqual(['callouts lost: the sweep queued exactly the changes without a callout']);
    expect(failed({ report: { ...report, outcome: 'failed' as never } })).toEqual(['callouts lost: the sweep queued exactly the changes without a callout']);
    expect(failed({ queuedMetric: undefined })).toEqual(['callouts lost: the missing-callouts metric counts them']);
    expect(failed({ droppedSynced: 1, droppedNotSynced: ['A-S00000005'] as never })).toEqual(['callouts lost: every change without a callout synced after the sweep']);
    expect(failed({ secondCallsForCalledOut: 1 })).toEqual(['callouts lost: changes that came with their callouts cost Limio no second call']);
    expect(checkCalloutsLost(clean).map((check) => check.passed)).toEqual([false]);
  });
});

describe('outage mode under the chaos run, scaled down', () => {
  // The long outage itself is covered by test/local/outage-mode.test.ts; the 404 scenario takes seconds.
  it('dead-letters only the 404 subscription, as terminal, and never opens the breaker', async () => {
    const result = await runBadSubscription({ subscriptions: 30, badCallouts: 3 });
    expect(checkBadSubscription(result).filter((check) => !check.passed)).toEqual([]);
    expect(result.badCalloutsAccepted).toBe(3);
    expect(result.deadLetters).toHaveLength(3);
  });

  const outage: OutageResult = {
    outageSeconds: 12, retryBudgetSeconds: 6, accepted: 40, synced: 40, deadLetters: 0, breakerOpened: true, breakerClosedAtEnd: true,
    syncsWhileOpen: 2, syncCap: 10, failedSyncsBeforeTrip: 5, drainAfterRecoverySeconds: 1, drained: true,
  };
  const failedNames = (result: OutageResult) => checkOutage(result).filter((check) => !check.passed).map((check) => check.name);

  it('passes an outage ridden out, and fails each way it can go wrong', () => {
    expect(failedNames(outage)).toEqual([]);
    expect(failedNames({ ...outage, deadLetters: 1 })).toEqual(['outage: no dead letter although the outage outlasted the retry budget']);
    // An outage shorter than the budget proves nothing about the budget.
    expect(failedNames({ ...outage, outageSeconds: 5 })).toEqual(['outage: no dead letter although the outage outlasted the retry budget']);
    expect(failedNames({ ...outage, synced: 39 })).toEqual(['outage: every callout accepted during the outage synced after it']);
    expect(failedNames({ ...outage, breakerOpened: false })).toEqual(['outage: the breaker opened, and closed once Limio was back']);
    expect(failedNames({ ...outage, syncsWhileOpen: 11 })).toEqual(['outage: Limio left alone while the breaker was open']);
  });

  it('fails a 404 run with a healthy subscription dead-lettered or the breaker opened', () => {
    const letter = (subscriptionId: string) => ({ subscriptionId, reason: { failureClass: 'terminal' as const, httpStatus: 404 } });
    const bad = { subscriptions: 2, badSubscription: 'A-B1', badCalloutsAccepted: 1, healthySynced: 2, deadLetters: [letter('A-B1')], breakerOpened: false };
    expect(checkBadSubscription(bad).every((check) => check.passed)).toBe(true);
    expect(checkBadSubscription({ ...bad, deadLetters: [letter('A-B1'), letter('A-S1')], badCalloutsAccepted: 2 }).filter((check) => !check.passed)).toHaveLength(1);
    expect(checkBadSubscription({ ...bad, breakerOpened: true }).filter((check) => !check.passed).map((check) => check.name)).toEqual([
      'one 404 subscription: the breaker never opened',
    ]);
  });
});

describe('replay while the subscriptions still fail, scaled down (issue #12)', () => {
  it('the replay ends, Limio gets at most one call per letter, and the letters are back in the DLQ with their reasons', async () => {
    const result = await runReplayWhileFailing({ failingSubscriptions: 3, calloutsPerSubscription: 2, healthySubscriptions: 5, watchSeconds: 15, replayTimeoutMs: 30_000 });
    expect(checkReplayWhileFailing(result).filter((check) => !check.passed)).toEqual([]);
    expect(result.lettersBefore).toBe(6);
    expect(result.replaySeconds).toBeLessThan(15);
  }, 60_000);

  const letter = (subscriptionId: string) => ({ messageId: subscriptionId, subscriptionId, replayCount: 1, replayRunId: 'r-1', failureClass: 'terminal' as const, httpStatus: 404 });
  const ended: ReplayWhileFailingResult = {
    options: REPLAY_WHILE_FAILING_DEFAULTS, lettersBefore: 2, replayEnded: true, replaySeconds: 1, exitCode: 1, replayed: 2, failedAgainReported: 2,
    limioCallsDuringReplay: 2, lettersAfter: [letter('A-F1'), letter('A-F2')], runId: 'r-1',
  };
  const failedNames = (result: ReplayWhileFailingResult) => checkReplayWhileFailing(result).filter((check) => !check.passed).map((check) => check.name);

  it('fails a replay that never ended, one that called Limio more than once per letter, and one that lost a letter or its reason', () => {
    expect(failedNames(ended)).toEqual([]);
    expect(failedNames({ ...ended, replayEnded: false, exitCode: undefined })).toContain('replay while failing: the replay ended');
    expect(failedNames({ ...ended, limioCallsDuringReplay: 3 })).toEqual(['replay while failing: Limio got at most one call per letter']);
    expect(failedNames({ ...ended, lettersAfter: [letter('A-F1')] })).toEqual(['replay while failing: the letters are back in the DLQ with their reasons']);
    expect(failedNames({ ...ended, lettersAfter: [letter('A-F1'), { ...letter('A-F2'), failureClass: 'unknown' as const, httpStatus: undefined }] })).toEqual([
      'replay while failing: the letters are back in the DLQ with their reasons',
    ]);
  });
});
