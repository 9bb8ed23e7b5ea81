import { applyBreakerEvent } from './apply-event';
import { INITIAL_BREAKER_STATE, type BreakerState } from './breaker-state';
import {
  bucketStartOf,
  subscriptionSlot,
  windowOf,
  type BreakerStore,
  type BucketKey,
  type BucketTotals,
  type OutcomeCounts,
} from './breaker-store';
import type { BreakerSettings } from './settings';

/** How one subscription's sync ended, as far as the breaker is concerned. */
export type SyncOutcomeForBreaker =
  /** Limio synced it. */
  | 'synced'
  /** Limio's fault: 5xx, 429, timeout, network error, 200 without success. */
  | 'limio-failure'
  /** Limio answered, refusing this subscription (terminal 4xx): Limio is up, so this counts as a healthy call. */
  | 'refused';

export interface BatchOutcomes {
  /** One entry per Limio sync call (per distinct subscription of the batch, not per message). */
  readonly syncs: readonly { readonly subscriptionId: string; readonly outcome: SyncOutcomeForBreaker }[];
  /** 1 when this batch's syncs found no token (see batchOutcomesOf), else 0. */
  readonly tokenFailures: number;
}

/** The sync Lambda's view of the breaker: what to do before a batch, and what to report after it. */
export interface BreakerGate {
  /** The breaker as of at most stateCacheSeconds ago. When `state === 'open'`, call Limio for nothing. */
  current(): Promise<BreakerState>;
  /** Records one batch (one UpdateItem), applies the rule, and returns the breaker after it. Never throws. */
  record(batch: BatchOutcomes): Promise<BreakerState>;
}

export interface BreakerGateOptions {
  readonly store: BreakerStore;
  readonly settings: BreakerSettings;
  readonly now?: () => number;
  /** Store failures are reported here and otherwise ignored: a DynamoDB hiccup must not stop syncing. */
  readonly onError?: (error: unknown, during: 'read' | 'record') => void;
  /** Called when this instance's write moved the breaker (the local runtime pauses its poller at once). */
  readonly onTransition?: (before: BreakerState, after: BreakerState) => void;
}

export function countsOf(batch: BatchOutcomes): OutcomeCounts {
  const failing = batch.syncs.filter((sync) => sync.outcome === 'limio-failure');
  return {
    calls: batch.syncs.length,
    successes: batch.syncs.filter((sync) => sync.outcome === 'synced').length,
    limioFailures: failing.length,
    tokenFailures: batch.tokenFailures,
    failingSlots: [...new Set(failing.map((sync) => subscriptionSlot(sync.subscriptionId)))],
  };
}

/**
 * One per sync Lambda container (module scope), so the cached state and the previous bucket are shared by the
 * container's invocations. Fails open: if the store cannot be read, the last known state (closed at first)
 * stands, and syncing goes on as it would without a breaker.
 */
export function createBreakerGate({
  store,
  settings,
  now = Date.now,
  onError,
  onTransition,
}: BreakerGateOptions): BreakerGate {
  let cached: BreakerState = INITIAL_BREAKER_STATE;
  let cachedAt = Number.NEGATIVE_INFINITY;
  // A bucket that has ended changes only by stragglers; reading it once per instance is enough.
  let previousBucket: { id: string; totals: BucketTotals | undefined } | undefined;

  let reading: Promise<BreakerState> | undefined;

  /**
   * One read at a time, shared by the callers that wait for it (the Limio slots of a batch ask together). A
   * failed read is trusted like a good one for BREAKER_STATE_CACHE_SECONDS: a stalled table then costs one
   * request timeout per period, not one per caller, and the invocation keeps its time for syncing.
   */
  function refresh(): Promise<BreakerState> {
    reading ??= readState().finally(() => {
      reading = undefined;
    });
    return reading;
  }

  async function readState(): Promise<BreakerState> {
    try {
      cached = (await store.read()).breaker;
    } catch (error) {
      onError?.(error, 'read');
    }
    cachedAt = now();
    return cached;
  }

  async function previousOf(key: BucketKey): Promise<BucketTotals | undefined> {
    const previousKey = { phaseSince: key.phaseSince, bucketStart: key.bucketStart - settings.windowSeconds * 1000 };
    // The phase began inside the current bucket: the previous one belongs to the phase before.
    if (previousKey.bucketStart + settings.windowSeconds * 1000 <= key.phaseSince) return undefined;
    const id = `${previousKey.phaseSince}#${previousKey.bucketStart}`;
    if (previousBucket?.id !== id) previousBucket = { id, totals: await store.readBucket(previousKey) };
    return previousBucket.totals;
  }

  return {
    async current() {
      return now() - cachedAt < settings.stateCacheSeconds * 1000 ? cached : refresh();
    },

    async record(batch) {
      const counts = countsOf(batch);
      if (counts.calls === 0 && counts.tokenFailures === 0) return cached;
      try {
        const state = now() - cachedAt < settings.stateCacheSeconds * 1000 ? cached : await refresh();
        const at = now();
        const key = { phaseSince: state.since, bucketStart: bucketStartOf(at, settings.windowSeconds) };
        const totals = await store.addOutcomes(key, counts, at / 1000 + settings.bucketTtlSeconds);
        const window = windowOf([totals, await previousOf(key)]);
        const applied = await applyBreakerEvent(
          store,
          { type: 'window', window },
          at,
          settings,
          state,
          (latest) => latest.since === state.since,
        );
        if (applied.changed || applied.after.version !== state.version) {
          cached = applied.after;
          cachedAt = at;
        }
        if (applied.changed) onTransition?.(applied.before, applied.after);
        return cached;
      } catch (error) {
        onError?.(error, 'record');
        return cached;
      }
    },
  };
}
