import { formatMilliseconds, formatNumber, formatSeconds, median, type Figure } from './figures';
import {
  prepareCapacityDrain,
  runCapacityDrain,
  type CapacityDrainOptions,
  type CapacityDrainResult,
} from './capacity-drain';

/**
 * Issue #21's "Measured, in npm run bench": the adaptive limit draining a queued backlog against the sandbox's
 * hidden capacity, beside fixed caps and an unbounded Limio from the same run; fleets of 1, 4 and 8 sync
 * processes; capacity halved then doubled mid-drain. Figures and goal checks (a goal missed is a failure).
 */
export interface CapacityBenchScale {
  /** The hidden capacity K and the latency of a call within it: K ÷ latency is the ideal drain rate. */
  readonly capacity: number;
  readonly latencyMs: number;
  /** SYNC_CONCURRENCY: the adaptive limit's ceiling, and the fixed cap "at the ceiling". */
  readonly ceiling: number;
  readonly backlog: number;
  readonly stepBacklog: number;
  readonly fleets: readonly number[];
  /** Halve the capacity this long after the first probe, double it back this long after the halving. */
  readonly halveAfterSteadyMs: number;
  readonly doubleAfterHalvingMs: number;
  /** Wall-clock second at which the adaptive runs' workers start: their first probe comes at the next minute. */
  readonly adaptiveStartSecond: number;
  /** A fixed cap may not drain at all (a breaker opened by overload 502s): its run stops after this. */
  readonly fixedTimeoutMs: number;
}

/** Today's fixed defaults: the event source's maxConcurrency (2 containers) × SYNC_CONCURRENCY 5. */
const DEFAULT_CONTAINERS = 2;
const DEFAULT_SYNC_CONCURRENCY = 5;
/** Every sync process runs two invocations at once, as bench/sync-worker.ts does by default. */
const POLLERS = 2;
const SETTLE_WINDOW_MS = 1_000;
const RATE_WINDOW_MS = 2_000;

export const GOALS = {
  goodputOfCapacity: 0.9,
  attemptsPerSynced: 1.05,
  medianLatencyOfUnloaded: 1.5,
  fleetMeanInFlightOfCapacity: 1.3,
  fleetGoodputOfCapacity: 0.85,
  halvedInFlightOfCapacity: 1.5,
  halvedWithinMs: 10_000,
  overloadAfterHalving: 0.05,
  doubledGoodputOfCapacity: 0.8,
  doubledWithinMs: 30_000,
} as const;

export interface CapacityBench {
  readonly scale: CapacityBenchScale;
  readonly unbounded: CapacityDrainResult;
  readonly fixedDefault: CapacityDrainResult;
  readonly fixedCeiling: CapacityDrainResult;
  readonly fleets: readonly CapacityDrainResult[];
  readonly steps: CapacityDrainResult;
}

