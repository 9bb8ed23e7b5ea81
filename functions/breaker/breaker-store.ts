import {
  EMPTY_WINDOW,
  INITIAL_BREAKER_STATE,
  type BreakerPhase,
  type BreakerState,
  type OutcomeWindow,
} from './breaker-state';

/**
 * Where the breaker's state lives, shared by every sync Lambda instance, the probe and the CLI: DynamoDB in
 * AWS (dynamodb-store.ts), memory in the local runtime and in tests (this file). Both keep the same contract.
 */
export interface BreakerStore {
  /** The stored breaker; INITIAL_BREAKER_STATE (closed, version 0) when nothing was ever written. */
  read(): Promise<StoredBreaker>;
  /** Writes `next` only if the stored version is still `expectedVersion`; false when another writer won. */
  write(next: BreakerState, expectedVersion: number): Promise<boolean>;
  /** Adds one batch's counts to a bucket atomically and returns the bucket's totals after the add. */
  addOutcomes(key: BucketKey, counts: OutcomeCounts, expiresAtSeconds: number): Promise<BucketTotals>;
  readBucket(key: BucketKey): Promise<BucketTotals | undefined>;
  /**
   * Remembers that the probe has acted on (announced, reconciled) this phase; only if it is still current. The
   * initial state of a never-written breaker counts as current: announcing it stores it.
   */
  markAnnounced(phase: BreakerPhase, since: number): Promise<void>;
}

export interface StoredBreaker {
  readonly breaker: BreakerState;
  /** The phase the probe last announced (metrics, logs, event source); absent before its first run. */
  readonly announced?: { readonly state: BreakerPhase; readonly since: number };
}

/** One bucket of outcomes: the phase it belongs to (its `since`) and the bucket's start, both epoch ms. */
export interface BucketKey {
  readonly phaseSince: number;
  readonly bucketStart: number;
}

export interface OutcomeCounts {
  readonly calls: number;
  readonly successes: number;
  readonly limioFailures: number;
  readonly tokenFailures: number;
  /** subscriptionSlot() of each subscription that failed on Limio's side. */
  readonly failingSlots: readonly number[];
}

export type BucketTotals = OutcomeCounts;

/**
 * Failing subscriptions are kept as hashed slots, not ids: the set stays bounded (at most SLOT_COUNT small
 * numbers per bucket, whatever the traffic) and holds no customer identifiers. A collision can only make two
 * subscriptions look like one, so the breaker can err towards staying closed, never towards tripping on one.
 */
const SLOT_COUNT = 1024;

export function subscriptionSlot(subscriptionId: string): number {
  // FNV-1a, 32 bit: cheap, stable across processes and good enough spread for a handful of ids.
  let hash = 0x811c9dc5;
  for (let i = 0; i < subscriptionId.length; i++) {
    hash ^= subscriptionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % SLOT_COUNT;
}

/** The window the rule judges: the union of a phase's recent buckets. */
export function windowOf(buckets: readonly (BucketTotals | undefined)[]): OutcomeWindow {
  const slots = new Set<number>();
  let window = EMPTY_WINDOW;
  for (const bucket of buckets) {
    if (!bucket) continue;
    bucket.failingSlots.forEach((slot) => slots.add(slot));
    window = {
      calls: window.calls + bucket.calls,
      successes: window.successes + bucket.successes,
      limioFailures: window.limioFailures + bucket.limioFailures,
      tokenFailures: window.tokenFailures + bucket.tokenFailures,
      failingSubscriptions: 0,
    };
  }
  return { ...window, failingSubscriptions: slots.size };
}

/** Buckets are aligned to the window width, so every instance adds to the same item. */
export function bucketStartOf(now: number, windowSeconds: number): number {
  const width = windowSeconds * 1000;
  return Math.floor(now / width) * width;
}

/** The local runtime's and the tests' store: the same contract in one process. */
export class InMemoryBreakerStore implements BreakerStore {
  #stored: StoredBreaker = { breaker: INITIAL_BREAKER_STATE };
  readonly #buckets = new Map<string, { totals: BucketTotals; expiresAtSeconds: number }>();

  constructor(initial?: BreakerState) {
    if (initial) this.#stored = { breaker: initial };
  }

  async read(): Promise<StoredBreaker> {
    return this.#stored;
  }

  async write(next: BreakerState, expectedVersion: number): Promise<boolean> {
    if (this.#stored.breaker.version !== expectedVersion) return false;
    this.#stored = { ...this.#stored, breaker: next };
    return true;
  }

  async addOutcomes(key: BucketKey, counts: OutcomeCounts, expiresAtSeconds: number): Promise<BucketTotals> {
    const id = bucketId(key);
    const previous = this.#buckets.get(id)?.totals;
    const totals: BucketTotals = {
      calls: (previous?.calls ?? 0) + counts.calls,
      successes: (previous?.successes ?? 0) + counts.successes,
      limioFailures: (previous?.limioFailures ?? 0) + counts.limioFailures,
      tokenFailures: (previous?.tokenFailures ?? 0) + counts.tokenFailures,
      failingSlots: [...new Set([...(previous?.failingSlots ?? []), ...counts.failingSlots])],
    };
    this.#buckets.set(id, { totals, expiresAtSeconds: this.#buckets.get(id)?.expiresAtSeconds ?? expiresAtSeconds });
    return totals;
  }

  async readBucket(key: BucketKey): Promise<BucketTotals | undefined> {
    return this.#buckets.get(bucketId(key))?.totals;
  }

  async markAnnounced(phase: BreakerPhase, since: number): Promise<void> {
    const current = this.#stored.breaker;
    if (current.state === phase && current.since === since)
      this.#stored = { ...this.#stored, announced: { state: phase, since } };
  }

  /** Drops buckets past their expiry, as DynamoDB's TTL would; the local runtime may call it now and then. */
  expireBuckets(nowSeconds: number): void {
    for (const [id, bucket] of this.#buckets) if (bucket.expiresAtSeconds <= nowSeconds) this.#buckets.delete(id);
  }

  get bucketCount(): number {
    return this.#buckets.size;
  }
}

export function bucketId(key: BucketKey): string {
  return `window#${key.phaseSince}#${key.bucketStart}`;
}
