import type { SyncOutcome } from '../limio';
import {
  AdaptiveLimit,
  LimioSlotGate,
  type AdaptiveLimitSettings,
  type LimioCallKind,
  type LimioCallReport,
  type LimitChange,
} from './adaptive-limit';
import { createLimiter } from './concurrency';

/** What `run` answers when no slot came within the wait bound: the task did not run. */
export const NO_SLOT = Symbol('no Limio slot within the wait bound');
export type NoSlot = typeof NO_SLOT;

/** What one task says about the Limio call it made; undefined when it made none (postponed, held). */
export type CallReportOf<T> = (value: T) => Omit<LimioCallReport, 'startedAtMs'> | undefined;

export interface LimioCallLimiter {
  /** Whether a task can be refused a slot: then whatever it needs only once it runs is done inside it. */
  readonly boundsWaits: boolean;
  run<T>(task: () => Promise<T>, waitMs: number, reportOf: CallReportOf<T>): Promise<T | NoSlot>;
}

export interface LimioLimitSnapshot {
  readonly limit: number;
  /** The most calls in flight at once since the last snapshot. */
  readonly maxInFlight: number;
  readonly unloadedLatencyMs: number | undefined;
  readonly latencyRatio: number | undefined;
}

/** SYNC_ADAPTIVE=false: today's fixed limit, waiting as long as it takes (the task itself checks the time left). */
export function fixedLimioLimiter(concurrency: number): LimioCallLimiter {
  const limit = createLimiter(concurrency);
  return { boundsWaits: false, run: (task) => limit(task) };
}

/**
 * How a Limio answer counts for the adaptive limit: only answers that say "too much" cut it. 429, 503, 504 and
 * no answer in time always say it; 502 ("upstream failed") only when the limit sees load behind it.
 */
export function limioCallKindOf(outcome: SyncOutcome): LimioCallKind {
  if (outcome.class === 'synced') return 'ok';
  if (outcome.class !== 'retryable' || outcome.tokenUnavailable) return 'other';
  // No status: a timeout or a network error.
  if (outcome.httpStatus === undefined) return 'overload';
  if (outcome.httpStatus === 502) return 'upstream';
  return [429, 503, 504].includes(outcome.httpStatus) ? 'overload' : 'other';
}

interface Waiter {
  readonly grant: (startedAtMs: number | undefined) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

export interface AdaptiveLimiterOptions {
  readonly now: () => number;
  readonly random?: () => number;
  readonly onLimitChange?: (change: LimitChange) => void;
}

/**
 * The adaptive limit in real time: calls wait in arrival order for the gate to admit them, at most their wait
 * bound, and report their latency and kind when they end. Shared by the container's overlapping invocations.
 */
export class AdaptiveLimioLimiter implements LimioCallLimiter {
  readonly boundsWaits = true;
  readonly limit: AdaptiveLimit;
  readonly #gate: LimioSlotGate;
  readonly #waiting: Waiter[] = [];
  #wake: ReturnType<typeof setTimeout> | undefined;
  #maxInFlight = 0;

  constructor(
    settings: AdaptiveLimitSettings,
    private readonly options: AdaptiveLimiterOptions,
  ) {
    this.limit = new AdaptiveLimit(settings);
    this.#gate = new LimioSlotGate(this.limit, options.random);
  }

  async run<T>(task: () => Promise<T>, waitMs: number, reportOf: CallReportOf<T>): Promise<T | NoSlot> {
    const startedAtMs = await this.acquire(waitMs);
    if (startedAtMs === undefined) return NO_SLOT;
    let report: Omit<LimioCallReport, 'startedAtMs'> | undefined;
    try {
      const value = await task();
      report = reportOf(value);
      return value;
    } finally {
      this.release({ startedAtMs, ...(report ?? { latencyMs: this.options.now() - startedAtMs, kind: 'other' }) });
    }
  }

  snapshot(): LimioLimitSnapshot {
    const snapshot = {
      limit: this.limit.limit,
      maxInFlight: this.#maxInFlight,
      unloadedLatencyMs: this.limit.unloadedLatencyMs,
      latencyRatio: this.limit.latencyRatio,
    };
    this.#maxInFlight = this.#gate.inFlight;
    return snapshot;
  }

  private acquire(waitMs: number): Promise<number | undefined> {
    const now = this.options.now();
    if (this.#waiting.length === 0 && this.start(now)) return Promise.resolve(now);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: resolve,
        timer: setTimeout(
          () => {
            const index = this.#waiting.indexOf(waiter);
            if (index >= 0) this.#waiting.splice(index, 1);
            resolve(undefined);
          },
          Math.max(0, waitMs),
        ),
      };
      this.#waiting.push(waiter);
      this.pump();
    });
  }

  private release(call: LimioCallReport): void {
    const change = this.#gate.finish(call, this.options.now());
    if (change) this.options.onLimitChange?.(change);
    this.pump();
  }

  private start(now: number): boolean {
    if (!this.#gate.tryStart(now)) return false;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#gate.inFlight);
    return true;
  }

  /** Hands free slots to the waiters in order; sets one timer for when the gate may admit the next. */
  private pump(): void {
    if (this.#wake !== undefined) clearTimeout(this.#wake);
    this.#wake = undefined;
    let now = this.options.now();
    while (this.#waiting.length > 0 && this.start(now)) {
      const waiter = this.#waiting.shift()!;
      clearTimeout(waiter.timer);
      waiter.grant(now);
      now = this.options.now();
    }
    if (this.#waiting.length === 0) return;
    const nextMs = this.#gate.nextStartAt(now);
    if (Number.isFinite(nextMs)) this.#wake = unref(setTimeout(() => this.pump(), Math.max(1, nextMs - now)));
  }
}

function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
