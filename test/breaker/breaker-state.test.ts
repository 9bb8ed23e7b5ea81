import fc from 'fast-check';
import {
  breakerGauge,
  closedWindowVerdict,
  EMPTY_WINDOW,
  halfOpenWindowVerdict,
  INITIAL_BREAKER_STATE,
  nextBreakerState,
  pollingFor,
  pruneOpenIntervals,
  type BreakerEvent,
  type BreakerState,
  type OutcomeWindow,
} from '../../functions/breaker/breaker-state';
import { subscriptionSlot, windowOf } from '../../functions/breaker/breaker-store';
import { countsOf } from '../../functions/breaker/sync-gate';
import { DEFAULT_BREAKER_SETTINGS, loadBreakerSettings } from '../../functions/breaker/settings';

const settings = DEFAULT_BREAKER_SETTINGS;
const T0 = Date.parse('2026-11-24T10:00:00.000Z');

function window(partial: Partial<OutcomeWindow>): OutcomeWindow {
  return { ...EMPTY_WINDOW, ...partial };
}

/** The window a list of per-subscription outcomes makes, built the way the sync gate builds it. */
function windowFromSyncs(syncs: [string, 'synced' | 'limio-failure' | 'refused'][], tokenFailures = 0): OutcomeWindow {
  return windowOf([
    countsOf({ syncs: syncs.map(([subscriptionId, outcome]) => ({ subscriptionId, outcome })), tokenFailures }),
  ]);
}

function run(events: [number, BreakerEvent][], start: BreakerState = INITIAL_BREAKER_STATE): BreakerState {
  return events.reduce((state, [at, event]) => nextBreakerState(state, event, at, settings), start);
}

describe('the trip rule (closed state)', () => {
  it('never trips on one bad subscription, however many of its calls fail', () => {
    const oneBad = windowFromSyncs(
      Array.from({ length: 500 }, () => ['A-S00000666', 'limio-failure'] as [string, 'limio-failure']),
    );
    expect(oneBad).toMatchObject({ calls: 500, limioFailures: 500, failingSubscriptions: 1 });
    expect(closedWindowVerdict(oneBad, settings)).toEqual({ trip: false });
  });

  it('never trips with fewer distinct failing subscriptions than required (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 1 }),
            fc.constantFrom('synced', 'limio-failure', 'refused') as fc.Arbitrary<
              'synced' | 'limio-failure' | 'refused'
            >,
          ),
          { maxLength: 300 },
        ),
        (calls) => {
          // Only two subscriptions ever fail: the rule needs three.
          const syncs = calls.map(
            ([which, outcome]) =>
              [outcome === 'limio-failure' ? `A-S0000000${which}` : `A-S1${which}`, outcome] as [
                string,
                typeof outcome,
              ],
          );
          expect(
            nextBreakerState(INITIAL_BREAKER_STATE, { type: 'window', window: windowFromSyncs(syncs) }, T0, settings),
          ).toBe(INITIAL_BREAKER_STATE);
        },
      ),
    );
  });

  it('trips when most calls fail for Limio across several subscriptions', () => {
    const syncs: [string, 'synced' | 'limio-failure'][] = [
      ...Array.from({ length: 8 }, (_, i) => [`A-S0000010${i}`, 'limio-failure'] as [string, 'limio-failure']),
      ['A-S00000200', 'synced'],
      ['A-S00000201', 'synced'],
    ];
    const verdict = closedWindowVerdict(windowFromSyncs(syncs), settings);
    expect(verdict).toEqual({ trip: true, reason: "8 of 10 syncs failed on Limio's side, for 8 subscriptions" });
  });

  it('respects minCalls: nine failing calls out of nine do not trip', () => {
    expect(closedWindowVerdict(window({ calls: 9, limioFailures: 9, failingSubscriptions: 9 }), settings)).toEqual({
      trip: false,
    });
    expect(closedWindowVerdict(window({ calls: 10, limioFailures: 10, failingSubscriptions: 9 }), settings).trip).toBe(
      true,
    );
  });

  it('needs the threshold share: 79 % does not trip, 80 % does', () => {
    expect(
      closedWindowVerdict(window({ calls: 100, limioFailures: 79, failingSubscriptions: 50 }), settings).trip,
    ).toBe(false);
    expect(
      closedWindowVerdict(window({ calls: 100, limioFailures: 80, failingSubscriptions: 50 }), settings).trip,
    ).toBe(true);
  });

  it('does not count refusals (terminal 4xx) as Limio failures: Limio answered', () => {
    const refusals = windowFromSyncs(
      Array.from(
        { length: 50 },
        (_, i) => [`A-S000004${String(i).padStart(2, '0')}`, 'refused'] as [string, 'refused'],
      ),
    );
    expect(refusals).toMatchObject({ calls: 50, limioFailures: 0, failingSubscriptions: 0 });
    expect(closedWindowVerdict(refusals, settings)).toEqual({ trip: false });
  });

  it('trips on repeated token endpoint failures alone, without minCalls', () => {
    expect(closedWindowVerdict(window({ tokenFailures: 2 }), settings)).toEqual({ trip: false });
    expect(closedWindowVerdict(window({ tokenFailures: 3 }), settings)).toEqual({
      trip: true,
      reason: 'token endpoint failed 3 times in the window',
    });
  });
});

