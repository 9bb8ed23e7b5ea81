import { CAPACITY_BENCH_SCALES, stepFigures } from '../../bench/capacity-bench';
import type { CapacityDrainResult } from '../../bench/capacity-drain';

const scale = CAPACITY_BENCH_SCALES.full;

/**
 * A drain whose capacity halves at 10 s and doubles at 30 s; the sandbox serves `served` calls in flight
 * throughout (12 is 1.5 × the halved capacity: it refuses the rest) and answers 20 a second, and refuses
 * `refusedPerSecond` a second for the first `refusingForMs` after the halving.
 */
function drainWith(refusingForMs: number, refusedPerSecond: number, served = 12): CapacityDrainResult {
  const answers: CapacityDrainResult['answers'][number][] = [];
  const inFlight: CapacityDrainResult['inFlight'][number][] = [];
  let id = 0;
  for (let atMs = 0; atMs < 40_000; atMs += 50)
    answers.push({ atMs, status: 200, latencyMs: 400, subscriptionId: `A-S${id++}` });
  for (let atMs = 10_000; atMs < 10_000 + refusingForMs; atMs += 1000 / refusedPerSecond)
    answers.push({ atMs, status: 502, latencyMs: 0, subscriptionId: `A-S${id++}` });
  for (let atMs = 0; atMs < 40_000; atMs += 100) inFlight.push({ atMs, calls: served });
  return { answers, inFlight, stepsAtMs: [10_000, 30_000], drainMs: 40_000 } as unknown as CapacityDrainResult;
}

describe('the capacity bench after a halving', () => {
  it('counts the calls Limio refused as offered, so refusals that keep the sandbox at its cap are not "settled"', () => {
    const figures = stepFigures(drainWith(3_000, 10), scale);
    // 12 served + 10 refused × 0.4 s = 16 offered in each of the first three seconds: over 1.5 × 8.
    expect(figures.settledAfterMs).toBe(3_000);
    expect(figures.refusedShareAfterSettling).toBe(0);
  });

  it('counts every refusal from the moment it settled until the doubling', () => {
    // 10 served + 2 refused × 0.4 s = 10.8 offered: settled at once, and the 40 refusals over 400 answers count.
    const figures = stepFigures(drainWith(20_000, 2, 10), scale);
    expect(figures.settledAfterMs).toBe(0);
    expect(figures.refusedShareAfterSettling).toBeCloseTo(40 / 440, 2);
  });
});
