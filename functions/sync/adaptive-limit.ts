/**
 * The adaptive limit on Limio calls in flight, per container (issue #21). Pure: the clock is passed in, no
 * timers, so the controller and a whole simulated fleet of them are tested in virtual time.
 *
 * AdaptiveLimit decides the limit from the calls' answers; LimioSlotGate admits calls under it (pacing the
 * fraction of a call the limit allows beyond its whole part). limio-slots.ts runs the gate in real time.
 */

/**
 * What a completed Limio call says about Limio's load. `upstream` is Limio's 502, "a service behind me failed,
 * retry": load-independent failures (a Zuora hiccup) answer it as well as a Limio refusing for capacity, so it
 * cuts the limit only when the evidence says load (AdaptiveLimit.upstreamIsOverload).
 */
export type LimioCallKind = 'ok' | 'overload' | 'upstream' | 'other';

export interface LimioCallReport {
  /** When the call was admitted (epoch ms). */
  readonly startedAtMs: number;
  readonly latencyMs: number;
  /** ok: answered (synced); overload: 503/504/429, timeout, network error; upstream: 502; other: neither grows nor cuts. */
  readonly kind: LimioCallKind;
  /** Retry-After on an overload answer: no new call before it has passed. */
  readonly retryAfterSeconds?: number;
}

export type LimitChangeReason = 'overload' | 'latency' | 'growth' | 'remeasured';

export interface LimitChange {
  readonly from: number;
  readonly to: number;
  readonly reason: LimitChangeReason;
  /** The window's median latency. */
  readonly latencyMs?: number;
  readonly unloadedLatencyMs?: number;
}

export interface AdaptiveLimitSettings {
  readonly initial: number;
  readonly floor: number;
  readonly ceiling: number;
  /** Latency up to (1 + tolerance) × unloaded counts as unloaded. */
  readonly latencyTolerance: number;
}

/** Multiplicative decrease on overload: the AWS SDK's and CUBIC's β. */
export const OVERLOAD_CUT = 0.7;
/** The deepest a latency cut goes in one window: a single slow window cannot halve the limit twice. */
const LATENCY_CUT_MAX = 0.5;
/** Growth per unloaded latency elapsed while the limit was used and latency stayed unloaded. */
const GROWTH_PER_LATENCY = 1.25;
/** At most this many latencies' worth of growth per window, so a long window (a slow, paced limit) cannot leap. */
const GROWTH_LATENCIES_PER_WINDOW_MAX = 8;
const WINDOW_MIN_MS = 100;
/** Re-measurement: every minute, at the same wall-clock second in every container. */
export const PROBE_PERIOD_MS = 60_000;
const PROBE_MIN_MS = 4_000;
const PROBE_MAX_MS = 20_000;
/** What a paced call is taken to cost before any answer has shown it: refused calls alone show nothing. */
const UNMEASURED_CALL_COST_MS = 1_000;
/**
 * The longest pause a Retry-After buys: the default BACKOFF_MAX_SECONDS, which already caps it for the message
 * that got it, so a misconfigured header cannot stop a container's syncs for hours.
 */
const RETRY_AFTER_MAX_SECONDS = 900;
/**
 * How unlikely a run of 502s must be, at the share of 502s Limio answers when unloaded, before the run counts as
 * overload: at a 30 % share 4 in a row (0.8 %), at none the first one.
 */
const UPSTREAM_RUN_CHANCE = 0.02;
/** However often Limio fails when unloaded, this many 502s in a row without a success are overload. */
const UPSTREAM_RUN_MAX = 5;
/** The unloaded 502 share forgets an answer's weight by this factor per later answer (about 100 answers). */
const UPSTREAM_SHARE_DECAY = 0.99;
/**
 * Answers a share needs before it is trusted: with fewer (a container paced below one call, one probe call a
 * minute) one refusal would read as a share of 100 %, so every 502 is overload, as if Limio never failed at random.
 */
export const UPSTREAM_SHARE_MIN_ANSWERS = 10;
/** A change of the limit by this factor (or across a whole number below 2) is reported. */
const MARKED_CHANGE = 0.2;

interface Window {
  readonly startedAtMs: number;
  readonly latencies: number[];
  limitReached: boolean;
  /** A sample started inside a probe: the window says nothing about the limit's own load. */
  probed: boolean;
}

