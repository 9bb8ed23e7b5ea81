import type { BreakerSettings } from './settings';

/**
 * A span of time during which the breaker was not closed (open or half-open), epoch milliseconds. The sync
 * Lambda's retry budget does not count these (functions/sync/retry-budget.ts).
 */
export interface OpenInterval {
  readonly from: number;
  /** Absent while the breaker is still open. */
  readonly to?: number;
}

/**
 * The circuit breaker's state and its rules, as pure functions: the sync Lambda, the probe Lambda, the CLI and
 * the local runtime all move the breaker through `nextBreakerState`, and only through it.
 *
 *   closed ──(window: Limio failing for many subscriptions, or token endpoint failing)──► open
 *   open ──(probe healthy)──► half-open ──(enough successes, or healthy probes with no traffic)──► closed
 *   half-open ──(probe unhealthy, token failure, failures from many subscriptions)──► open
 *   any ──(operator: breaker open --reason)──► open, held by hand until `breaker close`
 */
export const BREAKER_PHASES = ['closed', 'open', 'half-open'] as const;
export type BreakerPhase = (typeof BREAKER_PHASES)[number];

export interface BreakerState {
  readonly state: BreakerPhase;
  /** Epoch ms of the last change of phase; also names the outcome window of this phase. */
  readonly since: number;
  readonly reason: string;
  /** A breaker opened by hand stays open until closed by hand: probes never close it. */
  readonly openedBy: 'auto' | 'manual';
  /** Every span the breaker was not closed, newest last; retry budgets do not count this time. */
  readonly openIntervals: readonly OpenInterval[];
  /** Healthy probes in a row during half-open. */
  readonly healthyProbes: number;
  /** Bumped on every write: writers use it to detect that someone else moved the breaker first. */
  readonly version: number;
}

export const INITIAL_BREAKER_STATE: BreakerState = {
  state: 'closed',
  since: 0,
  reason: 'never opened',
  openedBy: 'auto',
  openIntervals: [],
  healthyProbes: 0,
  version: 0,
};

/** What the sync calls of all instances did in the current phase's recent window. */
export interface OutcomeWindow {
  /** Sync calls that got an answer or failed trying (one per distinct subscription per batch). */
  readonly calls: number;
  readonly successes: number;
  /** Failures that are Limio's, not the subscription's: 5xx, 429, timeout, network, 200 without success. */
  readonly limioFailures: number;
  /** Batches whose token request failed (endpoint down, slow, or refusing the credentials). */
  readonly tokenFailures: number;
  /** Distinct subscriptions among the Limio-side failures (estimated from hashed slots; never over-counted). */
  readonly failingSubscriptions: number;
}

export const EMPTY_WINDOW: OutcomeWindow = {
  calls: 0,
  successes: 0,
  limioFailures: 0,
  tokenFailures: 0,
  failingSubscriptions: 0,
};

export type BreakerEvent =
  | { readonly type: 'window'; readonly window: OutcomeWindow }
  | { readonly type: 'probe'; readonly result: ProbeResult; readonly detail?: string }
  | { readonly type: 'manual-open'; readonly reason: string }
  | { readonly type: 'manual-close'; readonly reason?: string };

export type ProbeResult = 'healthy' | 'unhealthy';

export type WindowVerdict = { readonly trip: false } | { readonly trip: true; readonly reason: string };

/**
 * The closed-state rule: trip when the token endpoint fails repeatedly, or when the window holds at least
 * minCalls calls, at least failureThresholdPercent of them failed for Limio's reasons, and those failures
 * come from at least minDistinctSubscriptions subscriptions. The last condition is what keeps one bad
 * subscription (Limio answering 502 for it alone, say) from ever stopping everyone else's syncs.
 */
export function closedWindowVerdict(window: OutcomeWindow, settings: BreakerSettings): WindowVerdict {
  if (window.tokenFailures >= settings.tokenFailures) {
    return { trip: true, reason: `token endpoint failed ${window.tokenFailures} times in the window` };
  }
  if (window.calls < settings.minCalls) return { trip: false };
  if (window.failingSubscriptions < settings.minDistinctSubscriptions) return { trip: false };
  if (window.limioFailures * 100 < settings.failureThresholdPercent * window.calls) return { trip: false };
  return {
    trip: true,
    reason: `${window.limioFailures} of ${window.calls} syncs failed on Limio's side, for ${window.failingSubscriptions} subscriptions`,
  };
}

/**
 * Half-open lets a small batch through. Any token failure, or Limio-side failures from several subscriptions
 * making up the threshold share, sends it back to open (minCalls does not apply: the batch is small on
 * purpose); enough successes close it.
 */
export function halfOpenWindowVerdict(window: OutcomeWindow, settings: BreakerSettings): 'reopen' | 'close' | 'wait' {
  if (window.tokenFailures > 0) return 'reopen';
  if (
    window.failingSubscriptions >= settings.minDistinctSubscriptions &&
    window.limioFailures * 100 >= settings.failureThresholdPercent * window.calls
  ) {
    return 'reopen';
  }
  return window.successes >= settings.halfOpenSuccesses ? 'close' : 'wait';
}

