import {
  AdaptiveLimit,
  LimioSlotGate,
  OVERLOAD_CUT,
  PROBE_PERIOD_MS,
  type AdaptiveLimitSettings,
} from '../../functions/sync/adaptive-limit';
import { AdaptiveLimioLimiter, limioCallKindOf, NO_SLOT } from '../../functions/sync/limio-slots';

const SETTINGS: AdaptiveLimitSettings = { initial: 8, floor: 0.05, ceiling: 40, latencyTolerance: 0.2 };
/** 10 s past a minute: outside the probe (seconds 0-4). */
const T0 = 10_000;

const ok = (startedAtMs: number, latencyMs: number) => ({ startedAtMs, latencyMs, kind: 'ok' as const });
const overload = (startedAtMs: number, retryAfterSeconds?: number) => ({
  startedAtMs,
  latencyMs: 5,
  kind: 'overload' as const,
  ...(retryAfterSeconds && { retryAfterSeconds }),
});

/** One window of answers at `latencyMs`, ending at `endMs`; the first answer opens the window. */
function windowOf(limit: AdaptiveLimit, startMs: number, latencyMs: number, options: { used?: boolean } = {}): number {
  limit.record(ok(startMs - latencyMs, latencyMs), startMs);
  if (options.used) limit.noteLimitReached(startMs);
  const endMs = startMs + Math.max(limit.unloadedLatencyMs ?? 0, 100);
  limit.record(ok(endMs - latencyMs, latencyMs), endMs);
  return endMs;
}

/** A limit whose unloaded latency a probe has measured at `latencyMs` (the probe of the minute after T0). */
function probedLimit(latencyMs = 200, settings = SETTINGS): { limit: AdaptiveLimit; nowMs: number } {
  const limit = new AdaptiveLimit(settings);
  const probeStart = PROBE_PERIOD_MS;
  limit.record(ok(probeStart + 2_500, latencyMs), probeStart + 2_500 + latencyMs);
  // The first answer after the probe applies it.
  const nowMs = probeStart + 5_000;
  limit.record(ok(nowMs - latencyMs, latencyMs), nowMs);
  expect(limit.unloadedLatencyMs).toBe(latencyMs);
  return { limit, nowMs: nowMs + 1_000 };
}

describe('AdaptiveLimit', () => {
  it('cuts by 0.7 at the first overload answer, and only once per window however many follow', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    const change = limit.record(overload(T0), T0 + 5);
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT);
    expect(change).toMatchObject({ from: 8, to: 8 * OVERLOAD_CUT, reason: 'overload' });
    for (let n = 1; n <= 7; n++) limit.record(overload(T0 + n), T0 + 5 + n);
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT);
    limit.record(overload(T0 + 200), T0 + 205);
    expect(limit.limit).toBeCloseTo(8 * OVERLOAD_CUT * OVERLOAD_CUT);
  });

  it('ignores answers that say nothing about load (4xx, a 401 refresh)', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    expect(limit.record({ startedAtMs: T0, latencyMs: 5_000, kind: 'other' }, T0 + 5_000)).toBeUndefined();
    expect(limit.limit).toBe(8);
    expect(limit.unloadedLatencyMs).toBeUndefined();
  });

  it("cuts by the gradient target / ratio when a window's median latency is beyond the tolerance, at most halving", () => {
    const { limit, nowMs } = probedLimit(200);
    windowOf(limit, nowMs, 400);
    expect(limit.limit).toBeCloseTo(8 * (1.2 / 2));
    windowOf(limit, nowMs + 1_000, 2_000);
    expect(limit.limit).toBeCloseTo(8 * 0.6 * 0.5);
  });

  it('grows only while the limit is used, by time, less as latency nears the target', () => {
    const { limit, nowMs } = probedLimit(200);
    windowOf(limit, nowMs, 200);
    expect(limit.limit).toBe(8);
    const grownAt = windowOf(limit, nowMs + 1_000, 200, { used: true });
    expect(limit.limit).toBeCloseTo(8 * 1.25);
    windowOf(limit, grownAt + 1_000, 220, { used: true });
    // Half way to the target (1.1 of 1.2): half the growth.
    expect(limit.limit).toBeCloseTo(10 * 1.125);
  });

  it('does not grow before a probe has measured Limio: its first latency may have been a loaded one', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    windowOf(limit, T0, 200, { used: true });
    windowOf(limit, T0 + 1_000, 200, { used: true });
    expect(limit.limit).toBe(8);
  });

  it('takes a lower window median as the unloaded latency at once, but a higher one only from a probe', () => {
    const { limit, nowMs } = probedLimit(200);
    windowOf(limit, nowMs, 150);
    expect(limit.unloadedLatencyMs).toBe(150);
    windowOf(limit, nowMs + 1_000, 400);
    expect(limit.unloadedLatencyMs).toBe(150);
    // The next probe: calls started in its second half meet the halved fleet; their median replaces the baseline.
    const probeStart = 2 * PROBE_PERIOD_MS;
    expect(limit.admittedLimit(probeStart + 1_000)).toBeCloseTo(limit.limit / 2);
    expect(limit.admittedLimit(probeStart + 4_000)).toBe(limit.limit);
    const changes = [
      limit.record(ok(probeStart + 2_100, 300), probeStart + 2_400),
      limit.record(ok(probeStart + 2_500, 320), probeStart + 2_820),
      limit.record(ok(probeStart + 2_900, 310), probeStart + 3_210),
      limit.record(ok(probeStart + 4_500, 310), probeStart + 4_810),
    ];
    expect(limit.unloadedLatencyMs).toBe(310);
    // Taken from the first answer on (a paced container may have only one), reported once.
    expect(changes.filter((change) => change !== undefined)).toEqual([
      expect.objectContaining({ reason: 'remeasured', unloadedLatencyMs: 300 }),
    ]);
  });

  it('undoes the latency cuts since the limit last grew when a probe finds Limio itself slower, but not overload cuts', () => {
    const { limit, nowMs } = probedLimit(200);
    let at = windowOf(limit, nowMs, 400);
    at = windowOf(limit, at + 500, 400);
    expect(limit.limit).toBeCloseTo(8 * 0.6 * 0.6);
    const probeStart = 2 * PROBE_PERIOD_MS;
    const change = limit.record(ok(probeStart + 2_100, 400), probeStart + 2_500);
    expect(change).toMatchObject({ reason: 'remeasured', to: 8, unloadedLatencyMs: 400 });
    expect(limit.limit).toBe(8);

    // An overload answer says the cuts were against load: the next slower probe keeps them.
    windowOf(limit, probeStart + 10_000, 900);
    limit.record(overload(probeStart + 11_000), probeStart + 11_005);
    const cut = limit.limit;
    limit.record(ok(3 * PROBE_PERIOD_MS + 2_100, 900), 3 * PROBE_PERIOD_MS + 3_000);
    expect(limit.unloadedLatencyMs).toBe(900);
    expect(limit.limit).toBe(cut);
  });

  it('does not re-measure from a probe that met an overload refusal in its measuring half', () => {
    const { limit } = probedLimit(200);
    const probeStart = 2 * PROBE_PERIOD_MS;
    limit.record(ok(probeStart + 2_100, 600), probeStart + 2_700);
    limit.record(overload(probeStart + 2_800), probeStart + 2_805);
    limit.record(ok(probeStart + 3_000, 600), probeStart + 3_600);
    limit.record(ok(probeStart + 4_500, 600), probeStart + 5_100);
    expect(limit.unloadedLatencyMs).toBe(200);
  });
});

