/**
 * `npm run bench` (add `-- --quick`, or BENCH_QUICK=1, for a scaled-down run): every figure next to the
 * baseline or limit it is measured against in the same run. Prints a Markdown table (docs/performance.md
 * reports this output) and exits 1 if a run was not correct (a callout refused, a sync
 * missing, Limio over its concurrency cap): a fast wrong answer is not a figure.
 */
import { measureCalloutHotPath } from './callout-hot-path';
import { measureBundles } from './bundles';
import { measureEmulatorSends } from './emulator-baseline';
import { runEndToEnd } from './end-to-end';
import { checkEndToEnd, endToEndFigures, ledgerEndToEndFigures } from './end-to-end-report';
import { formatBytes, formatMilliseconds, formatNumber, formatSeconds, renderTable, type Figure } from './figures';
import { describeMachine } from './machine';
import { checkLedgerBurst, runLedgerBurst } from './ledger-burst';
import { ledgerBurstFigures } from './ledger-burst-report';
import { runSyncs } from './sync-runs';
import { checkSweepBench, runSweepBench } from './sweep-run';
import { sweepFigures } from './sweep-report';
import { accountFanOutFigures, checkAccountFanOut, runAccountFanOut } from './account-fanout-run';
import { checkSweepOutage, runSweepOutage, sweepOutageFigures } from './sweep-outage-run';
import { accountSweepFigures, checkAccountSweepBench, runAccountSweepBench } from './account-sweep-run';
import { cliStartupFigures, measureCliStartup } from './cli-startup';
import {
  CAPACITY_BENCH_SCALES,
  capacityFigures,
  checkCapacityBench,
  runCapacityBench,
  type CapacityBenchScale,
} from './capacity-bench';

/** AWS Lambda's limit on a function's unzipped deployment package. */
const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

export interface BenchScale {
  readonly hotPathCallouts: number;
  readonly loadRuns: number;
  readonly throughputSyncs: number;
  readonly throughputLatencyMs: number;
  readonly throughputConcurrency: number;
  readonly tokenSyncs: number;
  readonly endToEndCallouts: number;
  readonly endToEndSubscriptions: number;
  /** Also run the burst with each subscription's callouts back to back (shows coalescing). */
  readonly endToEndTogether: boolean;
  /** The Limio sandbox's latency in the end-to-end runs: a real sync reads the subscription from Zuora. */
  readonly endToEndLimioLatencyMs: number;
  readonly emulatorSends: number;
  /** Subscriptions changed in Zuora for the sweep bench (issue #14), and the share of them without a sync. */
  readonly sweepSubscriptions: number;
  readonly sweepUncoveredShare: number;
  /** Bursts of 8 callouts for one subscription, each run with the ledger off and on (issue #13). */
  readonly ledgerBurstRuns: number;
  /** One account callout for an account with this many subscriptions, each with this many versions (issue #22). */
  readonly accountSubscriptions: number;
  readonly accountVersions: number;
  /** Accounts changed in Zuora (the account, its contact, or both) for the account sweep bench, and the share without a sync since (issue #22). */
  readonly accountSweepAccounts: number;
  readonly accountSweepUncoveredShare: number;
  /** Changes with callouts during a Limio outage over three sweeps, then the share made without one (issue #22). */
  readonly outageSweepChanges: number;
  readonly outageSweepWithoutCalloutShare: number;
  /** Starts of each of the four commands the CLI's start is timed with, interleaved (issue #23). */
  readonly cliStartRuns: number;
  /** A backlog drained against the Limio sandbox's hidden capacity: adaptive limit, fixed caps, fleets, steps (issue #21). */
  readonly capacity: CapacityBenchScale;
}

export const FULL: BenchScale = {
  hotPathCallouts: 20_000,
  loadRuns: 7,
  throughputSyncs: 1_000,
  throughputLatencyMs: 50,
  throughputConcurrency: 5,
  tokenSyncs: 10_000,
  endToEndCallouts: 10_000,
  endToEndSubscriptions: 1_000,
  endToEndTogether: true,
  endToEndLimioLatencyMs: 100,
  emulatorSends: 3_000,
  sweepSubscriptions: 100_000,
  sweepUncoveredShare: 0.2,
  ledgerBurstRuns: 5,
  accountSubscriptions: 500,
  accountVersions: 3,
  accountSweepAccounts: 10_000,
  accountSweepUncoveredShare: 0.2,
  outageSweepChanges: 1_000,
  outageSweepWithoutCalloutShare: 0.2,
  cliStartRuns: 21,
  capacity: CAPACITY_BENCH_SCALES.full,
};