/** The next state, or the very same object when the event changes nothing (callers skip the write). */
export function nextBreakerState(
  current: BreakerState,
  event: BreakerEvent,
  now: number,
  settings: BreakerSettings,
): BreakerState {
  switch (event.type) {
    case 'manual-open': {
      const reason = `opened by hand: ${event.reason}`;
      if (current.state === 'open' && current.openedBy === 'manual' && current.reason === reason) return current;
      return enter(current, 'open', reason, 'manual', now, settings);
    }
    case 'manual-close':
      if (current.state === 'closed') return current;
      return enter(
        current,
        'closed',
        `closed by hand${event.reason ? `: ${event.reason}` : ''}`,
        'auto',
        now,
        settings,
      );
    case 'window':
      return afterWindow(current, event.window, now, settings);
    case 'probe':
      return afterProbe(current, event.result, event.detail, now, settings);
  }
}

function afterWindow(
  current: BreakerState,
  window: OutcomeWindow,
  now: number,
  settings: BreakerSettings,
): BreakerState {
  if (current.state === 'closed') {
    const verdict = closedWindowVerdict(window, settings);
    return verdict.trip ? enter(current, 'open', verdict.reason, 'auto', now, settings) : current;
  }
  if (current.state === 'half-open' && current.openedBy === 'auto') {
    const verdict = halfOpenWindowVerdict(window, settings);
    if (verdict === 'reopen')
      return enter(current, 'open', `half-open batch failed: ${describe(window)}`, 'auto', now, settings);
    if (verdict === 'close')
      return enter(current, 'closed', `half-open batch succeeded: ${describe(window)}`, 'auto', now, settings);
  }
  return current;
}

function afterProbe(
  current: BreakerState,
  result: ProbeResult,
  detail: string | undefined,
  now: number,
  settings: BreakerSettings,
): BreakerState {
  if (current.state === 'closed' || current.openedBy === 'manual') return current;
  const because = detail ? ` (${detail})` : '';
  if (result === 'unhealthy') {
    return current.state === 'half-open'
      ? enter(current, 'open', `probe failed in half-open${because}`, 'auto', now, settings)
      : current;
  }
  if (current.state === 'open') {
    return { ...enter(current, 'half-open', `probe healthy${because}`, 'auto', now, settings), healthyProbes: 1 };
  }
  const healthyProbes = current.healthyProbes + 1;
  if (healthyProbes >= settings.halfOpenHealthyProbes) {
    return enter(current, 'closed', `${healthyProbes} healthy probes in a row`, 'auto', now, settings);
  }
  return { ...current, healthyProbes, version: current.version + 1 };
}

function enter(
  current: BreakerState,
  state: BreakerPhase,
  reason: string,
  openedBy: 'auto' | 'manual',
  now: number,
  settings: BreakerSettings,
): BreakerState {
  let intervals = [...current.openIntervals];
  const last = intervals[intervals.length - 1];
  const intervalRunning = last !== undefined && last.to === undefined;
  if (state === 'closed') {
    if (intervalRunning) intervals[intervals.length - 1] = { from: last.from, to: now };
  } else if (!intervalRunning) {
    intervals.push({ from: now });
  }
  intervals = pruneOpenIntervals(intervals, now, settings);
  return {
    state,
    // A manual override of an open breaker keeps its phase start, and so its window; any other move starts anew.
    since: state === current.state ? current.since : now,
    reason,
    openedBy,
    openIntervals: intervals,
    healthyProbes: 0,
    version: current.version + 1,
  };
}

/**
 * Intervals that ended before the queue's retention can matter to no message still queued. Beyond
 * maxOpenIntervals the two oldest are merged, which can only count more time as open: a budget may grow,
 * never shrink.
 */
export function pruneOpenIntervals(
  intervals: readonly OpenInterval[],
  now: number,
  settings: Pick<BreakerSettings, 'openIntervalRetentionSeconds' | 'maxOpenIntervals'>,
): OpenInterval[] {
  const horizon = now - settings.openIntervalRetentionSeconds * 1000;
  const kept = intervals.filter((interval) => interval.to === undefined || interval.to >= horizon);
  while (kept.length > Math.max(settings.maxOpenIntervals, 2)) {
    const [oldest, next] = kept.splice(0, 2) as [OpenInterval, OpenInterval];
    kept.unshift(next.to === undefined ? { from: oldest.from } : { from: oldest.from, to: next.to });
  }
  return kept;
}

function describe(window: OutcomeWindow): string {
  return `${window.successes} synced, ${window.limioFailures} Limio-side failures (${window.failingSubscriptions} subscriptions), ${window.tokenFailures} token failures`;
}

/** What the sync event source should look like in each state. */
export type PollingWish = { readonly enabled: false } | { readonly enabled: true; readonly maxConcurrency?: number };

export function pollingFor(
  state: BreakerState,
  settings: Pick<BreakerSettings, 'halfOpenMaxConcurrency'>,
  fullConcurrency?: number,
): PollingWish {
  if (state.state === 'open') return { enabled: false };
  if (state.state === 'half-open') return { enabled: true, maxConcurrency: settings.halfOpenMaxConcurrency };
  return fullConcurrency === undefined ? { enabled: true } : { enabled: true, maxConcurrency: fullConcurrency };
}

/** The BreakerState gauge: 0 closed, 1 half-open, 2 open; an alarm at >= 1 fires while not closed. */
export function breakerGauge(state: BreakerPhase): number {
  return state === 'closed' ? 0 : state === 'half-open' ? 1 : 2;
}