describe('LimioSlotGate', () => {
  /** Runs one container with a backlog and a Limio answering in `latencyMs`, counting the mean calls in flight. */
  function meanInFlight(gate: LimioSlotGate, fromMs: number, durationMs: number, latencyMs: number): number {
    const ends: number[] = [];
    let nowMs = fromMs;
    let busyMs = 0;
    while (nowMs < fromMs + durationMs) {
      while (gate.tryStart(nowMs)) ends.push(nowMs + latencyMs);
      const next = Math.min(...ends, gate.nextStartAt(nowMs));
      busyMs += ends.length * (next - nowMs);
      nowMs = next;
      for (let i = ends.length - 1; i >= 0; i--) {
        if (ends[i]! <= nowMs) {
          ends.splice(i, 1);
          gate.finish(ok(nowMs - latencyMs, latencyMs), nowMs);
        }
      }
    }
    return busyMs / (nowMs - fromMs);
  }

  it.each([0.25, 2.5])(
    'admits a limit of %d as its mean calls in flight: whole calls at once, the fraction paced',
    (value) => {
      const limit = new AdaptiveLimit({ ...SETTINGS, initial: value, ceiling: value, floor: value });
      const gate = new LimioSlotGate(limit, () => 0.5);
      // Outside any probe: 10 s to 50 s past the minute.
      expect(meanInFlight(gate, T0, 40_000, 200)).toBeCloseTo(value, 1);
    },
  );

  it('keeps the slot of a call refused at once for overload until a call has cost its latency, so one slot cannot refuse dozens a second', () => {
    const { limit } = probedLimit(200, { ...SETTINGS, initial: 2, ceiling: 2, floor: 2 });
    const gate = new LimioSlotGate(limit);
    const startMs = T0 + PROBE_PERIOD_MS;
    expect(gate.tryStart(startMs)).toBe(true);
    expect(gate.tryStart(startMs)).toBe(true);
    // The floor keeps the limit at 2: only the hold can keep the refused call's slot.
    gate.finish(overload(startMs), startMs + 5);
    expect(gate.inFlight).toBe(1);
    expect(gate.tryStart(startMs + 10)).toBe(false);
    expect(gate.nextStartAt(startMs + 10)).toBe(startMs + 200);
    expect(gate.tryStart(startMs + 200)).toBe(true);
  });

  it('frees at once the slot of an overload answer that took a call its latency (a timeout, a slow 503)', () => {
    const { limit } = probedLimit(200, { ...SETTINGS, initial: 2, ceiling: 2, floor: 2 });
    const gate = new LimioSlotGate(limit);
    const startMs = T0 + PROBE_PERIOD_MS;
    expect(gate.tryStart(startMs)).toBe(true);
    gate.finish({ startedAtMs: startMs, latencyMs: 250, kind: 'overload' }, startMs + 250);
    expect(gate.tryStart(startMs + 250)).toBe(true);
    expect(gate.tryStart(startMs + 250)).toBe(true);
  });

  it('waits out a Retry-After before admitting anything', () => {
    const limit = new AdaptiveLimit(SETTINGS);
    const gate = new LimioSlotGate(limit);
    expect(gate.tryStart(T0)).toBe(true);
    gate.finish(overload(T0, 3), T0 + 5);
    expect(gate.tryStart(T0 + 10)).toBe(false);
    expect(gate.nextStartAt(T0 + 10)).toBe(T0 + 5 + 3_000);
    expect(gate.tryStart(T0 + 3_005)).toBe(true);
    // A day-long Retry-After pauses for 15 minutes at most.
    gate.finish(overload(T0 + 3_005, 86_400), T0 + 4_000);
    expect(gate.nextStartAt(T0 + 4_010)).toBe(T0 + 4_000 + 900_000);
  });

  it("makes one call in each probe's measuring half even when its pace would skip the probe, and pays for it afterwards", () => {
    const limit = new AdaptiveLimit({ ...SETTINGS, initial: 0.05 });
    const gate = new LimioSlotGate(limit, () => 0.5);
    const startMs = PROBE_PERIOD_MS - 1_000;
    expect(gate.tryStart(startMs)).toBe(true);
    gate.finish(ok(startMs, 200), startMs + 200);
    // Paced: the next call 200 / 0.05 = 4 s after the last began, past the probe's measuring half (2-4 s).
    const probeStart = PROBE_PERIOD_MS;
    const probeCallAt = gate.nextStartAt(probeStart + 100);
    expect(probeCallAt).toBeGreaterThanOrEqual(probeStart + 2_000);
    expect(probeCallAt).toBeLessThan(probeStart + 4_000);
    expect(gate.tryStart(probeCallAt)).toBe(true);
    gate.finish(ok(probeCallAt, 200), probeCallAt + 200);
    // nextStartAt may answer earlier instants to look again at (the probe's edges): the call itself comes later.
    let nextCallAt = probeCallAt + 200;
    while (!gate.tryStart(nextCallAt)) nextCallAt = gate.nextStartAt(nextCallAt);
    expect(nextCallAt).toBeGreaterThanOrEqual(startMs + 2 * 4_000);
  });
});

