import { AdaptiveLimit, LimioSlotGate, type AdaptiveLimitSettings } from '../../functions/sync/adaptive-limit';

/**
 * A fleet of sync containers, each with its own AdaptiveLimit and a backlog that never runs dry, against a
 * simulated Limio, in virtual time (no timers: each step jumps to the next call's end or the next instant a
 * container may start one). Limio has `capacity` servers shared by every call in flight (processor sharing: a
 * call's work, `latencyMs`, is served at min(1, K / n)) and refuses a call with 502 at once beyond 1.5 K; with a
 * `failureRate`, that share of the calls it would serve fails at once with 502 too, whatever the load (Limio's
 * upstream failing at random).
 */
export interface SimulatedLimio {
  capacity: number;
  latencyMs: number;
  failureRate?: number;
}

export interface FleetWindow {
  /** Time-weighted mean calls in flight at Limio. */
  readonly meanInFlight: number;
  /** Successful calls per second. */
  readonly goodputPerSecond: number;
  /** Refused for capacity (beyond 1.5 K). */
  readonly refused: number;
  readonly failedAtRandom: number;
  readonly completed: number;
  readonly meanLimit: number;
}

interface Call {
  readonly container: number;
  readonly startedAtMs: number;
  remainingWorkMs: number;
}

const REFUSAL_LATENCY_MS = 2;

export class FleetSimulation {
  readonly limits: AdaptiveLimit[];
  readonly gates: LimioSlotGate[];
  nowMs: number;
  #calls: Call[] = [];
  #refusals: Array<{ container: number; startedAtMs: number; endsAtMs: number; random: boolean }> = [];
  #log: Array<{ atMs: number; inFlight: number }> = [];
  #completions: Array<{ atMs: number; ok: boolean; random?: boolean }> = [];
  readonly #failures: () => number;

  constructor(
    readonly containers: number,
    settings: AdaptiveLimitSettings,
    readonly limio: SimulatedLimio,
    /** Epoch ms of the start: where the run falls against the wall-clock-aligned probes. */
    startMs = 10_000,
    /** How the containers hear a random failure: a 502 (`upstream`), or, to compare, as an answer that always cuts. */
    readonly options: { readonly randomFailureKind?: 'upstream' | 'overload' } = {},
  ) {
    this.nowMs = startMs;
    this.#failures = seededRandom(containers * 7919 + 13);
    this.limits = Array.from({ length: containers }, () => new AdaptiveLimit(settings));
    this.gates = this.limits.map((limit, index) => new LimioSlotGate(limit, seededRandom(index + 1)));
  }

  /** Runs until `untilMs` after the current instant; then reports what Limio saw over the last `measureMs`. */
  runFor(durationMs: number): void {
    const endMs = this.nowMs + durationMs;
    while (this.nowMs < endMs) {
      this.startWhatMayStart();
      const step = Math.min(this.nextCompletionAtMs(), this.nextWakeAtMs(), endMs) - this.nowMs;
      this.advance(Math.max(step, 0));
    }
  }

  /** What Limio saw from `fromMs` (absolute) to now. */
  windowSince(fromMs: number): FleetWindow {
    let weighted = 0;
    for (let i = 0; i < this.#log.length; i++) {
      const entry = this.#log[i]!;
      const next = this.#log[i + 1]?.atMs ?? this.nowMs;
      const start = Math.max(entry.atMs, fromMs);
      if (next > start) weighted += entry.inFlight * (next - start);
    }
    const seconds = (this.nowMs - fromMs) / 1000;
    const inWindow = this.#completions.filter((completion) => completion.atMs >= fromMs);
    return {
      meanInFlight: weighted / (this.nowMs - fromMs),
      goodputPerSecond: inWindow.filter((completion) => completion.ok).length / seconds,
      refused: inWindow.filter((completion) => !completion.ok && !completion.random).length,
      failedAtRandom: inWindow.filter((completion) => completion.random).length,
      completed: inWindow.length,
      meanLimit: this.limits.reduce((sum, limit) => sum + limit.limit, 0),
    };
  }