export async function runCapacityBench(scale: CapacityBenchScale, log: (line: string) => void): Promise<CapacityBench> {
  const base = {
    capacity: scale.capacity,
    latencyMs: scale.latencyMs,
    pollersPerWorker: POLLERS,
    timeoutMs: 180_000,
    log,
  };
  const drain = (options: Partial<CapacityDrainOptions>): CapacityDrainOptions => ({
    ...base,
    subscriptions: scale.backlog,
    workers: 1,
    syncConcurrency: scale.ceiling,
    adaptive: true,
    ...options,
  });
  log(
    `capacity: the pipeline with Limio unbounded (fixed cap ${scale.ceiling}), then fixed caps against K = ${scale.capacity} at ${scale.latencyMs} ms`,
  );
  // The fixed runs as deployed by default: two containers, each capped at SYNC_CONCURRENCY.
  const fixed = (options: Partial<CapacityDrainOptions>) =>
    drain({ workers: DEFAULT_CONTAINERS, adaptive: false, timeoutMs: scale.fixedTimeoutMs, ...options });
  const unbounded = await runCapacityDrain(fixed({ capacity: undefined }));
  // Today's default never overloads Limio: it gets the adaptive runs' time to drain.
  const fixedDefault = await runCapacityDrain(
    fixed({ syncConcurrency: DEFAULT_SYNC_CONCURRENCY, timeoutMs: base.timeoutMs }),
  );
  const fixedCeiling = await runCapacityDrain(fixed({}));
  // The adaptive runs at once, each against a sandbox of its own, so one wall-clock minute serves all their
  // first probes; the backlogs are queued before the wait.
  const adaptiveRuns = [
    ...scale.fleets.map((workers) => drain({ workers, startAtSecond: scale.adaptiveStartSecond })),
    drain({
      subscriptions: scale.stepBacklog,
      startAtSecond: scale.adaptiveStartSecond,
      steps: [
        { afterSteadyMs: scale.halveAfterSteadyMs, capacity: scale.capacity / 2 },
        { afterSteadyMs: scale.halveAfterSteadyMs + scale.doubleAfterHalvingMs, capacity: scale.capacity },
      ],
    }),
  ];
  const prepared: Awaited<ReturnType<typeof prepareCapacityDrain>>[] = [];
  for (const options of adaptiveRuns) prepared.push(await prepareCapacityDrain(options));
  log(
    `capacity: fleets of ${scale.fleets.join(', ')} sync processes and the step run, adaptive, starting at second ${scale.adaptiveStartSecond} of the minute`,
  );
  const results = await Promise.all(adaptiveRuns.map((options, index) => runCapacityDrain(options, prepared[index])));
  return { scale, unbounded, fixedDefault, fixedCeiling, fleets: results.slice(0, -1), steps: results.at(-1)! };
}

/** Syncs per second of first successes in [fromMs, toMs]. */
function goodputBetween(result: CapacityDrainResult, fromMs: number, toMs: number): number {
  const seen = new Set<string>();
  let count = 0;
  for (const answer of result.answers) {
    if (answer.status !== 200 || seen.has(answer.subscriptionId)) continue;
    seen.add(answer.subscriptionId);
    if (answer.atMs >= fromMs && answer.atMs <= toMs) count++;
  }
  return toMs > fromMs ? count / ((toMs - fromMs) / 1000) : 0;
}

/** After the first probe to the drain's end: the limit's own work, the warm-up before its first probe apart. */
export function steadyGoodput(result: CapacityDrainResult): number {
  return goodputBetween(result, result.steadyFromMs, result.drainMs);
}

function wholeGoodput(result: CapacityDrainResult): number {
  return result.synced / (result.drainMs / 1000);
}

/** From the first Limio call's start to the drain's end: what the pipeline moves, its processes' start-up apart. */
function pipelineGoodput(result: CapacityDrainResult): number {
  const firstCallStartMs = Math.min(...result.answers.map((answer) => answer.atMs - answer.latencyMs));
  return result.synced / ((result.drainMs - firstCallStartMs) / 1000);
}

function meanInFlight(result: CapacityDrainResult, fromMs: number, toMs: number): number {
  const samples = result.inFlight.filter((sample) => sample.atMs >= fromMs && sample.atMs <= toMs);
  return samples.length === 0 ? Number.NaN : samples.reduce((sum, sample) => sum + sample.calls, 0) / samples.length;
}

/**
 * The calls in flight the sync side offered Limio over [fromMs, toMs): those the sandbox served, plus each call it
 * refused counted for the unloaded latency it would have been served in (Little's law). The sandbox refuses every
 * call beyond 1.5 × its capacity, so the calls it served can never show more than that, however many were offered.
 */
function offeredInFlight(result: CapacityDrainResult, fromMs: number, toMs: number, latencyMs: number): number {
  return meanInFlight(result, fromMs, toMs) + (refusals(result, fromMs, toMs).refused * latencyMs) / (toMs - fromMs);
}

function steadyMedianLatency(result: CapacityDrainResult): number {
  return median(
    result.answers
      .filter((answer) => answer.status === 200 && answer.atMs >= result.steadyFromMs)
      .map((answer) => answer.latencyMs),
  );
}

function refusals(
  result: CapacityDrainResult,
  fromMs = 0,
  toMs = Number.POSITIVE_INFINITY,
): { refused: number; calls: number } {
  const answers = result.answers.filter((answer) => answer.atMs >= fromMs && answer.atMs < toMs);
  return { refused: answers.filter((answer) => answer.status === 502).length, calls: answers.length };
}