describe('AdaptiveLimioLimiter', () => {
  it('runs tasks in arrival order within the limit, and answers NO_SLOT to one whose wait bound passes first', async () => {
    const limiter = new AdaptiveLimioLimiter(
      { initial: 1, floor: 0.05, ceiling: 1, latencyTolerance: 0.2 },
      { now: () => T0 + (Date.now() % 1000) },
    );
    let release!: () => void;
    const first = limiter.run(
      () => new Promise<string>((resolve) => (release = () => resolve('first'))),
      1_000,
      () => ({ latencyMs: 10, kind: 'ok' }),
    );
    const second = limiter.run(
      async () => 'second',
      20,
      () => ({ latencyMs: 10, kind: 'ok' }),
    );
    expect(await second).toBe(NO_SLOT);
    const third = limiter.run(
      async () => 'third',
      1_000,
      () => undefined,
    );
    release();
    expect(await first).toBe('first');
    expect(await third).toBe('third');
  });

  it('hears an overload answer as a cut and tells onLimitChange', async () => {
    const changes: unknown[] = [];
    const limiter = new AdaptiveLimioLimiter(SETTINGS, {
      now: () => T0,
      onLimitChange: (change) => changes.push(change),
    });
    await limiter.run(
      async () => 'refused',
      1_000,
      () => ({ latencyMs: 5, kind: 'overload' }),
    );
    expect(limiter.limit.limit).toBeCloseTo(8 * OVERLOAD_CUT);
    expect(changes).toEqual([expect.objectContaining({ reason: 'overload', from: 8 })]);
  });
});

describe('limioCallKindOf', () => {
  it.each([
    [{ class: 'synced', httpStatus: 200 }, 'ok'],
    [{ class: 'retryable', httpStatus: 502, error: '' }, 'upstream'],
    [{ class: 'retryable', httpStatus: 503, error: '' }, 'overload'],
    [{ class: 'retryable', httpStatus: 504, error: '' }, 'overload'],
    [{ class: 'retryable', httpStatus: 429, error: '' }, 'overload'],
    [{ class: 'retryable', error: 'Limio did not answer within 8000 ms' }, 'overload'],
    [{ class: 'retryable', error: 'no Limio token', tokenUnavailable: true }, 'other'],
    [{ class: 'retryable', httpStatus: 500, error: '' }, 'other'],
    [{ class: 'terminal', httpStatus: 404, error: '' }, 'other'],
  ] as const)('%j is %s', (outcome, kind) => {
    expect(limioCallKindOf(outcome)).toBe(kind);
  });
});