  /** The first instant from `fromMs` on after which Limio's calls in flight stayed at or under `bound`. */
  inFlightAtOrUnderFrom(fromMs: number, bound: number): number | undefined {
    let settledAt: number | undefined = fromMs;
    for (const entry of this.#log) {
      if (entry.atMs < fromMs) {
        if (entry.inFlight > bound) settledAt = undefined;
        continue;
      }
      if (entry.inFlight > bound) settledAt = undefined;
      else settledAt ??= entry.atMs;
    }
    return settledAt;
  }

  private startWhatMayStart(): void {
    for (let container = 0; container < this.containers; container++) {
      const gate = this.gates[container]!;
      while (gate.tryStart(this.nowMs)) {
        if (this.#calls.length >= Math.floor(1.5 * this.limio.capacity)) {
          this.#refusals.push({
            container,
            startedAtMs: this.nowMs,
            endsAtMs: this.nowMs + REFUSAL_LATENCY_MS,
            random: false,
          });
        } else if (this.#failures() < (this.limio.failureRate ?? 0)) {
          this.#refusals.push({
            container,
            startedAtMs: this.nowMs,
            endsAtMs: this.nowMs + REFUSAL_LATENCY_MS,
            random: true,
          });
        } else {
          this.#calls.push({ container, startedAtMs: this.nowMs, remainingWorkMs: this.limio.latencyMs });
          this.logInFlight();
        }
      }
    }
  }

  private rate(): number {
    return Math.min(1, this.limio.capacity / Math.max(this.#calls.length, 1));
  }

  private nextCompletionAtMs(): number {
    let next = Number.POSITIVE_INFINITY;
    const rate = this.rate();
    for (const call of this.#calls) next = Math.min(next, this.nowMs + call.remainingWorkMs / rate);
    for (const refusal of this.#refusals) next = Math.min(next, refusal.endsAtMs);
    return next;
  }

  private nextWakeAtMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const gate of this.gates) next = Math.min(next, gate.nextStartAt(this.nowMs));
    // A gate that may start now has just been asked and refused by its own caller: never a zero step.
    return next <= this.nowMs ? this.nowMs + 1 : next;
  }

  private advance(stepMs: number): void {
    const rate = this.rate();
    for (const call of this.#calls) call.remainingWorkMs -= stepMs * rate;
    this.nowMs += stepMs;
    const done = this.#calls.filter((call) => call.remainingWorkMs <= 1e-3);
    if (done.length > 0) {
      this.#calls = this.#calls.filter((call) => call.remainingWorkMs > 1e-3);
      this.logInFlight();
    }
    for (const call of done) {
      this.#completions.push({ atMs: this.nowMs, ok: true });
      this.gates[call.container]!.finish(
        { startedAtMs: call.startedAtMs, latencyMs: this.nowMs - call.startedAtMs, kind: 'ok' },
        this.nowMs,
      );
    }
    const refused = this.#refusals.filter((refusal) => refusal.endsAtMs <= this.nowMs);
    this.#refusals = this.#refusals.filter((refusal) => refusal.endsAtMs > this.nowMs);
    for (const refusal of refused) {
      this.#completions.push({ atMs: this.nowMs, ok: false, random: refusal.random });
      // A 502 either way, as the Limio sandbox answers: the limit has to tell them apart.
      const kind = refusal.random ? (this.options.randomFailureKind ?? 'upstream') : 'upstream';
      this.gates[refusal.container]!.finish(
        { startedAtMs: refusal.startedAtMs, latencyMs: REFUSAL_LATENCY_MS, kind },
        this.nowMs,
      );
    }
  }

  private logInFlight(): void {
    this.#log.push({ atMs: this.nowMs, inFlight: this.#calls.length });
  }
}

/** Deterministic, so every run of the simulation is the same run (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
