/**
 * `npm run chaos` (add `-- --quick`, or CHAOS_QUICK=1, for 100 subscriptions instead of 1,000): the local
 * pipeline under faults, checked from the outside. Runs the same burst twice in one go, first without faults
 * (the baseline) and then with 30 % 502s, 5 % 429s, 2 % of calls hanging past LIMIO_TIMEOUT_MS, every token
 * revoked part-way and the sync worker killed with SIGKILL mid-batch and restarted, with the backoff and the
 * visibility timeout compressed to seconds. Then outage mode, one 404 subscription among healthy ones, and a
 * `dlq replay` of letters whose subscriptions still fail (it must end and call Limio at most once per letter).
 * Exits 1 if a check fails.
 */
import { runChaos, CHAOS_DEFAULTS, type ChaosOptions, type ChaosResult } from './chaos-run';
import { runBadSubscription, runOutage, type BadSubscriptionResult, type OutageResult } from './outage-run';
import { runReplayWhileFailing, type ReplayWhileFailingResult } from './replay-run';
import { formatNumber, renderTable, type Figure } from './figures';
import { describeMachine } from './machine';

export const PER_CONTAINER_CHECK = 'one container never waits on more than SYNC_CONCURRENCY Limio requests';

export interface Check {
  readonly name: string;
  readonly passed: boolean;
  readonly detail: string;
}

/** What must hold after a fault run; also proves the faults really happened, or the run proves nothing. */
export function checkChaos(result: ChaosResult): Check[] {
  const { options } = result;
  const answered = (status: number) => result.answersByStatus[status] ?? 0;
  const classes = Object.entries(result.deadLettersByClass).map(([name, count]) => `${name} ${count}`).join(', ') || 'none';
  const checks: Check[] = [
    {
      name: 'every accepted callout was answered 200',
      passed: result.calloutsRefused === 0,
      detail: `${formatNumber(result.calloutsAccepted)} of ${formatNumber(result.callouts)}`,
    },
    {
      name: 'nothing lost: every accepted subscription synced or on the DLQ with a reason',
      passed: result.lost.length === 0,
      detail: `${formatNumber(result.acceptedSubscriptions)} accepted = ${formatNumber(result.synced)} synced + ${formatNumber(result.deadLettered)} dead-lettered; lost ${result.lost.length}${result.lost.length > 0 ? ` (${result.lost.slice(0, 5).join(', ')})` : ''}`,
    },
    {
      name: 'every dead letter carries its reason',
      passed: result.deadLettersWithoutReason === 0,
      detail: `dead letters by class: ${classes}; without reason ${result.deadLettersWithoutReason}`,
    },
    {
      name: 'Limio concurrency never over the cap',
      passed: result.maxInFlight <= result.deployedConcurrencyBound,
      detail: `max in flight at the sandbox ${result.maxInFlight}, cap SYNC_CONCURRENCY × pollers = ${options.syncConcurrency} × ${options.pollers} = ${result.deployedConcurrencyBound}`,
    },
    {
      name: PER_CONTAINER_CHECK,
      passed: result.clientMaxInFlight <= result.concurrencyCap,
      detail:
        `the worker waited on at most ${result.clientMaxInFlight} Limio requests at once (SYNC_CONCURRENCY ${result.concurrencyCap}, ${options.pollers} pollers sharing its handler)` +
        (result.overCap.episodes === 0
          ? ''
          : `; the sandbox counted more ${result.overCap.episodes}× for ${result.overCap.totalMs.toFixed(1)} ms in all (longest ${result.overCap.longestMs.toFixed(1)} ms): calls abandoned at LIMIO_TIMEOUT_MS whose close came after the next call`),
    },
    {
      name: 'backlog drained',
      passed: result.drained,
      detail: `main queue empty ${result.drainSeconds.toFixed(1)} s after the first callout (gave up at ${options.drainTimeoutMs / 1000} s)`,
    },
  ];
  checks.push(
    options.ledger
      ? {
          name: 'the sync ledger was in use',
          passed: result.ledgerAnswered > 0,
          detail: `${result.ledgerAnswered} ledger requests answered, ${result.ledgerUnanswered} unanswered (counted in the worker)`,
        }
      : { name: 'no sync ledger', passed: result.ledgerAnswered + result.ledgerUnanswered === 0, detail: `${result.ledgerAnswered + result.ledgerUnanswered} ledger requests` },
  );
  if (options.ledgerOutageAt !== undefined) {
    checks.push({
      name: 'the ledger became unreachable and syncing went on without it (fail open)',
      passed: result.ledgerStopped && result.ledgerUnanswered > 0 && result.syncedAfterLedgerStopped > 0,
      detail: `ledger endpoint ${result.ledgerStopped ? 'cut off' : 'NEVER cut off'} at ${options.ledgerOutageAt * 100} % synced; ${result.ledgerUnanswered} ledger requests unanswered after; ${result.syncedAfterLedgerStopped} subscriptions synced after`,
    });
  }
  if (options.rate502 > 0 || options.rate429 > 0 || options.hangRate > 0 || options.revokeAt !== undefined || options.killAt !== undefined) {
    checks.push({
      name: 'the faults happened',
      passed:
        (options.rate502 === 0 || answered(502) > 0) &&
        (options.rate429 === 0 || answered(429) > 0) &&
        (options.hangRate === 0 || result.unanswered > 0) &&
        (options.revokeAt === undefined || (result.tokensRevoked && answered(401) > 0)) &&
        (options.killAt === undefined || (result.workerKills === 1 && result.killedMidBatch)),
      detail: `502 × ${answered(502)}, 429 × ${answered(429)}, hung × ${result.unanswered}, 401 after revocation × ${answered(401)}, worker killed ${result.workerKills}×${result.killedMidBatch ? ' mid-batch' : ''} and started ${result.workerStarts}×; ${result.retries} retries reported by the worker`,
    });
  }
  return checks;
}