export const QUICK: BenchScale = {
  hotPathCallouts: 3_000,
  loadRuns: 3,
  throughputSyncs: 200,
  throughputLatencyMs: 50,
  throughputConcurrency: 5,
  tokenSyncs: 2_000,
  endToEndCallouts: 1_000,
  endToEndSubscriptions: 100,
  endToEndTogether: true,
  endToEndLimioLatencyMs: 100,
  emulatorSends: 500,
  sweepSubscriptions: 10_000,
  sweepUncoveredShare: 0.2,
  ledgerBurstRuns: 2,
  // The issue's account: 500 subscriptions of 3 versions is small enough for the quick run too.
  accountSubscriptions: 500,
  accountVersions: 3,
  // The issue's 10,000 accounts: one sweep against the sandbox, small enough for the quick run too.
  accountSweepAccounts: 10_000,
  accountSweepUncoveredShare: 0.2,
  outageSweepChanges: 200,
  outageSweepWithoutCalloutShare: 0.2,
  cliStartRuns: 7,
  capacity: CAPACITY_BENCH_SCALES.quick,
};

export async function runBench(
  scale: BenchScale,
  progress: (line: string) => void,
): Promise<{ figures: Figure[]; failures: string[] }> {
  const figures: Figure[] = [];
  const failures: string[] = [];

  progress(`callout hot path: ${formatNumber(scale.hotPathCallouts)} callouts`);
  const hot = await measureCalloutHotPath({ callouts: scale.hotPathCallouts });
  if (hot.accepted !== hot.callouts || hot.messagesBuilt !== hot.callouts)
    failures.push(`hot path accepted ${hot.accepted} and built ${hot.messagesBuilt} messages of ${hot.callouts}`);
  figures.push({
    measure: 'callout hot path (auth + extract + validate + build messages; no-op SQS)',
    value: `${formatNumber(hot.calloutsPerSecond)} callouts/s`,
    baseline: `bare JSON.parse of the same bodies: ${formatNumber(hot.jsonParsePerSecond)}/s`,
    ratio: hot.ratio,
    note: `${formatNumber(hot.callouts)} REST (payload 1.0) events, Basic auth, one id each; one core`,
  });

  progress(`bundles: esbuild as CDK, ${scale.loadRuns} fresh-process loads each`);
  for (const bundle of await measureBundles({ runs: scale.loadRuns })) {
    figures.push({
      measure: `${bundle.name} bundle size (minified, @aws-sdk/* external)`,
      value: formatBytes(bundle.bytes),
      baseline: `Lambda unzipped package limit: ${formatBytes(LAMBDA_UNZIPPED_LIMIT_BYTES)}`,
      ratio: bundle.bytes / LAMBDA_UNZIPPED_LIMIT_BYTES,
      note: `+ ${formatBytes(bundle.sourceMapBytes)} source map`,
    });
    figures.push({
      measure: `${bundle.name} module load, fresh node process (median of ${scale.loadRuns})`,
      value: formatMilliseconds(bundle.loadMs),
      baseline: `node -e "": ${formatMilliseconds(bundle.emptyNodeMs)}`,
      ratio: bundle.loadMs / bundle.emptyNodeMs,
      note: `load adds ${formatMilliseconds(bundle.loadMs - bundle.emptyNodeMs)}, the AWS SDK clients it requires included`,
    });
  }

  const { throughputLatencyMs: latency, throughputConcurrency: cap } = scale;
  progress(
    `sync throughput: ${formatNumber(scale.throughputSyncs)} syncs, Limio latency ${latency} ms, SYNC_CONCURRENCY ${cap}`,
  );
  const throughput = await runSyncs({
    syncs: scale.throughputSyncs,
    syncConcurrency: cap,
    faults: { latencyMs: latency },
  });
  if (throughput.synced !== throughput.syncs || throughput.failedItems > 0)
    failures.push(`throughput run synced ${throughput.synced} of ${throughput.syncs}`);
  if (throughput.maxInFlight > cap)
    failures.push(`throughput run had ${throughput.maxInFlight} Limio calls in flight, cap ${cap}`);
  const limit = (cap * 1000) / latency;
  figures.push({
    measure: `sync throughput, one container (L = ${latency} ms, C = ${cap})`,
    value: `${formatNumber(throughput.syncsPerSecond, 1)} syncs/s`,
    baseline: `limit C ÷ L: ${formatNumber(limit)} syncs/s`,
    ratio: throughput.syncsPerSecond / limit,
    note: `${formatNumber(throughput.syncs)} distinct subscriptions, 4 overlapping invocations of 10; max ${throughput.maxInFlight} in flight at Limio`,
  });

  progress(`token and secret reads: ${formatNumber(scale.tokenSyncs)} syncs`);
  const tokens = await runSyncs({ syncs: scale.tokenSyncs, syncConcurrency: 5 });
  if (tokens.synced !== tokens.syncs) failures.push(`token run synced ${tokens.synced} of ${tokens.syncs}`);
  const perRun = (count: number) => `${formatNumber(count)} per ${formatNumber(tokens.syncs)} syncs`;
  figures.push({
    measure: `Limio token requests per ${formatNumber(tokens.syncs)} syncs`,
    value: perRun(tokens.tokenRequests),
    baseline: `one per sync (no cache): ${formatNumber(tokens.syncs)}`,
    ratio: tokens.tokenRequests / tokens.syncs,
    note: 'counted at the sandbox; one warm container, token TTL 3,600 s',
  });
  figures.push({
    measure: `Secrets Manager reads per ${formatNumber(tokens.syncs)} syncs`,
    value: perRun(tokens.secretReads),
    baseline: `one per sync (no cache): ${formatNumber(tokens.syncs)}`,
    ratio: tokens.secretReads / tokens.syncs,
    note: 'GetSecretValue calls counted by aws-sdk-client-mock',
  });

  progress(
    `end to end: ${formatNumber(scale.endToEndCallouts)} callouts over ${formatNumber(scale.endToEndSubscriptions)} subscriptions through the local runtime, Limio at ${scale.endToEndLimioLatencyMs} ms`,
  );
  const parallel = 32;
  const emulator = await measureEmulatorSends({ sends: scale.emulatorSends, parallel });
  // Production-like Limio: a real sync pulls the subscription from Zuora, hundreds of ms; 100 ms is the low end of
  // that, which keeps the ledger-off baseline (one Limio call per callout) within a few minutes here.
  const calloutBurst = {
    callouts: scale.endToEndCallouts,
    subscriptions: scale.endToEndSubscriptions,
    parallel,
    env: { LIMIO_SANDBOX_LATENCY_MS: String(scale.endToEndLimioLatencyMs) },
    timeoutMs: 600_000,
  };
  // The runtime as npm start runs it (with the sync ledger), then the same burst through a handler without it.
  const e2e = await runEndToEnd(calloutBurst);
  progress('end to end again without the sync ledger (the baseline)');
  const e2eWithoutLedger = await runEndToEnd({ ...calloutBurst, ledger: false });
  figures.push({
    measure: 'end to end: callouts accepted per second (HTTP, 32 at a time)',
    value: `${formatNumber(e2e.accepted / e2e.acceptSeconds)} callouts/s`,
    baseline: `SQS emulator alone, one-message SendMessageBatch: ${formatNumber(emulator.sendsPerSecond)}/s`,
    ratio: e2e.accepted / e2e.acceptSeconds / emulator.sendsPerSecond,
    note: 'the sync worker runs in the same process meanwhile',
  });
  figures.push(
    ...endToEndFigures(e2e, 'interleaved'),
    ...ledgerEndToEndFigures(e2e, e2eWithoutLedger, 'interleaved', 2.5),
  );
  checkEndToEnd(e2e, failures);
  checkEndToEnd(e2eWithoutLedger, failures);
  if (scale.endToEndTogether) {
    progress("end to end again, each subscription's callouts back to back");
    const together = await runEndToEnd({ ...calloutBurst, order: 'together' });
    const togetherWithoutLedger = await runEndToEnd({ ...calloutBurst, order: 'together', ledger: false });
    figures.push(
      ...endToEndFigures(together, 'back to back').filter((figure) => !figure.measure.includes('in flight')),
      ...ledgerEndToEndFigures(together, togetherWithoutLedger, 'back to back', 1.5),
    );
    checkEndToEnd(together, failures);
    checkEndToEnd(togetherWithoutLedger, failures);
  }

  progress(
    `sync ledger: a burst of 8 callouts for one subscription, ${scale.ledgerBurstRuns} runs with the ledger off and on`,
  );
  const ledgerBurst = await runLedgerBurst({ runs: scale.ledgerBurstRuns });
  figures.push(...ledgerBurstFigures(ledgerBurst));
  failures.push(...checkLedgerBurst(ledgerBurst).map((failure) => `sync ledger burst: ${failure}`));

  const uncoveredPercent = Math.round(scale.sweepUncoveredShare * 100);
  progress(
    `sweep: ${formatNumber(scale.sweepSubscriptions)} subscriptions changed in the Zuora sandbox, ${uncoveredPercent} % without a sync (ledger in dynalite)`,
  );
  const sweep = await runSweepBench({
    subscriptions: scale.sweepSubscriptions,
    uncoveredShare: scale.sweepUncoveredShare,
  });
  figures.push(...sweepFigures(sweep, uncoveredPercent));
  failures.push(...checkSweepBench(sweep).map((failure) => `sweep: ${failure}`));

  progress(
    `account fan-out: one account callout, ${formatNumber(scale.accountSubscriptions)} subscriptions × ${scale.accountVersions} versions, through the local runtime`,
  );
  const fanOut = await runAccountFanOut({ subscriptions: scale.accountSubscriptions, versions: scale.accountVersions });
  figures.push(...accountFanOutFigures(fanOut));
  failures.push(...checkAccountFanOut(fanOut).map((failure) => `account fan-out: ${failure}`));

  const accountUncoveredPercent = Math.round(scale.accountSweepUncoveredShare * 100);
  progress(
    `account sweep: ${formatNumber(scale.accountSweepAccounts)} accounts changed (the account, its contact, or both), ${accountUncoveredPercent} % without a sync since (ledger in dynalite)`,
  );
  const accountSweep = await runAccountSweepBench({
    accounts: scale.accountSweepAccounts,
    uncoveredShare: scale.accountSweepUncoveredShare,
  });
  figures.push(...accountSweepFigures(accountSweep, accountUncoveredPercent));
  failures.push(...checkAccountSweepBench(accountSweep).map((failure) => `account sweep: ${failure}`));

  progress(
    `Limio outage over three sweeps: ${formatNumber(scale.outageSweepChanges)} changes with callouts, then ${Math.round(scale.outageSweepWithoutCalloutShare * 100)} % of new changes without one`,
  );
  const outageSweeps = await runSweepOutage({
    subscriptions: scale.outageSweepChanges,
    withoutCalloutShare: scale.outageSweepWithoutCalloutShare,
  });
  figures.push(...sweepOutageFigures(outageSweeps));
  failures.push(...checkSweepOutage(outageSweeps).map((failure) => `outage over sweeps: ${failure}`));

  progress(
    `CLI start: npx zuora-limio-sync --help and node cli/bin.js --help against their baselines, ${scale.cliStartRuns} runs each`,
  );
  const cliStart = await measureCliStartup({ runs: scale.cliStartRuns });
  figures.push(...cliStartupFigures(cliStart));
  failures.push(...cliStart.failures.map((failure) => `CLI start: ${failure}`));
  progress(
    `capacity: ${formatNumber(scale.capacity.backlog)} subscriptions queued against a Limio sandbox of hidden capacity ${scale.capacity.capacity} at ${scale.capacity.latencyMs} ms (waits for a wall-clock minute)`,
  );
  const capacity = await runCapacityBench(scale.capacity, progress);
  figures.push(...capacityFigures(capacity));
  failures.push(...checkCapacityBench(capacity).map((failure) => `capacity: ${failure}`));

  return { figures, failures };
}

// Figures, not the AWS SDK's notice that its 2027 releases need Node 22 (the Lambdas run Node 24).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const command = quick ? 'npm run bench -- --quick' : 'npm run bench';
  process.stdout.write(`${describeMachine(command)}\n\n`);
  const started = Date.now();
  const { figures, failures } = await runBench(quick ? QUICK : FULL, (line) => process.stderr.write(`… ${line}\n`));
  process.stdout.write(`${renderTable(figures)}\n\nbench took ${formatSeconds((Date.now() - started) / 1000)}\n`);
  if (failures.length > 0) {
    process.stdout.write(`\nINCORRECT RUN:\n${failures.map((failure) => `- ${failure}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