export class AdaptiveLimit {
  #limit: number;
  #unloadedLatencyMs: number | undefined;
  #window: Window | undefined;
  #pausedUntilMs = 0;
  #lastOverloadCutAtMs = Number.NEGATIVE_INFINITY;
  /** The limit before a run of latency cuts began (cleared by growth or an overload cut). */
  #limitBeforeLatencyCuts: number | undefined;
  /** The unloaded latency has been measured in a probe at least once. */
  #probed = false;
  #lastRatio: number | undefined;
  /** The latencies of calls started in the measuring half of the current or last probe, by probe start. */
  #probeSamples:
    | { probeStartMs: number; latencies: number[]; void: boolean; before?: number | undefined; reported?: boolean }
    | undefined;
  /** The limit when a change was last reported, so creeping changes are reported once they add up. */
  #reportedLimit: number;
  /** 502s since the last successful answer. */
  #upstreamRun = 0;
  /** Decayed counts of 502s and of answers (502 or success) judged unloaded (noteRunEnded): Limio's random 502 share. */
  #unloadedShare = { upstream: 0, answers: 0 };
  #lastAnswerWasOverload = false;

  constructor(readonly settings: AdaptiveLimitSettings) {
    const { floor, ceiling, initial, latencyTolerance } = settings;
    if (!(floor > 0) || !(ceiling >= floor))
      throw new RangeError(`adaptive limit needs 0 < floor <= ceiling, got ${floor} and ${ceiling}`);
    if (!(latencyTolerance > 0)) throw new RangeError(`latency tolerance must be positive, got ${latencyTolerance}`);
    this.#limit = clamp(initial, floor, ceiling);
    this.#reportedLimit = this.#limit;
  }

  get limit(): number {
    return this.#limit;
  }

  get unloadedLatencyMs(): number | undefined {
    return this.#unloadedLatencyMs;
  }

  /** The last window's median latency over the unloaded latency. */
  get latencyRatio(): number | undefined {
    return this.#lastRatio;
  }

  get pausedUntilMs(): number {
    return this.#pausedUntilMs;
  }

  /** Whether the answer last recorded counted as overload (a 502 only when load explains it). */
  get lastAnswerWasOverload(): boolean {
    return this.#lastAnswerWasOverload;
  }

  /** The probe window this instant falls in, if any: [start, end), aligned to the wall clock. */
  probeAt(nowMs: number): { startMs: number; endMs: number; measureFromMs: number } | undefined {
    const startMs = Math.floor(nowMs / PROBE_PERIOD_MS) * PROBE_PERIOD_MS;
    const lengthMs = this.probeLengthMs();
    if (nowMs >= startMs + lengthMs) return undefined;
    // Calls admitted before the probe at the full limit are still running during its first half.
    return { startMs, endMs: startMs + lengthMs, measureFromMs: startMs + lengthMs / 2 };
  }