/** Issue #14's "callouts lost": what the sweep must do with changes whose callouts never came. */
export function checkCalloutsLost(result: ChaosResult): Check[] {
  const sweep = result.sweep;
  if (sweep === undefined) return [{ name: 'callouts lost: the sweep ran', passed: false, detail: 'no sweep in this run' }];
  const { counts } = sweep.report;
  return [
    {
      name: 'callouts lost: the sweep queued exactly the changes without a callout',
      passed: sweep.report.outcome === 'complete' && counts.queued === sweep.dropped && counts.covered === sweep.withCallouts,
      detail: `sweep ${sweep.report.outcome}: read ${counts.read}, covered ${counts.covered} (with callouts ${sweep.withCallouts}), queued ${counts.queued} (without ${sweep.dropped})`,
    },
    {
      name: 'callouts lost: the missing-callouts metric counts them',
      passed: sweep.queuedMetric === sweep.dropped,
      detail: `sweepQueued ${sweep.queuedMetric ?? 'not published'}, sweepCovered ${sweep.coveredMetric ?? 'not published'}; ${sweep.dropped} changes without a callout`,
    },
    {
      name: 'callouts lost: every change without a callout synced after the sweep',
      passed: sweep.drainedAfterSweep && sweep.droppedSynced === sweep.dropped,
      detail: `${sweep.droppedSynced} of ${sweep.dropped} synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started${sweep.droppedNotSynced.length > 0 ? `; not: ${sweep.droppedNotSynced.join(', ')}` : ''}`,
    },
    {
      name: 'callouts lost: changes that came with their callouts cost Limio no second call',
      passed: sweep.secondCallsForCalledOut === 0,
      detail: `${sweep.secondCallsForCalledOut} Limio calls after the sweep for the ${sweep.withCallouts} subscriptions whose callouts arrived`,
    },
  ];
}

