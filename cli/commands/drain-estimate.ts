/**
 * How fast the main queue's backlog is going down and when it will be empty, from what was measured over a recent
 * window (CloudWatch for a deployed bridge, two readings of the queue locally): decisions only, no I/O.
 */

/** Messages that left and joined the main queue over a recent window, however they were measured. */
export interface DrainMeasurement {
  readonly windowMs: number;
  /** Messages that left the queue (synced, or dead-lettered by the sync Lambda) in the window. */
  readonly drained: number;
  /** Messages that joined it (callouts, backfills, replays) in the window. */
  readonly arrived: number;
  /** Where the figures came from, in the operator's words. */
  readonly measured: string;
}

type DrainState = 'empty' | 'draining' | 'growing' | 'not draining' | 'unknown';

export interface DrainEstimate {
  readonly backlog: number;
  readonly state: DrainState;
  /** Undefined when nothing was measured. */
  readonly drainedPerMinute?: number;
  readonly arrivedPerMinute?: number;
  /** Only while draining. */
  readonly etaMs?: number;
  /** "about 12 min", "growing by 30/min", "empty" or "-". */
  readonly eta: string;
  /** Where the rates came from, or why there are none. */
  readonly measured: string;
}

const MINUTE_MS = 60_000;

/**
 * The time to empty counts the net rate (drained − arrived), not the drain rate alone: while callouts keep
 * arriving at 90 % of the drain, backlog ÷ drain would promise the end ten times too soon. A backlog that gains
 * says so instead of a time; one that holds level (nothing drains, or arrivals keep pace) has no time to give.
 */
export function estimateDrain(
  backlog: number,
  measurement: DrainMeasurement | { readonly unavailable: string },
): DrainEstimate {
  if ('unavailable' in measurement) {
    return backlog === 0
      ? { backlog, state: 'empty', eta: 'empty', measured: measurement.unavailable }
      : { backlog, state: 'unknown', eta: '-', measured: measurement.unavailable };
  }
  const minutes = measurement.windowMs / MINUTE_MS;
  const drainedPerMinute = minutes > 0 ? measurement.drained / minutes : 0;
  const arrivedPerMinute = minutes > 0 ? measurement.arrived / minutes : 0;
  const rates = { backlog, drainedPerMinute, arrivedPerMinute, measured: measurement.measured };
  const netPerMinute = drainedPerMinute - arrivedPerMinute;
  if (backlog === 0) return { ...rates, state: 'empty', eta: 'empty' };
  if (netPerMinute < 0) return { ...rates, state: 'growing', eta: `growing by ${formatRate(-netPerMinute)}` };
  if (netPerMinute === 0) return { ...rates, state: 'not draining', eta: '-' };
  const etaMs = (backlog / netPerMinute) * MINUTE_MS;
  return { ...rates, state: 'draining', etaMs, eta: formatEta(etaMs) };
}

/** A rough time for a person: "under 1 min", "about 12 min", "about 3 h", "about 2 days". */
export function formatEta(milliseconds: number): string {
  const minutes = milliseconds / MINUTE_MS;
  if (minutes < 1) return 'under 1 min';
  if (minutes < 90) return `about ${Math.round(minutes)} min`;
  const hours = minutes / 60;
  if (hours < 36) return `about ${Math.round(hours)} h`;
  return `about ${Math.round(hours / 24)} days`;
}

/** Messages per minute, to one decimal below 10 (a slow drain should not read as 0). */
export function formatRate(perMinute: number): string {
  return `${perMinute < 10 ? Math.round(perMinute * 10) / 10 : Math.round(perMinute)}/min`;
}

export interface BacklogReading {
  readonly backlog: number;
  readonly at: number;
}

/**
 * Two readings of the backlog tell only its net change: what left and what arrived in between cannot be told
 * apart, so the change is put down as drained (the backlog fell) or arrived (it rose), which is all the time to
 * empty needs.
 */
export function measurementFromReadings(first: BacklogReading, second: BacklogReading): DrainMeasurement {
  const change = second.backlog - first.backlog;
  const windowMs = Math.max(0, second.at - first.at);
  return {
    windowMs,
    drained: Math.max(0, -change),
    arrived: Math.max(0, change),
    measured: `net change between 2 readings ${Math.round(windowMs / 100) / 10}s apart`,
  };
}

/** One period's figure of a CloudWatch metric. */
export interface MetricPoint {
  readonly at: number;
  readonly value: number;
}

/**
 * The last `minutes` one-minute sums CloudWatch has of NumberOfMessagesDeleted, with NumberOfMessagesSent for the
 * same minutes (a minute it has no figure for counts as none sent). The window is as long as the minutes found,
 * not as asked: SQS's newest minutes reach CloudWatch late, and dividing by minutes not yet there would understate
 * the rate. No deletion figure at all means CloudWatch has nothing to say (a queue idle for hours has no datapoints).
 */
export function measurementFromMinutes(
  deleted: readonly MetricPoint[],
  sent: readonly MetricPoint[],
  minutes: number,
): DrainMeasurement | undefined {
  const latest = [...deleted].sort((a, b) => b.at - a.at).slice(0, minutes);
  if (latest.length === 0) return undefined;
  const sentAt = new Map(sent.map((point) => [point.at, point.value]));
  return {
    windowMs: latest.length * MINUTE_MS,
    drained: latest.reduce((sum, point) => sum + point.value, 0),
    arrived: latest.reduce((sum, point) => sum + (sentAt.get(point.at) ?? 0), 0),
    measured: `CloudWatch AWS/SQS NumberOfMessagesDeleted and NumberOfMessagesSent, last ${latest.length} min`,
  };
}