describe('subscription slots', () => {
  it('are stable and spread a handful of ids over distinct slots', () => {
    expect(subscriptionSlot('A-S00000271')).toBe(subscriptionSlot('A-S00000271'));
    const ids = Array.from({ length: 20 }, (_, i) => `A-S000002${String(i).padStart(2, '0')}`);
    expect(new Set(ids.map(subscriptionSlot)).size).toBeGreaterThanOrEqual(19);
  });
});

describe('nextBreakerState', () => {
  const outage = window({ calls: 10, limioFailures: 10, failingSubscriptions: 10 });

  it('returns the very same object when nothing changes', () => {
    expect(nextBreakerState(INITIAL_BREAKER_STATE, { type: 'window', window: EMPTY_WINDOW }, T0, settings)).toBe(
      INITIAL_BREAKER_STATE,
    );
    expect(nextBreakerState(INITIAL_BREAKER_STATE, { type: 'probe', result: 'healthy' }, T0, settings)).toBe(
      INITIAL_BREAKER_STATE,
    );
    expect(nextBreakerState(INITIAL_BREAKER_STATE, { type: 'manual-close' }, T0, settings)).toBe(INITIAL_BREAKER_STATE);
  });

  it('goes closed -> open -> half-open -> closed and records the open interval', () => {
    const open = run([[T0, { type: 'window', window: outage }]]);
    expect(open).toMatchObject({
      state: 'open',
      since: T0,
      openedBy: 'auto',
      openIntervals: [{ from: T0 }],
      version: 1,
    });

    const stillOpen = nextBreakerState(open, { type: 'probe', result: 'unhealthy' }, T0 + 60_000, settings);
    expect(stillOpen).toBe(open);

    const halfOpen = nextBreakerState(
      open,
      { type: 'probe', result: 'healthy', detail: 'token in 80 ms' },
      T0 + 120_000,
      settings,
    );
    expect(halfOpen).toMatchObject({
      state: 'half-open',
      since: T0 + 120_000,
      reason: 'probe healthy (token in 80 ms)',
      healthyProbes: 1,
      openIntervals: [{ from: T0 }],
    });

    const closed = nextBreakerState(
      halfOpen,
      { type: 'window', window: window({ calls: 5, successes: 5 }) },
      T0 + 150_000,
      settings,
    );
    expect(closed).toMatchObject({
      state: 'closed',
      since: T0 + 150_000,
      openIntervals: [{ from: T0, to: T0 + 150_000 }],
      healthyProbes: 0,
    });
    expect(closed.version).toBe(halfOpen.version + 1);
  });

  it('half-open waits for enough successes, and one bad subscription does not reopen it', () => {
    const halfOpen = run([
      [T0, { type: 'window', window: outage }],
      [T0 + 60_000, { type: 'probe', result: 'healthy' }],
    ]);
    expect(halfOpenWindowVerdict(window({ calls: 4, successes: 4 }), settings)).toBe('wait');
    const oneBad = window({ calls: 6, successes: 2, limioFailures: 4, failingSubscriptions: 1 });
    expect(nextBreakerState(halfOpen, { type: 'window', window: oneBad }, T0 + 70_000, settings)).toBe(halfOpen);
  });

  it('half-open reopens on failures from several subscriptions, a token failure or an unhealthy probe', () => {
    const halfOpen = run([
      [T0, { type: 'window', window: outage }],
      [T0 + 60_000, { type: 'probe', result: 'healthy' }],
    ]);
    const failing = nextBreakerState(
      halfOpen,
      { type: 'window', window: window({ calls: 3, limioFailures: 3, failingSubscriptions: 3 }) },
      T0 + 70_000,
      settings,
    );
    expect(failing).toMatchObject({ state: 'open', since: T0 + 70_000, openIntervals: [{ from: T0 }] });
    expect(failing.reason).toMatch(/^half-open batch failed/);
    expect(
      nextBreakerState(halfOpen, { type: 'window', window: window({ tokenFailures: 1 }) }, T0 + 70_000, settings).state,
    ).toBe('open');
    expect(nextBreakerState(halfOpen, { type: 'probe', result: 'unhealthy' }, T0 + 120_000, settings)).toMatchObject({
      state: 'open',
      reason: 'probe failed in half-open',
    });
  });

  it('half-open with no traffic closes after enough healthy probes in a row', () => {
    const probes = run([
      [T0, { type: 'window', window: outage }],
      [T0 + 60_000, { type: 'probe', result: 'healthy' }],
      [T0 + 120_000, { type: 'probe', result: 'healthy' }],
    ]);
    expect(probes).toMatchObject({ state: 'half-open', healthyProbes: 2, since: T0 + 60_000 });
    const closed = nextBreakerState(probes, { type: 'probe', result: 'healthy' }, T0 + 180_000, settings);
    expect(closed).toMatchObject({
      state: 'closed',
      reason: '3 healthy probes in a row',
      openIntervals: [{ from: T0, to: T0 + 180_000 }],
    });
  });

  it('a breaker opened by hand ignores probes and windows until closed by hand', () => {
    const manual = nextBreakerState(
      INITIAL_BREAKER_STATE,
      { type: 'manual-open', reason: 'Limio maintenance 02:00-04:00' },
      T0,
      settings,
    );
    expect(manual).toMatchObject({
      state: 'open',
      openedBy: 'manual',
      reason: 'opened by hand: Limio maintenance 02:00-04:00',
      openIntervals: [{ from: T0 }],
    });
    expect(nextBreakerState(manual, { type: 'probe', result: 'healthy' }, T0 + 60_000, settings)).toBe(manual);
    expect(
      nextBreakerState(manual, { type: 'window', window: window({ calls: 50, successes: 50 }) }, T0 + 60_000, settings),
    ).toBe(manual);
    const closed = nextBreakerState(
      manual,
      { type: 'manual-close', reason: 'maintenance over' },
      T0 + hours(2),
      settings,
    );
    expect(closed).toMatchObject({
      state: 'closed',
      openedBy: 'auto',
      reason: 'closed by hand: maintenance over',
      openIntervals: [{ from: T0, to: T0 + hours(2) }],
    });
  });

  it('taking over an automatically opened breaker by hand keeps its interval and phase start', () => {
    const open = run([[T0, { type: 'window', window: outage }]]);
    const held = nextBreakerState(
      open,
      { type: 'manual-open', reason: 'wait for Limio support' },
      T0 + 60_000,
      settings,
    );
    expect(held).toMatchObject({ state: 'open', openedBy: 'manual', since: T0, openIntervals: [{ from: T0 }] });
  });

  it('closing by hand from half-open ends the interval', () => {
    const halfOpen = run([
      [T0, { type: 'window', window: outage }],
      [T0 + 60_000, { type: 'probe', result: 'healthy' }],
    ]);
    expect(nextBreakerState(halfOpen, { type: 'manual-close' }, T0 + 90_000, settings)).toMatchObject({
      state: 'closed',
      openIntervals: [{ from: T0, to: T0 + 90_000 }],
    });
  });

  it('keeps the intervals of successive outages, newest last', () => {
    const twice = run([
      [T0, { type: 'window', window: outage }],
      [T0 + 1000, { type: 'manual-close' }],
      [T0 + 5000, { type: 'window', window: outage }],
    ]);
    expect(twice.openIntervals).toEqual([{ from: T0, to: T0 + 1000 }, { from: T0 + 5000 }]);
  });
});