export function ledgerFigures(ledgerOutage: ChaosResult, lost: ChaosResult, baseline: ChaosResult): Figure[] {
  const perSubscription = (result: ChaosResult) => result.limioCalls / result.acceptedSubscriptions;
  const figures: Figure[] = [
    {
      measure: 'ledger unreachable part-way: subscriptions lost',
      value: String(ledgerOutage.lost.length),
      baseline: `accepted subscriptions: ${formatNumber(ledgerOutage.acceptedSubscriptions)}`,
      ratio: ledgerOutage.lost.length / ledgerOutage.acceptedSubscriptions,
      note: `DynamoDB endpoint cut off at ${(ledgerOutage.options.ledgerOutageAt ?? 0) * 100} % synced; ${formatNumber(ledgerOutage.syncedAfterLedgerStopped)} subscriptions synced after it, ${formatNumber(ledgerOutage.ledgerUnanswered)} ledger requests unanswered`,
    },
    {
      measure: 'ledger unreachable part-way: Limio calls per subscription',
      value: formatNumber(perSubscription(ledgerOutage), 2),
      baseline: `ledger up all along (baseline run): ${formatNumber(perSubscription(baseline), 2)}`,
      ratio: perSubscription(ledgerOutage) / perSubscription(baseline),
      note: `drained in ${ledgerOutage.drainSeconds.toFixed(1)} s (baseline ${baseline.drainSeconds.toFixed(1)} s)`,
    },
  ];
  const sweep = lost.sweep;
  if (sweep !== undefined) {
    figures.push(
      {
        measure: 'callouts lost: missing callouts counted by the sweep (sweepQueued)',
        value: formatNumber(sweep.queuedMetric ?? Number.NaN),
        baseline: `changes made without a callout: ${formatNumber(sweep.dropped)}`,
        ratio: (sweep.queuedMetric ?? Number.NaN) / sweep.dropped,
        note: `sweepCovered ${formatNumber(sweep.coveredMetric ?? Number.NaN)} of ${formatNumber(sweep.withCallouts)} that came with callouts; sweep took ${formatNumber(sweep.report.durationMs)} ms`,
      },
      {
        measure: 'callouts lost: changes without a callout synced by the sweep',
        value: formatNumber(sweep.droppedSynced),
        baseline: `changes made without a callout: ${formatNumber(sweep.dropped)}`,
        ratio: sweep.droppedSynced / sweep.dropped,
        note: `all synced ${sweep.sweepDrainSeconds.toFixed(1)} s after the sweep started; ${sweep.secondCallsForCalledOut} Limio calls for the others after it`,
      },
    );
  }
  return figures;
}

function deadLetterSummary(result: ChaosResult): string {
  const classes = Object.entries(result.deadLettersByClass);
  return classes.length === 0 ? 'none' : classes.map(([name, count]) => `${name} × ${count}`).join(', ');
}

export function chaosFigures(baseline: ChaosResult, faulty: ChaosResult): Figure[] {
  const perSubscription = (result: ChaosResult) => result.limioCalls / result.acceptedSubscriptions;
  return [
    {
      measure: 'drain time under faults',
      value: `${faulty.drainSeconds.toFixed(1)} s`,
      baseline: `same burst without faults: ${baseline.drainSeconds.toFixed(1)} s`,
      ratio: faulty.drainSeconds / baseline.drainSeconds,
      note: `${formatNumber(faulty.callouts)} callouts over ${formatNumber(faulty.acceptedSubscriptions)} subscriptions`,
    },
    {
      measure: 'subscriptions lost',
      value: String(faulty.lost.length),
      baseline: `accepted subscriptions: ${formatNumber(faulty.acceptedSubscriptions)}`,
      ratio: faulty.lost.length / faulty.acceptedSubscriptions,
      note: `${formatNumber(faulty.synced)} synced, ${formatNumber(faulty.deadLettered)} only on the DLQ with a reason; dead letters ${deadLetterSummary(faulty)}`,
    },
    {
      measure: 'most Limio calls in flight under faults',
      value: String(faulty.maxInFlight),
      baseline: `cap SYNC_CONCURRENCY × pollers: ${faulty.deployedConcurrencyBound}`,
      ratio: faulty.maxInFlight / faulty.deployedConcurrencyBound,
      note: `without faults: ${baseline.maxInFlight}`,
    },
    {
      measure: 'most Limio requests one worker waited on at once (counted in the worker)',
      value: String(faulty.clientMaxInFlight),
      baseline: `SYNC_CONCURRENCY: ${faulty.concurrencyCap}`,
      ratio: faulty.clientMaxInFlight / faulty.concurrencyCap,
      note: `without faults: ${baseline.clientMaxInFlight}`,
    },
    {
      measure: 'most Limio calls open at the sandbox, one worker',
      value: String(faulty.maxInFlight),
      baseline: `SYNC_CONCURRENCY: ${faulty.concurrencyCap}`,
      ratio: faulty.maxInFlight / faulty.concurrencyCap,
      note:
        faulty.overCap.episodes === 0
          ? 'never above'
          : `above it ${faulty.overCap.episodes}× for ${faulty.overCap.totalMs.toFixed(1)} ms in all (longest ${faulty.overCap.longestMs.toFixed(1)} ms): calls abandoned at LIMIO_TIMEOUT_MS still open at the sandbox`,
    },
    {
      measure: 'Limio calls per subscription under faults',
      value: formatNumber(perSubscription(faulty), 2),
      baseline: `without faults: ${formatNumber(perSubscription(baseline), 2)}`,
      ratio: perSubscription(faulty) / perSubscription(baseline),
      note: `answers ${Object.entries(faulty.answersByStatus).map(([status, count]) => `${status} × ${count}`).join(', ')}; ${faulty.unanswered} hung`,
    },
    {
      measure: 'Limio token requests under faults',
      value: String(faulty.tokenRequests),
      baseline: `without faults: ${baseline.tokenRequests}`,
      ratio: faulty.tokenRequests / baseline.tokenRequests,
      note: 'one revocation, one worker restart (a new container fetches its own token)',
    },
  ];
}

