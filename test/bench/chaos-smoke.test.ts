import { checkChaos, PER_CONTAINER_CHECK } from '../../bench/fault-run-report';
import { checkCalloutsLost } from '../../bench/ledger-run-report';
import { checkBadSubscription, checkOutage } from '../../bench/outage-report';
import { checkReplayWhileFailing } from '../../bench/replay-report';
import { runBadSubscription, type OutageResult } from '../../bench/outage-run';
import { runChaos } from '../../bench/chaos-run';
import type { ChaosResult } from '../../bench/chaos-options';
import {
  runReplayWhileFailing,
  REPLAY_WHILE_FAILING_DEFAULTS,
  type ReplayWhileFailingResult,
} from '../../bench/replay-run';

// `npm run chaos` at a few seconds' scale: the same code paths, asserting that each run was correct (nothing
// lost, within the cap, faults really injected), and that each check fails the runs it must fail.

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
      // The adaptive limit (on by default) cuts on every 429 and timeout, as Limio asks: at a 10 % 429 and 15 % hang
      // rate the worker sits at its floor (0.05, one call paced every 20 calls' cost, 10 s after a 500-ms timeout), and
      // the worker started after the kill grows only once a minute's probe meets no refusal. Measured 59-209 s over 11
      // runs, 2 over 150 s, longer the more calls hang (12-22): a bound on losing nothing, not a speed goal.
      drainTimeoutMs: 300_000,
    });
    const failed = checkChaos(result).filter((check) => !check.passed);
    expect(failed).toEqual([]);
    expect(result.clientMaxInFlight).toBeGreaterThan(0);
    expect(result.maxInFlight).toBeLessThanOrEqual(result.deployedConcurrencyBound);
    expect(result.acceptedSubscriptions).toBe(40);
    expect(result.synced + result.deadLettered).toBe(40);
    expect(result.workerStarts).toBe(2);
    expect(result.ledgerAnswered).toBeGreaterThan(0);
  }, 330_000);

  const noLimioFaults = {
    rate502: 0,
    rate429: 0,
    hangRate: 0,
    revokeAt: undefined,
    killAt: undefined,
    cooldownSeconds: 2,
    drainTimeoutMs: 60_000,
  };

  it('syncs everything when the ledger becomes unreachable part-way (fail open)', async () => {
    const result = await runChaos({ subscriptions: 40, ...noLimioFaults, ledgerOutageAt: 0.3 });
    expect(checkChaos(result).filter((check) => !check.passed)).toEqual([]);
    expect(result.ledgerStopped).toBe(true);
    expect(result.ledgerUnanswered).toBeGreaterThan(0);
    expect(result.synced).toBe(40);
  }, 90_000);

  it('callouts lost: the sweep counts exactly the changes that came without a callout missing, and each is synced; callouts naming UpdatedDate cost no second call', async () => {
    const result = await runChaos({
      subscriptions: 30,
      ...noLimioFaults,
      droppedShare: 0.2,
      calloutsNameUpdatedDate: true,
    });
    expect([...checkChaos(result), ...checkCalloutsLost(result)].filter((check) => !check.passed)).toEqual([]);
    expect(result.sweep).toMatchObject({
      dropped: 6,
      withCallouts: 24,
      missingMetric: 6,
      unprovenMetric: 0,
      pendingMetric: 0,
      coveredMetric: 24,
      droppedSynced: 6,
      secondCallsForCalledOut: 0,
    });
    expect(result.acceptedSubscriptions).toBe(24);
  }, 90_000);
});

