/**
 * `npm run chaos` (add `-- --quick`, or CHAOS_QUICK=1, for 100 subscriptions instead of 1,000): the local
 * pipeline under faults, checked from the outside. Runs the same burst twice in one go, first without faults
 * (the baseline) and then with 30 % 502s, 5 % 429s, 2 % of calls hanging past LIMIO_TIMEOUT_MS, every token
 * revoked part-way and the sync worker killed with SIGKILL mid-batch and restarted, with the backoff and the
 * visibility timeout compressed to seconds. Then outage mode, one 404 subscription among healthy ones, and a
 * `dlq replay` of letters whose subscriptions still fail (it must end and call Limio at most once per letter).
 * Exits 1 if a check fails.
 */
import { runChaos } from './chaos-run';
import { CHAOS_DEFAULTS, type ChaosOptions } from './chaos-options';
import { printChecks } from './check';
import { chaosFigures, checkChaos } from './fault-run-report';
import { renderTable } from './figures';
import { checkCalloutsLost, ledgerFigures } from './ledger-run-report';
import { describeMachine } from './machine';
import { runBadSubscription, runOutage } from './outage-run';
import { checkBadSubscription, checkOutage, outageFigures } from './outage-report';
import { runReplayWhileFailing } from './replay-run';
import { checkReplayWhileFailing, replayFigures } from './replay-report';

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
  log(
    `faults: ${settings.rate502 * 100} % 502, ${settings.rate429 * 100} % 429, ${settings.hangRate * 100} % hang, token revocation at ${settings.revokeAt! * 100} % synced, worker SIGKILL at ${settings.killAt! * 100} % synced`,
  );
  const faulty = await runChaos({ ...scale, log });

  log(`ledger unreachable: the same burst without Limio faults, the ledger's DynamoDB stopped at 40 % synced`);
  const ledgerOutage = await runChaos({ ...scale, ...NO_LIMIO_FAULTS, ledgerOutageAt: 0.4, log });
  log(
    'callouts lost: 20 % of the subscriptions changed in the Zuora sandbox without a callout; one sweep after the drain',
  );
  const calloutsLost = await runChaos({ ...scale, ...NO_LIMIO_FAULTS, droppedShare: 0.2, log });
  log(
    "callouts lost, the callouts that come naming the subscription's UpdatedDate (the documented template): the same, without the commit lag's extra Limio calls",
  );
  const calloutsLostNamingUpdatedDate = await runChaos({
    ...scale,
    ...NO_LIMIO_FAULTS,
    droppedShare: 0.2,
    calloutsNameUpdatedDate: true,
    log,
  });

  log(
    'outage: Limio answers every sync 502 for longer than the retry budget, callouts keep coming (local runtime, breaker and probe loop)',
  );
  const outage = await runOutage({ outageSeconds: 12, calloutsPerSecond: quick ? 4 : 8 });
  log('one 404 subscription among healthy ones');
  const bad = await runBadSubscription({ subscriptions: quick ? 50 : 200, badCallouts: 5 });
  log('replay while the subscriptions still fail: their letters replayed with `dlq replay --local --watch`');
  const replay = await runReplayWhileFailing({
    failingSubscriptions: quick ? 10 : 50,
    healthySubscriptions: quick ? 20 : 100,
    log,
  });

  const baselineChecks = checkChaos(baseline);
  const faultChecks = checkChaos(faulty);
  const ledgerChecks = [
    ...checkChaos(ledgerOutage),
    ...checkChaos(calloutsLost),
    ...checkCalloutsLost(calloutsLost),
    ...checkChaos(calloutsLostNamingUpdatedDate),
    ...checkCalloutsLost(calloutsLostNamingUpdatedDate),
  ];
  const outageChecks = [...checkOutage(outage), ...checkBadSubscription(bad)];
  const replayChecks = checkReplayWhileFailing(replay);
  process.stdout.write(
    `\n${renderTable([...chaosFigures(baseline, faulty), ...ledgerFigures(ledgerOutage, calloutsLost, baseline, calloutsLostNamingUpdatedDate), ...outageFigures(outage, bad), ...replayFigures(replay)])}\n`,
  );
  printChecks('baseline run (no faults):', baselineChecks);
  printChecks('fault run:', faultChecks);
  printChecks('sync ledger unreachable part-way, and callouts lost (the sweep):', ledgerChecks);
  printChecks('outage mode (RETRY_BUDGET_SECONDS=6, breaker window 5 s, probe every 1 s):', outageChecks);
  printChecks('replay while the subscriptions still fail (dlq replay --watch on the local runtime):', replayChecks);
  if (
    [...baselineChecks, ...faultChecks, ...ledgerChecks, ...outageChecks, ...replayChecks].some(
      (check) => !check.passed,
    )
  ) {
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