/**
 * Issue #9's outage mode, on the local runtime's own poller with its in-memory breaker and probe loop: Limio
 * down for longer than the retry budget while callouts keep coming (no dead letter, Limio left alone while the
 * breaker is open, everything synced after), and one subscription answered 404 among healthy ones (exactly its
 * messages on the DLQ as terminal, and the breaker never opened by it).
 */
export function checkOutage(outage: OutageResult): Check[] {
  return [
    {
      name: 'outage: no dead letter although the outage outlasted the retry budget',
      passed: outage.deadLetters === 0 && outage.outageSeconds > outage.retryBudgetSeconds,
      detail: `${outage.deadLetters} dead letters; outage ${outage.outageSeconds.toFixed(1)} s, RETRY_BUDGET_SECONDS ${outage.retryBudgetSeconds}`,
    },
    {
      name: 'outage: every callout accepted during the outage synced after it',
      passed: outage.drained && outage.synced === outage.accepted,
      detail: `${outage.synced} of ${outage.accepted} synced ${outage.drainAfterRecoverySeconds.toFixed(1)} s after Limio came back`,
    },
    {
      name: 'outage: the breaker opened, and closed once Limio was back',
      passed: outage.breakerOpened && outage.breakerClosedAtEnd,
      detail: `opened after ${outage.failedSyncsBeforeTrip} failed syncs; closed at the end: ${outage.breakerClosedAtEnd}`,
    },
    {
      name: 'outage: Limio left alone while the breaker was open',
      passed: outage.syncsWhileOpen <= outage.syncCap,
      detail: `${outage.syncsWhileOpen} syncs while open (probe excluded), at most the ${outage.syncCap} already in flight at the trip`,
    },
  ];
}

export function checkBadSubscription(result: BadSubscriptionResult): Check[] {
  const letters = result.deadLetters;
  return [
    {
      name: 'one 404 subscription: every healthy subscription synced',
      passed: result.healthySynced === result.subscriptions,
      detail: `${result.healthySynced} of ${result.subscriptions}`,
    },
    {
      name: 'one 404 subscription: the DLQ holds its messages only, as terminal 404',
      passed:
        letters.length === result.badCalloutsAccepted &&
        letters.every((letter) => letter.subscriptionId === result.badSubscription && letter.reason.failureClass === 'terminal' && letter.reason.httpStatus === 404),
      detail: `${letters.length} dead letters: ${[...new Set(letters.map((letter) => `${letter.subscriptionId} ${letter.reason.failureClass} ${letter.reason.httpStatus}`))].join('; ')}`,
    },
    {
      name: 'one 404 subscription: the breaker never opened',
      passed: !result.breakerOpened,
      detail: result.breakerOpened ? 'it opened' : 'stayed closed',
    },
  ];
}