describe('chaos checks', () => {
  const clean: ChaosResult = {
    options: {
      subscriptions: 2,
      calloutsPerSubscription: 1,
      rate502: 0.3,
      rate429: 0,
      hangRate: 0,
      latencyMs: 0,
      syncConcurrency: 5,
      pollers: 2,
      limioTimeoutMs: 500,
      visibilityTimeoutSeconds: 8,
      functionTimeoutSeconds: 4,
      backoffBaseSeconds: 1,
      backoffMaxSeconds: 2,
      maxAttempts: 8,
      revokeAt: undefined,
      killAt: undefined,
      ledger: true,
      cooldownSeconds: 5,
      ledgerOutageAt: undefined,
      droppedShare: 0,
      calloutsNameUpdatedDate: false,
      drainTimeoutMs: 1000,
    },
    callouts: 2,
    calloutsAccepted: 2,
    calloutsRefused: 0,
    acceptedSubscriptions: 2,
    synced: 1,
    deadLettered: 1,
    deadLettersByClass: { exhausted: 1 },
    deadLettersWithoutReason: 0,
    lost: [],
    drained: true,
    drainSeconds: 1,
    limioCalls: 9,
    tokenRequests: 1,
    maxInFlight: 5,
    clientMaxInFlight: 5,
    concurrencyCap: 5,
    deployedConcurrencyBound: 10,
    answersByStatus: { 200: 1, 502: 8 },
    unanswered: 0,
    overCap: { episodes: 0, totalMs: 0, longestMs: 0 },
    retries: 7,
    workerKills: 0,
    killedMidBatch: false,
    workerStarts: 1,
    tokensRevoked: false,
    ledgerAnswered: 30,
    ledgerUnanswered: 0,
    ledgerStopped: false,
    syncedAfterLedgerStopped: 0,
  };
  const failedNames = (result: ChaosResult) =>
    checkChaos(result)
      .filter((check) => !check.passed)
      .map((check) => check.name);

  it('passes a run where each subscription is synced or dead-lettered with a reason', () => {
    expect(failedNames(clean)).toEqual([]);
  });

  it('fails a lost subscription, a dead letter without reason, a breach of the cap, an undrained queue', () => {
    expect(failedNames({ ...clean, lost: ['A-S1'] })).toEqual([
      'nothing lost: every accepted subscription synced or on the DLQ with a reason',
    ]);
    expect(failedNames({ ...clean, deadLettersWithoutReason: 1 })).toEqual(['every dead letter carries its reason']);
    expect(failedNames({ ...clean, maxInFlight: 11 })).toEqual(['Limio concurrency never over the cap']);
    // The worker itself waited on more than SYNC_CONCURRENCY: the limiter failed, whatever the sandbox saw.
    expect(failedNames({ ...clean, clientMaxInFlight: 6 })).toEqual([PER_CONTAINER_CHECK]);
    // The sandbox above SYNC_CONCURRENCY while the worker stayed within it: abandoned calls closing, reported only.
    expect(failedNames({ ...clean, maxInFlight: 6, overCap: { episodes: 3, totalMs: 1.5, longestMs: 0.8 } })).toEqual(
      [],
    );
  });

  it('fails a run whose faults never happened', () => {
    expect(failedNames({ ...clean, answersByStatus: { 200: 2 } })).toEqual(['the faults happened']);
    expect(failedNames({ ...clean, options: { ...clean.options, killAt: 0.5 } })).toEqual(['the faults happened']);
  });

  it('fails a ledger run that never used the ledger, and an outage run whose ledger never went away or stopped the syncing', () => {
    expect(failedNames({ ...clean, ledgerAnswered: 0 })).toEqual(['the sync ledger was in use']);
    expect(failedNames({ ...clean, options: { ...clean.options, ledger: false } })).toEqual(['no sync ledger']);
    const outage = {
      ...clean,
      options: { ...clean.options, ledgerOutageAt: 0.4 },
      ledgerStopped: true,
      ledgerUnanswered: 12,
      syncedAfterLedgerStopped: 1,
    };
    const failOpen = 'the ledger became unreachable and syncing went on without it (fail open)';
    expect(failedNames(outage)).toEqual([]);
    expect(failedNames({ ...outage, ledgerStopped: false })).toEqual([failOpen]);
    expect(failedNames({ ...outage, ledgerUnanswered: 0 })).toEqual([failOpen]);
    expect(failedNames({ ...outage, syncedAfterLedgerStopped: 0 })).toEqual([failOpen]);
  });

  it('fails a callouts-lost run whose sweep miscounted missing, queued a pending change, left a change unsynced or called Limio twice', () => {
    const report = {
      outcome: 'complete' as const,
      slicesPlanned: 1,
      slicesCompleted: 1,
      coverageUnavailable: false,
      invalidSamples: [],
      durationMs: 20,
      dryRun: false,
      counts: {
        read: 10,
        distinct: 10,
        covered: 5,
        pending: 1,
        unproven: 2,
        missing: 2,
        queued: 4,
        invalid: 0,
        unnamed: 0,
        accountsRead: 0,
        contactsRead: 0,
        accountsChanged: 0,
        accountSubscriptions: 0,
      },
    };
    const sweep = {
      dropped: 2,
      withCallouts: 8,
      calloutsNamedUpdatedDate: false,
      report,
      queuedMetric: 4,
      coveredMetric: 5,
      pendingMetric: 1,
      unprovenMetric: 2,
      missingMetric: 2,
      droppedSynced: 2,
      droppedNotSynced: [],
      secondCallsForCalledOut: 2,
      drainedAfterSweep: true,
      sweepDrainSeconds: 1,
    };
    const failed = (changes: Partial<typeof sweep>) =>
      checkCalloutsLost({ ...clean, sweep: { ...sweep, ...changes } })
        .filter((check) => !check.passed)
        .map((check) => check.name);
    const counted = 'callouts lost: the sweep counted exactly the changes without a callout missing';
    expect(failed({})).toEqual([]);
    // A change that came with its callout counted missing (the old rule's mistake).
    expect(
      failed({ report: { ...report, counts: { ...report.counts, missing: 3, queued: 5 } }, queuedMetric: 5 }),
    ).toEqual([counted]);
    // A pending change queued again.
    expect(failed({ report: { ...report, counts: { ...report.counts, queued: 5 } }, queuedMetric: 5 })).toEqual([
      counted,
    ]);
    expect(failed({ report: { ...report, outcome: 'failed' as never } })).toEqual([counted]);
    expect(failed({ missingMetric: undefined })).toEqual([
      'callouts lost: the missing-callouts metric (sweepMissing) counts them',
    ]);
    expect(failed({ missingMetric: 4 })).toEqual([
      'callouts lost: the missing-callouts metric (sweepMissing) counts them',
    ]);
    expect(failed({ droppedSynced: 1, droppedNotSynced: ['A-S00000005'] as never })).toEqual([
      'callouts lost: every change without a callout synced after the sweep',
    ]);
    expect(failed({ secondCallsForCalledOut: 3 })).toEqual([
      'callouts lost: changes that came with their callouts cost Limio at most one call each, and only if unproven',
    ]);
    // Callouts naming UpdatedDate: their changes are proven, an unproven one or a second call fails.
    const naming =
      'callouts lost, callouts naming UpdatedDate: no change that came with its callout is unproven or synced twice';
    const proven = {
      report: { ...report, counts: { ...report.counts, covered: 7, unproven: 0, queued: 2 } },
      queuedMetric: 2,
      unprovenMetric: 0,
      secondCallsForCalledOut: 0,
      calloutsNamedUpdatedDate: true,
    };
    expect(failed(proven)).toEqual([]);
    expect(failed({ ...proven, secondCallsForCalledOut: 1 })).toEqual([
      'callouts lost: changes that came with their callouts cost Limio at most one call each, and only if unproven',
      naming,
    ]);
    expect(failed({ calloutsNamedUpdatedDate: true })).toEqual([naming]);
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
    outageSeconds: 12,
    retryBudgetSeconds: 6,
    accepted: 40,
    synced: 40,
    deadLetters: 0,
    breakerOpened: true,
    breakerClosedAtEnd: true,
    syncsWhileOpen: 2,
    syncCap: 10,
    failedSyncsBeforeTrip: 5,
    drainAfterRecoverySeconds: 1,
    drained: true,
  };
  const failedNames = (result: OutageResult) =>
    checkOutage(result)
      .filter((check) => !check.passed)
      .map((check) => check.name);

  it('passes an outage ridden out, and fails each way it can go wrong', () => {
    expect(failedNames(outage)).toEqual([]);
    expect(failedNames({ ...outage, deadLetters: 1 })).toEqual([
      'outage: no dead letter although the outage outlasted the retry budget',
    ]);
    // An outage shorter than the budget proves nothing about the budget.
    expect(failedNames({ ...outage, outageSeconds: 5 })).toEqual([
      'outage: no dead letter although the outage outlasted the retry budget',
    ]);
    expect(failedNames({ ...outage, synced: 39 })).toEqual([
      'outage: every callout accepted during the outage synced after it',
    ]);
    expect(failedNames({ ...outage, breakerOpened: false })).toEqual([
      'outage: the breaker opened, and closed once Limio was back',
    ]);
    expect(failedNames({ ...outage, syncsWhileOpen: 11 })).toEqual([
      'outage: Limio left alone while the breaker was open',
    ]);
  });

  it('fails a 404 run with a healthy subscription dead-lettered or the breaker opened', () => {
    const letter = (subscriptionId: string) => ({
      subscriptionId,
      reason: { failureClass: 'terminal' as const, httpStatus: 404 },
    });
    const bad = {
      subscriptions: 2,
      badSubscription: 'A-B1',
      badCalloutsAccepted: 1,
      healthySynced: 2,
      deadLetters: [letter('A-B1')],
      breakerOpened: false,
    };
    expect(checkBadSubscription(bad).every((check) => check.passed)).toBe(true);
    expect(
      checkBadSubscription({ ...bad, deadLetters: [letter('A-B1'), letter('A-S1')], badCalloutsAccepted: 2 }).filter(
        (check) => !check.passed,
      ),
    ).toHaveLength(1);
    expect(
      checkBadSubscription({ ...bad, breakerOpened: true })
        .filter((check) => !check.passed)
        .map((check) => check.name),
    ).toEqual(['one 404 subscription: the breaker never opened']);
  });
});

describe('replay while the subscriptions still fail, scaled down (issue #12)', () => {
  it('the replay ends, Limio gets at most one call per letter, and the letters are back in the DLQ with their reasons', async () => {
    const result = await runReplayWhileFailing({
      failingSubscriptions: 3,
      calloutsPerSubscription: 2,
      healthySubscriptions: 5,
      watchSeconds: 15,
      replayTimeoutMs: 30_000,
    });
    expect(checkReplayWhileFailing(result).filter((check) => !check.passed)).toEqual([]);
    expect(result.lettersBefore).toBe(6);
    expect(result.replaySeconds).toBeLessThan(15);
  }, 60_000);

  const letter = (subscriptionId: string) => ({
    messageId: subscriptionId,
    subscriptionId,
    replayCount: 1,
    replayRunId: 'r-1',
    failureClass: 'terminal' as const,
    httpStatus: 404,
  });
  const ended: ReplayWhileFailingResult = {
    options: REPLAY_WHILE_FAILING_DEFAULTS,
    lettersBefore: 2,
    replayEnded: true,
    replaySeconds: 1,
    exitCode: 1,
    replayed: 2,
    failedAgainReported: 2,
    limioCallsDuringReplay: 2,
    lettersAfter: [letter('A-F1'), letter('A-F2')],
    runId: 'r-1',
  };
  const failedNames = (result: ReplayWhileFailingResult) =>
    checkReplayWhileFailing(result)
      .filter((check) => !check.passed)
      .map((check) => check.name);

  it('fails a replay that never ended, one that called Limio more than once per letter, and one that lost a letter or its reason', () => {
    expect(failedNames(ended)).toEqual([]);
    expect(failedNames({ ...ended, replayEnded: false, exitCode: undefined })).toContain(
      'replay while failing: the replay ended',
    );
    expect(failedNames({ ...ended, limioCallsDuringReplay: 3 })).toEqual([
      'replay while failing: Limio got at most one call per letter',
    ]);
    expect(failedNames({ ...ended, lettersAfter: [letter('A-F1')] })).toEqual([
      'replay while failing: the letters are back in the DLQ with their reasons',
    ]);
    expect(
      failedNames({
        ...ended,
        lettersAfter: [letter('A-F1'), { ...letter('A-F2'), failureClass: 'unknown' as const, httpStatus: undefined }],
      }),
    ).toEqual(['replay while failing: the letters are back in the DLQ with their reasons']);
  });
});
