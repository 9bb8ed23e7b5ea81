import {
  AdaptiveLimit,
  OVERLOAD_CUT,
  PROBE_PERIOD_MS,
  UPSTREAM_SHARE_MIN_ANSWERS,
  type AdaptiveLimitSettings,
} from '../../functions/sync/adaptive-limit';
import { FleetSimulation, seededRandom } from './fleet-simulation';

/**
 * Issue #21: Limio's 502 ("upstream failed, retry") answers both a Zuora hiccup, whatever the load, and a Limio
 * refusing for capacity. The first must not take the limit to the floor (chaos: 30 % random 502s), the second
 * must cut it as any overload answer does.
 */
const SETTINGS: AdaptiveLimitSettings = { initial: 8, floor: 0.05, ceiling: 40, latencyTolerance: 0.2 };
const T0 = 10_000;
const ok = (startedAtMs: number, latencyMs: number) => ({ startedAtMs, latencyMs, kind: 'ok' as const });
const upstream = (startedAtMs: number) => ({ startedAtMs, latencyMs: 5, kind: 'upstream' as const });

describe('AdaptiveLimit and 502s', () => {
  it('cuts at a 502 before anything has been served: a Limio that only refuses is overloaded', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    expect(limit.record(upstream(T0), T0 + 5)).toMatchObject({ reason: 'overload', from: 8 });
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT);
    // Still nothing served a window later: cut again.
    limit.record(upstream(T0 + 200), T0 + 205);
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT ** 2);
  });

  it('cuts at every 502 while it has not learned that Limio fails at random (as for 503)', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    limit.record(ok(T0 - 200, 200), T0);
    limit.record(ok(T0 + 100, 200), T0 + 300);
    expect(limit.unloadedLatencyMs).toBe(200);
    expect(limit.upstreamRunForOverload()).toBe(1);
    limit.record(upstream(T0 + 400), T0 + 405);
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT);
  });

  it('learns a 30 % share of 502s that successes at unloaded latency end, and then cuts only at a run that share makes unlikely', () => {
    // A floor far down, so that the number of cuts can be read off the limit.
    const limit = new AdaptiveLimit({ ...SETTINGS, floor: 1e-6 });
    const random = seededRandom(7);
    let nowMs = T0;
    limit.record(ok(nowMs - 200, 200), nowMs);
    limit.record(ok(nowMs, 200), (nowMs += 200));
    // Answers every 25 ms (8 calls of 200 ms in flight), 30 % of them 502, the rest served at the unloaded 200 ms.
    const answer = () => {
      nowMs += 25;
      if (random() < 0.3) limit.record(upstream(nowMs - 5), nowMs);
      else limit.record(ok(nowMs - 200, 200), nowMs);
    };
    for (let n = 0; n < 400; n++) answer();
    // 3 at the share learned from this sequence (26 %, decayed), 4 at 30 %.
    const run = limit.upstreamRunForOverload();
    expect(run).toBeGreaterThanOrEqual(3);
    // 10 s more: 50 windows of 200 ms, nearly every one with a 502 in it, which would each have cut before.
    const before = limit.limit;
    for (let n = 0; n < 400; n++) answer();
    const cuts = Math.round(Math.log(limit.limit / before) / Math.log(OVERLOAD_CUT));
    expect(cuts).toBeLessThanOrEqual(5);

    // Shorter runs pass for chance; the run-th 502 in a row is overload.
    nowMs += 1_000;
    limit.record(ok(nowMs - 200, 200), nowMs);
    const atRun = limit.limit;
    for (let n = 1; n < run; n++) expect(limit.record(upstream(nowMs + n), nowMs + n + 5)).toBeUndefined();
    expect(limit.limit).toBe(atRun);
    limit.record(upstream(nowMs + run), nowMs + run + 5);
    expect(limit.limit).toBeCloseTo(atRun * OVERLOAD_CUT);
  });

  it('learns nothing from 502s that a success served slowly ends: refusals while Limio is loaded stay overload', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    let nowMs = T0;
    limit.record(ok(nowMs - 200, 200), nowMs);
    limit.record(ok(nowMs, 200), (nowMs += 200));
    for (let n = 0; n < 4 * UPSTREAM_SHARE_MIN_ANSWERS; n++) {
      limit.record(upstream(nowMs), (nowMs += 5));
      // Served at 1.5 x the unloaded latency: Limio is past its capacity.
      limit.record(ok(nowMs - 300, 300), (nowMs += 50));
    }
    expect(limit.upstreamRunForOverload()).toBe(1);
  });

  it('cuts at a 502 that comes while served latency is beyond the tolerance, whatever the learned share', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    let nowMs = T0;
    limit.record(ok(nowMs - 200, 200), nowMs);
    limit.record(ok(nowMs, 200), (nowMs += 200));
    for (let n = 0; n < 200; n++) {
      nowMs += 25;
      limit.record(n % 2 === 0 ? upstream(nowMs - 5) : ok(nowMs - 200, 200), nowMs);
    }
    expect(limit.upstreamRunForOverload()).toBe(5);
    // Past the probe of the next minute, a window of slow successes, then one 502.
    nowMs = 2 * PROBE_PERIOD_MS - 30_000;
    limit.record(ok(nowMs - 400, 400), nowMs);
    const before = limit.limit;
    limit.record(upstream(nowMs + 10), nowMs + 15);
    expect(limit.limit).toBeLessThanOrEqual(before * OVERLOAD_CUT + 1e-9);
  });
});

describe('a fleet against a Limio whose upstream fails 30 % of calls at random', () => {
  const CAPACITY = 8;
  const LATENCY_MS = 200;

  it.each([1, 2, 8])(
    'of %i containers, started at half its capacity, finds the capacity instead of collapsing to the floor',
    (containers) => {
      const fleet = new FleetSimulation(
        containers,
        { initial: CAPACITY / 2 / containers, floor: 0.05, ceiling: 40, latencyTolerance: 0.2 },
        { capacity: CAPACITY, latencyMs: LATENCY_MS, failureRate: 0.3 },
      );
      const startMs = fleet.nowMs;
      fleet.runFor(90_000);
      const seen = fleet.windowSince(startMs + 70_000);
      // What Limio can serve: K calls in flight, 30 % of them failing at once and freeing their place.
      expect(seen.meanInFlight).toBeGreaterThanOrEqual(0.85 * CAPACITY);
      expect(seen.meanInFlight).toBeLessThanOrEqual(1.3 * CAPACITY);
      expect(seen.goodputPerSecond).toBeGreaterThanOrEqual((0.85 * CAPACITY * 1000) / LATENCY_MS);
      // It still cuts for capacity: refusals stay the exception.
      expect(seen.refused).toBeLessThanOrEqual(0.05 * seen.completed);
    },
  );

  it('with every 502 taken as overload (the rule before), the same fleet of 1 crawls: the goal above is not met by chance', () => {
    // The same Limio, its random 502s reported as 503s, which always cut.
    const fleet = new FleetSimulation(
      1,
      { initial: CAPACITY / 2, floor: 0.05, ceiling: 40, latencyTolerance: 0.2 },
      { capacity: CAPACITY, latencyMs: LATENCY_MS, failureRate: 0.3 },
      10_000,
      { randomFailureKind: 'overload' },
    );
    const startMs = fleet.nowMs;
    fleet.runFor(90_000);
    expect(fleet.windowSince(startMs + 70_000).meanInFlight).toBeLessThan(0.5 * CAPACITY);
  });
});