export function outageFigures(outage: OutageResult, bad: BadSubscriptionResult): Figure[] {
  return [
    {
      measure: 'outage: length',
      value: `${outage.outageSeconds.toFixed(1)} s`,
      baseline: `RETRY_BUDGET_SECONDS: ${outage.retryBudgetSeconds} s`,
      ratio: outage.outageSeconds / outage.retryBudgetSeconds,
    },
    {
      measure: 'outage: dead letters',
      value: String(outage.deadLetters),
      baseline: `callouts accepted during the outage: ${outage.accepted}`,
      ratio: outage.deadLetters / outage.accepted,
    },
    {
      measure: 'outage: Limio syncs while the breaker was open',
      value: String(outage.syncsWhileOpen),
      baseline: `SYNC_CONCURRENCY × pollers: ${outage.syncCap}`,
      ratio: outage.syncsWhileOpen / outage.syncCap,
      note: `${outage.failedSyncsBeforeTrip} failed syncs before it tripped; probe syncs not counted`,
    },
    {
      measure: 'outage: backlog synced after Limio came back',
      value: `${outage.drainAfterRecoverySeconds.toFixed(1)} s`,
      baseline: `outage: ${outage.outageSeconds.toFixed(1)} s`,
      ratio: outage.drainAfterRecoverySeconds / outage.outageSeconds,
    },
    {
      measure: 'one 404 subscription: dead letters, all terminal 404',
      value: String(bad.deadLetters.length),
      baseline: `its accepted callouts: ${bad.badCalloutsAccepted}`,
      ratio: bad.deadLetters.length / bad.badCalloutsAccepted,
      note: `healthy subscriptions synced ${bad.healthySynced} of ${bad.subscriptions}; breaker ${bad.breakerOpened ? 'OPENED' : 'never opened'}`,
    },
  ];
}

/** Issue #12's "replay while the subscription still fails": the replay ends, spares Limio, and loses no letter. */
export function checkReplayWhileFailing(result: ReplayWhileFailingResult): Check[] {
  const letters = result.lettersAfter;
  const withReason = letters.filter((letter) => letter.failureClass === 'terminal' && letter.httpStatus === 404 && letter.replayCount === 1 && letter.replayRunId === result.runId);
  return [
    {
      name: 'replay while failing: the replay ended',
      passed: result.replayEnded && result.replayed === result.lettersBefore && result.lettersBefore > 0,
      detail: result.replayEnded
        ? `in ${result.replaySeconds.toFixed(1)} s (exit ${result.exitCode}), ${result.replayed} of ${result.lettersBefore} letters replayed`
        : `still running after ${result.replaySeconds.toFixed(1)} s`,
    },
    {
      name: 'replay while failing: Limio got at most one call per letter',
      passed: result.limioCallsDuringReplay <= result.lettersBefore,
      detail: `${result.limioCallsDuringReplay} sync calls for ${result.lettersBefore} letters`,
    },
    {
      name: 'replay while failing: the letters are back in the DLQ with their reasons',
      passed: letters.length === result.lettersBefore && withReason.length === letters.length && result.failedAgainReported === result.lettersBefore && result.exitCode === 1,
      detail: `${letters.length} letters after (${withReason.length} terminal 404 with replay count 1 and the run's id); the replay reported ${result.failedAgainReported} as failed again`,
    },
  ];
}

export function replayFigures(replay: ReplayWhileFailingResult): Figure[] {
  return [
    {
      measure: 'replay while failing: Limio calls',
      value: String(replay.limioCallsDuringReplay),
      baseline: `letters replayed: ${replay.lettersBefore}`,
      ratio: replay.limioCallsDuringReplay / Math.max(1, replay.lettersBefore),
      note: `replay ${replay.replayEnded ? `ended in ${replay.replaySeconds.toFixed(1)} s` : 'DID NOT END'} (--watch ${replay.options.watchSeconds} s, ends once all are back); ${replay.lettersAfter.length} letters back on the DLQ`,
    },
  ];
}