export interface StepFigures {
  /** From the halving until every later 1-s mean of calls in flight offered stays within 1.5 × the new capacity. */
  readonly settledAfterMs: number | undefined;
  readonly refusedShareAfterSettling: number;
  /** From the doubling until 2 s of goodput reach 0.8 of the new capacity. */
  readonly recoveredAfterMs: number | undefined;
  readonly peakGoodputAfterDoubling: number;
}

export function stepFigures(result: CapacityDrainResult, scale: CapacityBenchScale): StepFigures {
  const [halvedAt, doubledAt] = result.stepsAtMs;
  if (halvedAt === undefined || doubledAt === undefined)
    return {
      settledAfterMs: undefined,
      refusedShareAfterSettling: Number.NaN,
      recoveredAfterMs: undefined,
      peakGoodputAfterDoubling: 0,
    };
  const bound = GOALS.halvedInFlightOfCapacity * (scale.capacity / 2);
  let settledAt: number | undefined;
  for (let from = halvedAt; from + SETTLE_WINDOW_MS <= doubledAt; from += SETTLE_WINDOW_MS) {
    const within = offeredInFlight(result, from, from + SETTLE_WINDOW_MS, scale.latencyMs) <= bound;
    if (within && settledAt === undefined) settledAt = from;
    if (!within) settledAt = undefined;
  }
  const { refused, calls } =
    settledAt === undefined ? { refused: 0, calls: 0 } : refusals(result, settledAt, doubledAt);
  const target = GOALS.doubledGoodputOfCapacity * ((scale.capacity * 1000) / scale.latencyMs);
  let recoveredAt: number | undefined;
  let peak = 0;
  for (
    let to = doubledAt + RATE_WINDOW_MS;
    to <= Math.min(result.drainMs, doubledAt + GOALS.doubledWithinMs);
    to += 250
  ) {
    const rate = goodputBetween(result, to - RATE_WINDOW_MS, to);
    peak = Math.max(peak, rate);
    if (rate >= target && recoveredAt === undefined) recoveredAt = to;
  }
  return {
    settledAfterMs: settledAt === undefined ? undefined : settledAt - halvedAt,
    refusedShareAfterSettling: calls === 0 ? 0 : refused / calls,
    recoveredAfterMs: recoveredAt === undefined ? undefined : recoveredAt - doubledAt,
    peakGoodputAfterDoubling: peak,
  };
}

function idealRate(scale: CapacityBenchScale, capacity = scale.capacity): number {
  return (capacity * 1000) / scale.latencyMs;
}

function describeDrain(result: CapacityDrainResult): string {
  const seconds = formatSeconds(result.drainMs / 1000);
  return result.drained
    ? seconds
    : `not drained in ${seconds} (${formatNumber(result.synced)} of ${formatNumber(result.options.subscriptions)} synced)`;
}

function describeRefusals(result: CapacityDrainResult): string {
  return `${formatNumber(result.overloadRefused)} overload 502s (${formatNumber((100 * result.overloadRefused) / Math.max(1, result.limioCalls), 1)} % of ${formatNumber(result.limioCalls)} calls)`;
}