  /**
   * The limit calls are admitted under now: halved during a probe, so that the whole fleet's load halves at the
   * same instant without any coordination and the calls started then meet an unloaded Limio.
   */
  admittedLimit(nowMs: number): number {
    return this.probeAt(nowMs) ? Math.max(this.settings.floor, this.#limit / 2) : this.#limit;
  }

  /** A call had to wait because the limit was reached: only a used limit grows. */
  noteLimitReached(nowMs: number): void {
    this.windowAt(nowMs).limitReached = true;
  }

  /** One completed call. Returns the change to report when the limit (or the baseline) moved markedly. */
  record(call: LimioCallReport, nowMs: number): LimitChange | undefined {
    this.#lastAnswerWasOverload = false;
    if (call.kind === 'other') return undefined;
    if (call.kind === 'overload') return this.recordOverload(call, nowMs);
    if (call.kind === 'upstream') return this.recordUpstream(call, nowMs);
    this.noteRunEnded(call.latencyMs);
    this.#upstreamRun = 0;
    const window = this.windowAt(nowMs);
    window.latencies.push(call.latencyMs);
    const probe = this.probeAt(call.startedAtMs);
    if (probe) {
      window.probed = true;
      if (call.startedAtMs >= probe.measureFromMs) {
        this.addProbeSample(probe.startMs, call.latencyMs);
        // Taken at once, not when the probe is over: a paced container's next answer may be many seconds away.
        const remeasured = this.applyProbe();
        if (remeasured) return remeasured;
      }
    }
    if (nowMs - window.startedAtMs < this.windowMs()) return undefined;
    this.#window = undefined;
    return this.closeWindow(window, nowMs);
  }

  /**
   * The 502 share of unloaded Limio (decayed, so a Limio whose upstream recovers is trusted again), and the 502s in
   * a row that it makes unlikely enough to be chance: 1 when Limio never fails unloaded, 4 at 30 %.
   */
  upstreamRunForOverload(): number {
    const { upstream, answers } = this.#unloadedShare;
    if (answers < UPSTREAM_SHARE_MIN_ANSWERS) return 1;
    const share = upstream / answers;
    if (share <= 0) return 1;
    if (share >= 1) return UPSTREAM_RUN_MAX;
    return clamp(Math.ceil(Math.log(UPSTREAM_RUN_CHANCE) / Math.log(share)), 1, UPSTREAM_RUN_MAX);
  }

  /**
   * A 502 is overload when load explains it: nothing has been served yet (a Limio that only refuses is not
   * failing at random; nor can its latency be judged), served latency is beyond the tolerance (the capacity is
   * spent: Limio slows down before it refuses), or it ends a run of 502s without a success that the unloaded
   * share makes unlikely. Otherwise it is Limio's upstream failing at random: no cut. That share is learned only
   * from runs that a success at unloaded latency ended (noteRunEnded): random failures do not depend on load,
   * refusals for capacity come while Limio serves slower, so they cannot teach the limit to ignore them (as the
   * share of the last N answers did, which rose with the load it should have cut).
   */
  private recordUpstream(call: LimioCallReport, nowMs: number): LimitChange | undefined {
    this.#upstreamRun += 1;
    if (this.#unloadedLatencyMs === undefined || this.servedLatencyElevated()) return this.recordOverload(call, nowMs);
    const run = this.upstreamRunForOverload();
    // Where Limio fails at random, a run alone is not taken to mean that a probe met a loaded Limio: its latencies stay.
    if (this.#upstreamRun >= run) return this.recordOverload(call, nowMs, { keepProbe: run > 1 });
    return undefined;
  }

  /** Whether the latency Limio serves at now (the window's median so far, else the last window's) is beyond the tolerance. */
  private servedLatencyElevated(): boolean {
    const unloaded = this.#unloadedLatencyMs;
    if (unloaded === undefined) return false;
    const target = 1 + this.settings.latencyTolerance;
    const latencies = this.#window?.latencies ?? [];
    if (latencies.length > 0) return median(latencies) > target * unloaded;
    return (this.#lastRatio ?? 1) > target;
  }

  /**
   * A success ends a run of 502s: when it was served at unloaded latency (within half the tolerance), Limio had
   * capacity to spare while they failed, so they failed at random and count towards the unloaded share, with
   * the success. A success served slower says the run may have been refusals for load: none of it counts.
   */
  private noteRunEnded(latencyMs: number): void {
    const unloaded = this.#unloadedLatencyMs;
    if (unloaded === undefined || latencyMs > (1 + this.settings.latencyTolerance / 2) * unloaded) return;
    const share = this.#unloadedShare;
    const weight = UPSTREAM_SHARE_DECAY ** (this.#upstreamRun + 1);
    share.upstream = share.upstream * weight + this.#upstreamRun;
    share.answers = share.answers * weight + this.#upstreamRun + 1;
  }

  /**
   * Cut at once, not at the window's end: a refused call frees its slot in milliseconds, and every call admitted
   * meanwhile would be refused too. Once per window, though: the answers to calls admitted before the cut say
   * nothing new, and cutting for each would compound (eight answers at 0.7 would leave 6 % of the limit).
   */
  private recordOverload(
    call: LimioCallReport,
    nowMs: number,
    options: { keepProbe?: boolean } = {},
  ): LimitChange | undefined {
    this.#lastAnswerWasOverload = true;
    if (call.retryAfterSeconds !== undefined && call.retryAfterSeconds > 0) {
      const pauseSeconds = Math.min(call.retryAfterSeconds, RETRY_AFTER_MAX_SECONDS);
      this.#pausedUntilMs = Math.max(this.#pausedUntilMs, nowMs + pauseSeconds * 1000);
    }
    const sinceLastCut = nowMs - this.#lastOverloadCutAtMs;
    // A probe that met refusals did not meet an unloaded Limio: its latencies would raise the baseline.
    const probe = this.probeAt(call.startedAtMs);
    if (probe && call.startedAtMs >= probe.measureFromMs && !options.keepProbe) {
      const taken = this.#probeSamples;
      if (taken?.probeStartMs === probe.startMs && taken.latencies.length > 0 && !taken.void)
        this.#unloadedLatencyMs = taken.before;
      this.#probeSamples = { probeStartMs: probe.startMs, latencies: [], void: true };
    }
    if (sinceLastCut < this.windowMs()) return undefined;
    this.#lastOverloadCutAtMs = nowMs;
    this.#limitBeforeLatencyCuts = undefined;
    // What the window gathered before the cut describes the old limit.
    this.#window = undefined;
    return this.moveTo(this.#limit * OVERLOAD_CUT, 'overload', undefined);
  }

  private windowMs(): number {
    return Math.max(this.#unloadedLatencyMs ?? 0, WINDOW_MIN_MS);
  }

  private closeWindow(window: Window, nowMs: number): LimitChange | undefined {
    const from = this.#limit;
    // Calls admitted before the last cut end within a latency of it; their latency describes the old limit.
    if (window.latencies.length === 0 || window.startedAtMs < this.#lastOverloadCutAtMs + this.windowMs())
      return undefined;
    const latencyMs = median(window.latencies);
    if (this.#unloadedLatencyMs === undefined || latencyMs < this.#unloadedLatencyMs)
      this.#unloadedLatencyMs = latencyMs;
    const unloaded = this.#unloadedLatencyMs;
    const ratio = latencyMs / unloaded;
    this.#lastRatio = ratio;
    // A probe's halved load says nothing about the full limit's.
    if (window.probed) return undefined;
    const target = 1 + this.settings.latencyTolerance;
    if (ratio > target) {
      // The gradient: when Limio shares K servers, latency = unloaded × n / K beyond K, so every container
      // cutting by target / ratio brings the fleet to target × K in one window, whatever their number.
      this.#limitBeforeLatencyCuts ??= from;
      return this.moveTo(from * Math.max(LATENCY_CUT_MAX, target / ratio), 'latency', latencyMs);
    }
    // Before its first probe a container may have met a Limio loaded by the others and taken that latency for
    // unloaded: growing against it would take a share from those that measured it right.
    if (!window.limitReached || !this.#probed) return undefined;
    // Time-based, so a container's growth is proportional to its share: the fleet grows by the same factor
    // whether 1 or 50 containers run. Scaled down as latency nears the target, so it settles instead of
    // overshooting into Limio's refusals.
    const latencies = Math.min((nowMs - window.startedAtMs) / unloaded, GROWTH_LATENCIES_PER_WINDOW_MAX);
    const headroom = clamp((target - ratio) / (target - 1), 0, 1);
    const growth = 1 + (GROWTH_PER_LATENCY ** latencies - 1) * headroom;
    this.#limitBeforeLatencyCuts = undefined;
    return this.moveTo(from * growth, 'growth', latencyMs);
  }

  private moveTo(limit: number, reason: LimitChangeReason, latencyMs: number | undefined): LimitChange | undefined {
    const to = clamp(limit, this.settings.floor, this.settings.ceiling);
    const from = this.#reportedLimit;
    this.#limit = to;
    if (!isMarked(from, to)) return undefined;
    this.#reportedLimit = to;
    return {
      from,
      to,
      reason,
      ...(latencyMs !== undefined && { latencyMs }),
      ...(this.#unloadedLatencyMs !== undefined && { unloadedLatencyMs: this.#unloadedLatencyMs }),
    };
  }

  private addProbeSample(probeStartMs: number, latencyMs: number): void {
    if (this.#probeSamples?.probeStartMs !== probeStartMs)
      this.#probeSamples = { probeStartMs, latencies: [], void: false };
    if (!this.#probeSamples.void) this.#probeSamples.latencies.push(latencyMs);
  }

  /**
   * The median latency of the calls started in a probe's measuring half becomes the unloaded latency, up or down:
   * so it cannot ratchet up under sustained load, and a Limio that really became slower is recognised within a
   * minute. Reported once per probe, when it moved markedly from the latency before it.
   */
  private applyProbe(): LimitChange | undefined {
    const samples = this.#probeSamples;
    if (!samples || samples.void || samples.latencies.length === 0) return undefined;
    samples.before ??= this.#unloadedLatencyMs;
    const { before } = samples;
    const measured = median(samples.latencies);
    this.#unloadedLatencyMs = measured;
    this.#probed = true;
    if (samples.reported || before === undefined || Math.abs(measured - before) < before * MARKED_CHANGE)
      return undefined;
    samples.reported = true;
    const from = this.#limit;
    // Limio itself became slower: the latency cuts since the limit last grew were cuts against that, not against
    // load (an overload answer would have cleared this), so they are undone instead of regrown from the floor.
    if (this.#limitBeforeLatencyCuts !== undefined && measured >= before * (1 + this.settings.latencyTolerance)) {
      this.#limit = Math.max(from, Math.min(this.#limitBeforeLatencyCuts, this.settings.ceiling));
      this.#reportedLimit = this.#limit;
    }
    this.#limitBeforeLatencyCuts = undefined;
    return { from, to: this.#limit, reason: 'remeasured', latencyMs: measured, unloadedLatencyMs: measured };
  }

  private probeLengthMs(): number {
    return clamp(4 * (this.#unloadedLatencyMs ?? 0), PROBE_MIN_MS, PROBE_MAX_MS);
  }

  private windowAt(nowMs: number): Window {
    this.#window ??= { startedAtMs: nowMs, latencies: [], limitReached: false, probed: false };
    return this.#window;
  }
}

/**
 * Admits calls under an AdaptiveLimit. A limit of 3.4 is 3 calls at once plus a fourth slot that, after each
 * use, stays idle for its latency × (1 / 0.4 − 1): on average 0.4 of a call. A limit below 1 is that paced slot
 * alone, so 50 containers at 0.05 put 2.5 calls in flight, not 50.
 *
 * A call refused for overload faster than a call costs keeps its slot until that cost has passed since it began:
 * a refusal frees a slot in milliseconds, and until the limit has come down (once a window) every call admitted
 * into that slot would be refused too, each freeing it for the next, dozens a second from one slot.
 */
export class LimioSlotGate {
  #inFlight = 0;
  /** When each slot held after a fast overload refusal becomes free. */
  #heldUntilMs: number[] = [];
  /**
   * The paced slot's last call: when it ended, what it cost, and the whole periods still owed for probe calls.
   * Its next start is worked out from the fraction admitted now, so a limit that moves acts at once: one that
   * was just above a whole number (a fraction near 0, a very long idle) and then fell is not held to that idle.
   */
  #paced = { endedAtMs: Number.NEGATIVE_INFINITY, costMs: 0, owedPeriods: 0 };
  #pacedSlotBusy = false;
  /** The probe call of a paced slot: the probe it belongs to, when it may start, whether it is the one running. */
  #probeCall: { probeStartMs: number; atMs: number; made: boolean } | undefined;
  #pacedCallIsProbe = false;

  constructor(
    readonly limit: AdaptiveLimit,
    private readonly random: () => number = Math.random,
  ) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /**
   * Now when a call may start now, else when to ask again: a time, or Infinity when only a call's end can free a
   * slot. A caller that asks on behalf of a waiting call tells the limit it was reached.
   */
  nextStartAt(nowMs: number): number {
    if (nowMs < this.limit.pausedUntilMs) return this.limit.pausedUntilMs;
    const admitted = this.limit.admittedLimit(nowMs);
    const whole = Math.floor(admitted);
    const busy = this.busySlots(nowMs);
    if (busy < whole) return nowMs;
    // Where the admitted limit or the slots held may change.
    const changesAt = Math.min(this.nextProbeEdge(nowMs), this.#heldUntilMs[0] ?? Number.POSITIVE_INFINITY);
    if (busy > whole || this.#pacedSlotBusy || admitted === whole) return changesAt;
    const freeAtMs = this.pacedSlotFreeAt(admitted - whole);
    if (freeAtMs <= nowMs) return nowMs;
    const probeCallAtMs = whole === 0 ? this.probeCallAt(nowMs) : undefined;
    return Math.max(nowMs, Math.min(freeAtMs, changesAt, probeCallAtMs ?? Number.POSITIVE_INFINITY));
  }

  /** Calls in flight and slots still held after fast overload refusals. */
  private busySlots(nowMs: number): number {
    while (this.#heldUntilMs.length > 0 && this.#heldUntilMs[0]! <= nowMs) this.#heldUntilMs.shift();
    return this.#inFlight + this.#heldUntilMs.length;
  }

  /** Idle for cost × (1 / fraction − 1) after each call: on average `fraction` of a call in flight. */
  private pacedSlotFreeAt(fraction: number): number {
    const { endedAtMs, costMs, owedPeriods } = this.#paced;
    return endedAtMs + costMs * (1 / fraction - 1) + (owedPeriods * costMs) / fraction;
  }

  /**
   * A container below one call in flight may wait longer than a probe between calls, and would never re-measure
   * the unloaded latency: it makes one call in each probe's measuring half, at a random instant so that a fleet
   * of them does not arrive at once, and pays for it by pushing its next call back a whole period.
   */
  private probeCallAt(nowMs: number): number | undefined {
    const probe = this.limit.probeAt(nowMs);
    if (!probe) return undefined;
    if (this.#probeCall?.probeStartMs !== probe.startMs) {
      const spanMs = Math.max(0, probe.endMs - probe.measureFromMs - (this.limit.unloadedLatencyMs ?? 0));
      this.#probeCall = {
        probeStartMs: probe.startMs,
        atMs: probe.measureFromMs + this.random() * spanMs,
        made: false,
      };
    }
    return this.#probeCall.made ? undefined : this.#probeCall.atMs;
  }

  /** Starts a call if one may start now; otherwise notes that the limit was reached (unless only paused). */
  tryStart(nowMs: number): boolean {
    if (this.nextStartAt(nowMs) > nowMs) {
      if (nowMs >= this.limit.pausedUntilMs) this.limit.noteLimitReached(nowMs);
      return false;
    }
    if (this.busySlots(nowMs) >= Math.floor(this.limit.admittedLimit(nowMs))) {
      this.#pacedSlotBusy = true;
      const admitted = this.limit.admittedLimit(nowMs);
      this.#pacedCallIsProbe = this.pacedSlotFreeAt(admitted - Math.floor(admitted)) > nowMs;
      if (this.#pacedCallIsProbe) this.#probeCall!.made = true;
      // A call on its own schedule pays what was owed.
      else this.#paced.owedPeriods = 0;
    }
    this.#inFlight += 1;
    return true;
  }

  finish(call: LimioCallReport, nowMs: number): LimitChange | undefined {
    this.#inFlight -= 1;
    const pacedSlot = this.#pacedSlotBusy;
    if (pacedSlot) {
      // Whichever call ends frees the paced slot: the calls are alike, only their number counts.
      this.#pacedSlotBusy = false;
      // A refused call costs Limio nothing, but the slot's share is paced by what a call costs: else a refusal
      // would free it for another refusal within milliseconds.
      const costMs = Math.max(call.latencyMs, this.limit.unloadedLatencyMs ?? UNMEASURED_CALL_COST_MS);
      this.#paced = {
        endedAtMs: nowMs,
        costMs,
        owedPeriods: this.#paced.owedPeriods + (this.#pacedCallIsProbe ? 1 : 0),
      };
      this.#pacedCallIsProbe = false;
    }
    const change = this.limit.record(call, nowMs);
    // The paced slot is already idled for a call's cost after every use.
    const costMs = this.limit.unloadedLatencyMs ?? UNMEASURED_CALL_COST_MS;
    if (!pacedSlot && this.limit.lastAnswerWasOverload && call.latencyMs < costMs) {
      this.#heldUntilMs.push(call.startedAtMs + costMs);
      this.#heldUntilMs.sort((a, b) => a - b);
    }
    return change;
  }

  private nextProbeEdge(nowMs: number): number {
    const probe = this.limit.probeAt(nowMs);
    return probe ? probe.endMs : Math.floor(nowMs / PROBE_PERIOD_MS) * PROBE_PERIOD_MS + PROBE_PERIOD_MS;
  }
}

function isMarked(from: number, to: number): boolean {
  if (Math.abs(to - from) >= from * MARKED_CHANGE) return true;
  return Math.min(from, to) < 2 && Math.floor(from) !== Math.floor(to);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
