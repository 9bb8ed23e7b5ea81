import { PROBE_PERIOD_MS } from '../../functions/sync/adaptive-limit';
import { FleetSimulation } from './fleet-simulation';

/**
 * Issue #21 item 2: the fleet, not the container, is what Limio sees. N independent containers, each with its
 * own AdaptiveLimit, against one simulated Limio (K servers shared by every call in flight, 502 beyond 1.5 K), in
 * virtual time. The fleet starts as the construct starts it: 10 calls in flight in all (10 / N each).
 */
const CAPACITY = 8;
const LATENCY_MS = 200;
const FLOOR = 0.05;

function fleetOf(containers: number, capacity = CAPACITY): FleetSimulation {
  return new FleetSimulation(
    containers,
    { initial: 10 / containers, floor: FLOOR, ceiling: 40, latencyTolerance: 0.2 },
    { capacity, latencyMs: LATENCY_MS },
  );
}

/** Past the first wall-clock probe (the simulation starts at 10 s past a minute), the limit has measured Limio. */
const SETTLED_AFTER_MS = 70_000;

describe.each([1, 4, 8, 50])('a fleet of %i containers', (containers) => {
  it('settles at no more than 1.3 K calls in flight with goodput of at least 0.85 K / latency', () => {
    const fleet = fleetOf(containers);
    const startMs = fleet.nowMs;
    fleet.runFor(SETTLED_AFTER_MS + 20_000);
    const seen = fleet.windowSince(startMs + SETTLED_AFTER_MS);
    expect(seen.meanInFlight).toBeLessThanOrEqual(1.3 * CAPACITY);
    expect(seen.goodputPerSecond).toBeGreaterThanOrEqual((0.85 * CAPACITY * 1000) / LATENCY_MS);
    // Refusals stay the exception: the limit settles below Limio's refusal point, not on it.
    expect(seen.refused).toBeLessThanOrEqual(0.15 * seen.completed);
  });

  it('follows a capacity halved (in flight <= 1.5 new K within 10 s) and then doubled (>= 0.8 of it within 30 s)', () => {
    const fleet = fleetOf(containers);
    fleet.runFor(SETTLED_AFTER_MS);
    fleet.limio.capacity = CAPACITY / 2;
    const halvedAtMs = fleet.nowMs;
    fleet.runFor(30_000);
    const settledAtMs = fleet.inFlightAtOrUnderFrom(halvedAtMs, 1.5 * (CAPACITY / 2));
    expect(settledAtMs).toBeDefined();
    expect(settledAtMs! - halvedAtMs).toBeLessThanOrEqual(10_000);
    expect(fleet.windowSince(halvedAtMs + 10_000).goodputPerSecond).toBeGreaterThanOrEqual(
      (0.85 * (CAPACITY / 2) * 1000) / LATENCY_MS,
    );

    fleet.limio.capacity = CAPACITY;
    const doubledAtMs = fleet.nowMs;
    fleet.runFor(30_000);
    expect(fleet.windowSince(doubledAtMs + 20_000).goodputPerSecond).toBeGreaterThanOrEqual(
      (0.8 * CAPACITY * 1000) / LATENCY_MS,
    );
  });

  it('recognises a Limio that became twice as slow without load at the next probe, instead of cutting to the floor for ever', () => {
    const fleet = fleetOf(containers);
    fleet.runFor(SETTLED_AFTER_MS + 55_000);
    // 15 s past a minute: the next probe is 45 s away, long enough for latency cuts to take the limit to the floor.
    expect(fleet.nowMs % PROBE_PERIOD_MS).toBe(15_000);
    fleet.limio.latencyMs = 2 * LATENCY_MS;
    const slowedAtMs = fleet.nowMs;
    fleet.runFor(60_000);
    const seen = fleet.windowSince(slowedAtMs + 50_000);
    expect(seen.goodputPerSecond).toBeGreaterThanOrEqual((0.8 * CAPACITY * 1000) / (2 * LATENCY_MS));
    // A container whose probe met a refusal keeps its old measure until the next one (with 50, 30 to 43 of them
    // re-measure in the first probe, depending on where the slowdown falls): the fleet recovers all the same.
    const remeasured = fleet.limits.filter((limit) => limit.unloadedLatencyMs! >= 1.8 * LATENCY_MS).length;
    expect(remeasured).toBeGreaterThanOrEqual(0.5 * containers);
  });
});

describe.each([1, 2])('a fleet of %i container(s) when the capacity halves', (containers) => {
  it('has no more than 5 % of its calls refused over the 15 s after (each refusal frees no slot for another at once)', () => {
    const fleet = fleetOf(containers);
    fleet.runFor(SETTLED_AFTER_MS);
    fleet.limio.capacity = CAPACITY / 2;
    const halvedAtMs = fleet.nowMs;
    fleet.runFor(15_000);
    const seen = fleet.windowSince(halvedAtMs);
    expect(seen.refused).toBeLessThanOrEqual(0.05 * seen.completed);
  });
});

it('50 containers at the floor put no more than 50 x the floor in flight at a Limio that takes one call', () => {
  const fleet = fleetOf(50, 1);
  const startMs = fleet.nowMs;
  fleet.runFor(180_000);
  const seen = fleet.windowSince(startMs + 30_000);
  expect(seen.meanInFlight).toBeLessThanOrEqual(50 * FLOOR);
});