export function capacityFigures(bench: CapacityBench): Figure[] {
  const { scale } = bench;
  const ideal = idealRate(scale);
  const main = bench.fleets[0]!;
  const figures: Figure[] = [];
  const model = `K = ${scale.capacity} at ${scale.latencyMs} ms, ${formatNumber(scale.backlog)} queued`;
  figures.push({
    measure: `capacity: local pipeline, Limio unbounded (fixed cap ${scale.ceiling} × ${DEFAULT_CONTAINERS} processes)`,
    value: `${formatNumber(pipelineGoodput(bench.unbounded))} syncs/s`,
    baseline: `ideal K ÷ latency: ${formatNumber(ideal)} syncs/s`,
    ratio: pipelineGoodput(bench.unbounded) / ideal,
    note: `the ceiling the capacity runs stay under (from the first Limio call); drained in ${formatSeconds(bench.unbounded.drainMs / 1000)}, process start-up included`,
  });
  figures.push({
    measure: `capacity: adaptive drain after its first probe (${model}, 1 process)`,
    value: `${formatNumber(steadyGoodput(main), 1)} syncs/s`,
    baseline: `K ÷ latency: ${formatNumber(ideal)} syncs/s`,
    ratio: steadyGoodput(main) / ideal,
    note: `goal ≥ ${GOALS.goodputOfCapacity}; from ${formatSeconds(main.steadyFromMs / 1000)} (the first probe's end) to the drain's end`,
  });
  figures.push({
    measure: 'capacity: adaptive drain, whole (warm-up before the first probe included)',
    value: `${formatSeconds(main.drainMs / 1000)}, ${formatNumber(wholeGoodput(main), 1)} syncs/s`,
    baseline: `fixed cap ${DEFAULT_SYNC_CONCURRENCY} × ${DEFAULT_CONTAINERS} (today's default): ${describeDrain(bench.fixedDefault)}`,
    ratio: main.drainMs / bench.fixedDefault.drainMs,
    note: `workers started ${formatSeconds(main.steadyFromMs / 1000)} before their first probe's end; ${describeRefusals(main)}; ${main.leftOnQueue} messages left on the queue after`,
  });
  figures.push({
    measure: `capacity: fixed cap ${DEFAULT_SYNC_CONCURRENCY} × ${DEFAULT_CONTAINERS} processes (today's default), same backlog`,
    value: `${describeDrain(bench.fixedDefault)}, ${formatNumber(wholeGoodput(bench.fixedDefault), 1)} syncs/s`,
    baseline: `K ÷ latency: ${formatNumber(ideal)} syncs/s`,
    ratio: wholeGoodput(bench.fixedDefault) / ideal,
    note: describeRefusals(bench.fixedDefault),
  });
  figures.push({
    measure: `capacity: fixed cap ${scale.ceiling} (the ceiling) × ${DEFAULT_CONTAINERS} processes, same backlog`,
    value: `${describeDrain(bench.fixedCeiling)}, ${formatNumber(wholeGoodput(bench.fixedCeiling), 1)} syncs/s`,
    baseline: `K ÷ latency: ${formatNumber(ideal)} syncs/s`,
    ratio: wholeGoodput(bench.fixedCeiling) / ideal,
    note: `${describeRefusals(bench.fixedCeiling)}; ${formatNumber(bench.fixedCeiling.limioCalls / bench.fixedCeiling.synced, 2)} attempts per sync`,
  });
  figures.push({
    measure: 'capacity: Limio attempts per synced subscription, adaptive',
    value: formatNumber(main.limioCalls / main.synced, 3),
    baseline: `fixed cap ${scale.ceiling}: ${formatNumber(bench.fixedCeiling.limioCalls / bench.fixedCeiling.synced, 3)}`,
    ratio: main.limioCalls / main.synced / (bench.fixedCeiling.limioCalls / bench.fixedCeiling.synced),
    note: `goal ≤ ${GOALS.attemptsPerSynced}; ${describeRefusals(main)}`,
  });
  figures.push({
    measure: 'capacity: median Limio latency after the first probe, adaptive',
    value: formatMilliseconds(steadyMedianLatency(main)),
    baseline: `unloaded latency: ${formatMilliseconds(scale.latencyMs)}`,
    ratio: steadyMedianLatency(main) / scale.latencyMs,
    note: `goal ≤ ${GOALS.medianLatencyOfUnloaded}×; timed at the sandbox from arrival to answer`,
  });
  for (const fleet of bench.fleets) {
    const mean = meanInFlight(fleet, fleet.steadyFromMs, fleet.drainMs);
    figures.push({
      measure: `capacity: fleet of ${fleet.options.workers} sync process${fleet.options.workers === 1 ? '' : 'es'}, mean calls in flight at Limio`,
      value: formatNumber(mean, 1),
      baseline: `K: ${scale.capacity}`,
      ratio: mean / scale.capacity,
      note: `goal ≤ ${GOALS.fleetMeanInFlightOfCapacity}× K; max ${fleet.maxInFlight}; after the first probe`,
    });
    figures.push({
      measure: `capacity: fleet of ${fleet.options.workers}, goodput after the first probe`,
      value: `${formatNumber(steadyGoodput(fleet), 1)} syncs/s`,
      baseline: `K ÷ latency: ${formatNumber(ideal)} syncs/s`,
      ratio: steadyGoodput(fleet) / ideal,
      note: `goal ≥ ${GOALS.fleetGoodputOfCapacity}; whole drain ${describeDrain(fleet)}; ${describeRefusals(fleet)}`,
    });
  }
  const step = stepFigures(bench.steps, scale);
  figures.push({
    measure: `capacity halved ${scale.capacity} → ${scale.capacity / 2} mid-drain: calls in flight offered within 1.5 × ${scale.capacity / 2} after`,
    value: step.settledAfterMs === undefined ? 'never' : formatSeconds(step.settledAfterMs / 1000),
    baseline: `goal: ${formatSeconds(GOALS.halvedWithinMs / 1000)}`,
    ...(step.settledAfterMs !== undefined && { ratio: step.settledAfterMs / GOALS.halvedWithinMs }),
    note: `1-s means, a refused call counted for a latency; then ${formatNumber(100 * step.refusedShareAfterSettling, 1)} % overload 502s until the doubling (goal ≤ ${100 * GOALS.overloadAfterHalving} %)`,
  });
  figures.push({
    measure: `capacity doubled ${scale.capacity / 2} → ${scale.capacity}: 2 s of goodput at 0.8 × K ÷ latency after`,
    value: step.recoveredAfterMs === undefined ? 'never' : formatSeconds(step.recoveredAfterMs / 1000),
    baseline: `goal: ${formatSeconds(GOALS.doubledWithinMs / 1000)}`,
    ...(step.recoveredAfterMs !== undefined && { ratio: step.recoveredAfterMs / GOALS.doubledWithinMs }),
    note: `best 2 s within 30 s: ${formatNumber(step.peakGoodputAfterDoubling, 1)} of ${formatNumber(ideal)} syncs/s`,
  });
  return figures;
}