function hours(n: number): number {
  return n * 3_600_000;
}

describe('pruneOpenIntervals', () => {
  it('drops intervals that ended before the retention horizon and keeps a running one', () => {
    const now = T0 + hours(24 * 20);
    const kept = pruneOpenIntervals(
      [
        { from: T0, to: T0 + hours(1) },
        { from: now - hours(24 * 13), to: now - hours(24 * 12) },
        { from: now - hours(1) },
      ],
      now,
      settings,
    );
    expect(kept).toEqual([{ from: now - hours(24 * 13), to: now - hours(24 * 12) }, { from: now - hours(1) }]);
  });

  it('merges the oldest beyond the bound, which can only lengthen budgets', () => {
    const intervals = Array.from({ length: 6 }, (_, i) => ({ from: T0 + i * 10_000, to: T0 + i * 10_000 + 1000 }));
    const kept = pruneOpenIntervals(intervals, T0 + 100_000, { ...settings, maxOpenIntervals: 3 });
    expect(kept).toEqual([{ from: T0, to: T0 + 31_000 }, intervals[4], intervals[5]]);
  });
});

describe('pollingFor and the gauge', () => {
  it('disables polling while open, a small cap half-open, the full cap closed', () => {
    const open = run([[T0, { type: 'window', window: window({ tokenFailures: 3 }) }]]);
    const halfOpen = nextBreakerState(open, { type: 'probe', result: 'healthy' }, T0 + 1, settings);
    expect(pollingFor(open, settings, 20)).toEqual({ enabled: false });
    expect(pollingFor(halfOpen, settings, 20)).toEqual({ enabled: true, maxConcurrency: 2 });
    expect(pollingFor(INITIAL_BREAKER_STATE, settings, 20)).toEqual({ enabled: true, maxConcurrency: 20 });
    expect(pollingFor(INITIAL_BREAKER_STATE, settings)).toEqual({ enabled: true });
    expect([breakerGauge('closed'), breakerGauge('half-open'), breakerGauge('open')]).toEqual([0, 1, 2]);
  });
});

describe('loadBreakerSettings', () => {
  it('reads compressed settings and refuses a distinct-subscription minimum below 2', () => {
    expect(loadBreakerSettings({ BREAKER_WINDOW_SECONDS: '1', BREAKER_MIN_CALLS: '4' })).toMatchObject({
      windowSeconds: 1,
      minCalls: 4,
    });
    expect(() => loadBreakerSettings({ BREAKER_MIN_DISTINCT_SUBSCRIPTIONS: '1' })).toThrow(
      /BREAKER_MIN_DISTINCT_SUBSCRIPTIONS: must be between 2/,
    );
    expect(() => loadBreakerSettings({ BREAKER_HALF_OPEN_MAX_CONCURRENCY: '1' })).toThrow(
      /BREAKER_HALF_OPEN_MAX_CONCURRENCY/,
    );
  });
});