function printChecks(title: string, checks: readonly Check[]): void {
  process.stdout.write(`\n${title}\n`);
  for (const check of checks) process.stdout.write(`${check.passed ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
}

/** The baseline's settings: the pipeline without Limio faults, token revocation or worker kill. */
const NO_LIMIO_FAULTS = { rate502: 0, rate429: 0, hangRate: 0, revokeAt: undefined, killAt: undefined } as const;

// Figures, not the AWS SDK's notice that its 2027 releases need Node 22 (the Lambdas run Node 24).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick') || process.env.CHAOS_QUICK === '1';
  const command = quick ? 'npm run chaos -- --quick' : 'npm run chaos';
  process.stdout.write(`${describeMachine(command)}\n`);
  const scale: Partial<ChaosOptions> = quick ? { subscriptions: 100 } : {};
  const log = (line: string) => process.stderr.write(`… ${line}\n`);
  const settings = { ...CHAOS_DEFAULTS, ...scale };
  process.stdout.write(
    `settings: ${settings.subscriptions} subscriptions × ${settings.calloutsPerSubscription} callouts; SYNC_CONCURRENCY=${settings.syncConcurrency}, ` +
      `${settings.pollers} pollers, Limio latency ${settings.latencyMs} ms, MAX_ATTEMPTS=${settings.maxAttempts}, LIMIO_TIMEOUT_MS=${settings.limioTimeoutMs}, ` +
      `BACKOFF_BASE_SECONDS=${settings.backoffBaseSeconds}, BACKOFF_MAX_SECONDS=${settings.backoffMaxSeconds}, ` +
      `visibility timeout ${settings.visibilityTimeoutSeconds} s, function timeout ${settings.functionTimeoutSeconds} s; ` +
      `sync ledger ${settings.ledger ? `on (DynamoDB emulator, SYNC_COOLDOWN_SECONDS=${settings.cooldownSeconds})` : 'off'}\n`,
  );

  log('baseline: the same burst without faults');
  const baseline = await runChaos({ ...scale, ...NO_LIMIO_FAULTS, log });
  log(`faults: ${settings.rate502 * 100} % 502, ${settings.rate429 * 100} % 429, ${settings.hangRate * 100} % hang, token revocation at ${settings.revokeAt! * 100} % synced, worker SIGKILL at ${settings.killAt! * 100} % synced`);
  const faulty = await runChaos({ ...scale, log });

  log(`ledger unreachable: the same burst without Limio faults, the ledger's DynamoDB stopped at 40 % synced`);
  const ledgerOutage = await runChaos({ ...scale, ...NO_LIMIO_FAULTS, ledgerOutageAt: 0.4, log });
  log('callouts lost: 20 % of the subscriptions changed in the Zuora sandbox without a callout; one sweep after the drain');
  const calloutsLost = await runChaos({ ...scale, ...NO_LIMIO_FAULTS, droppedShare: 0.2, log });

  log('outage: Limio answers every sync 502 for longer than the retry budget, callouts keep coming (local runtime, breaker and probe loop)');
  const outage = await runOutage({ outageSeconds: 12, calloutsPerSecond: quick ? 4 : 8 });
  log('one 404 subscription among healthy ones');
  const bad = await runBadSubscription({ subscriptions: quick ? 50 : 200, badCallouts: 5 });
  log('replay while the subscriptions still fail: their letters replayed with `dlq replay --local --watch`');
  const replay = await runReplayWhileFailing({ failingSubscriptions: quick ? 10 : 50, healthySubscriptions: quick ? 20 : 100, log });

  const baselineChecks = checkChaos(baseline);
  const faultChecks = checkChaos(faulty);
  const ledgerChecks = [...checkChaos(ledgerOutage), ...checkChaos(calloutsLost), ...checkCalloutsLost(calloutsLost)];
  const outageChecks = [...checkOutage(outage), ...checkBadSubscription(bad)];
  const replayChecks = checkReplayWhileFailing(replay);
  process.stdout.write(
    `\n${renderTable([...chaosFigures(baseline, faulty), ...ledgerFigures(ledgerOutage, calloutsLost, baseline), ...outageFigures(outage, bad), ...replayFigures(replay)])}\n`,
  );
  printChecks('baseline run (no faults):', baselineChecks);
  printChecks('fault run:', faultChecks);
  printChecks('sync ledger unreachable part-way, and callouts lost (the sweep):', ledgerChecks);
  printChecks('outage mode (RETRY_BUDGET_SECONDS=6, breaker window 5 s, probe every 1 s):', outageChecks);
  printChecks('replay while the subscriptions still fail (dlq replay --watch on the local runtime):', replayChecks);
  if ([...baselineChecks, ...faultChecks, ...ledgerChecks, ...outageChecks, ...replayChecks].some((check) => !check.passed)) {
    process.stdout.write('\nCHAOS RUN FAILED\n');
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`chaos failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