/** Every goal of issue #21's list, and nothing lost in any run: a miss is a failure of the run. */
export function checkCapacityBench(bench: CapacityBench): string[] {
  const { scale } = bench;
  const failures: string[] = [];
  const ideal = idealRate(scale);
  for (const result of [bench.unbounded, bench.fixedDefault, bench.fixedCeiling, ...bench.fleets, bench.steps]) {
    const name = `${result.options.adaptive ? 'adaptive' : `fixed ${result.options.syncConcurrency}`} × ${result.options.workers}${result.options.steps ? ' (steps)' : ''}`;
    // A fixed cap that does not drain in its time is a figure (the baseline), not a loss.
    if (result.options.adaptive && (!result.drained || result.lost > 0))
      failures.push(`${name}: ${result.lost} of ${result.options.subscriptions} subscriptions not synced`);
    const ceiling = result.options.syncConcurrency * result.options.workers;
    if (result.maxInFlight > ceiling)
      failures.push(`${name}: ${result.maxInFlight} Limio calls in flight, over the ceiling of ${ceiling}`);
  }
  if (unboundedTooSlow(bench))
    failures.push(
      `the pipeline with Limio unbounded moved ${formatNumber(pipelineGoodput(bench.unbounded))} syncs/s, not well above K ÷ latency (${formatNumber(ideal)}): the capacity figures would measure the pipeline`,
    );
  const main = bench.fleets[0]!;
  const goodput = steadyGoodput(main) / ideal;
  if (!(goodput >= GOALS.goodputOfCapacity))
    failures.push(
      `goal not met: adaptive goodput ${goodput.toFixed(2)} of capacity (goal ≥ ${GOALS.goodputOfCapacity})`,
    );
  const attempts = main.limioCalls / main.synced;
  if (!(attempts <= GOALS.attemptsPerSynced))
    failures.push(
      `goal not met: ${attempts.toFixed(3)} Limio attempts per synced subscription (goal ≤ ${GOALS.attemptsPerSynced})`,
    );
  const latencyRatio = steadyMedianLatency(main) / scale.latencyMs;
  if (!(latencyRatio <= GOALS.medianLatencyOfUnloaded))
    failures.push(
      `goal not met: median Limio latency ${latencyRatio.toFixed(2)}× unloaded (goal ≤ ${GOALS.medianLatencyOfUnloaded}×)`,
    );
  for (const fleet of bench.fleets) {
    const mean = meanInFlight(fleet, fleet.steadyFromMs, fleet.drainMs) / scale.capacity;
    if (!(mean <= GOALS.fleetMeanInFlightOfCapacity))
      failures.push(
        `goal not met: fleet of ${fleet.options.workers}: mean calls in flight ${mean.toFixed(2)} × K (goal ≤ ${GOALS.fleetMeanInFlightOfCapacity})`,
      );
    const fleetGoodput = steadyGoodput(fleet) / ideal;
    if (!(fleetGoodput >= GOALS.fleetGoodputOfCapacity))
      failures.push(
        `goal not met: fleet of ${fleet.options.workers}: goodput ${fleetGoodput.toFixed(2)} of capacity (goal ≥ ${GOALS.fleetGoodputOfCapacity})`,
      );
  }
  const step = stepFigures(bench.steps, scale);
  if (step.settledAfterMs === undefined || step.settledAfterMs > GOALS.halvedWithinMs)
    failures.push(
      `goal not met: after the halving, calls in flight offered within 1.5 × the new capacity ${step.settledAfterMs === undefined ? 'never' : `after ${(step.settledAfterMs / 1000).toFixed(1)} s`} (goal ≤ 10 s)`,
    );
  if (!(step.refusedShareAfterSettling <= GOALS.overloadAfterHalving))
    failures.push(
      `goal not met: ${(100 * step.refusedShareAfterSettling).toFixed(1)} % overload 502s after the halving settled (goal ≤ 5 %)`,
    );
  if (step.recoveredAfterMs === undefined)
    failures.push(
      `goal not met: after the doubling, goodput never reached 0.8 of the new capacity within 30 s (best ${step.peakGoodputAfterDoubling.toFixed(1)} syncs/s)`,
    );
  return failures;
}

function unboundedTooSlow(bench: CapacityBench): boolean {
  return pipelineGoodput(bench.unbounded) < 2 * idealRate(bench.scale);
}

/** The full run and the scaled-down one (`--quick`). */
export const CAPACITY_BENCH_SCALES: { readonly full: CapacityBenchScale; readonly quick: CapacityBenchScale } = {
  full: {
    capacity: 16,
    latencyMs: 400,
    ceiling: 40,
    backlog: 1_200,
    stepBacklog: 2_000,
    fleets: [1, 4, 8],
    halveAfterSteadyMs: 6_000,
    doubleAfterHalvingMs: 15_000,
    adaptiveStartSecond: 44,
    fixedTimeoutMs: 50_000,
  },
  quick: {
    capacity: 16,
    latencyMs: 400,
    ceiling: 40,
    backlog: 1_000,
    stepBacklog: 1_600,
    fleets: [1, 4, 8],
    halveAfterSteadyMs: 4_000,
    doubleAfterHalvingMs: 12_000,
    adaptiveStartSecond: 44,
    fixedTimeoutMs: 30_000,
  },
};

/**
 * `npx tsx bench/capacity-bench.ts [--quick]`: issue #21's drain against the Limio sandbox's hidden capacity
 * (adaptive limit against today's fixed cap and the fixed ceiling, fleets of 1, 4 and 8 processes, capacity halved
 * and doubled) on its own; `npm run bench` runs the same section last.
 */
async function main(): Promise<void> {
  const { renderTable } = await import('./figures');
  const quick = process.argv.includes('--quick') || process.env.BENCH_QUICK === '1';
  const bench = await runCapacityBench(quick ? CAPACITY_BENCH_SCALES.quick : CAPACITY_BENCH_SCALES.full, (line) =>
    process.stderr.write(`… ${line}\n`),
  );
  process.stdout.write(`${renderTable(capacityFigures(bench))}\n`);
  const failures = checkCapacityBench(bench);
  if (failures.length > 0) {
    process.stdout.write(`\nINCORRECT RUN:\n${failures.map((failure) => `- ${failure}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  main().catch((error: unknown) => {
    process.stderr.write(`capacity bench failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
