/**
 * The Limio sandbox's capacity model (issue #21 item 6): a Limio stand-in whose capacity is hidden, so the bridge
 * has something real to find and follow. With capacity K and n sync calls in flight when a call arrives (itself
 * counted):
 *   n <= K               served at the sandbox's latency;
 *   K < n <= floor(1.5K) served at latency × n / K (processor sharing: K calls' worth of work shared by n);
 *   n > floor(1.5K)      refused at once with 502, as an overloaded gateway in front of Limio answers.
 * The slower time is decided when the call arrives; calls already in flight keep theirs. At a steady n above K
 * that still serves K / latency calls a second (Little's law: n calls each taking latency × n / K), so pushing
 * past K buys only longer waits, then refusals: the signal an adaptive limiter reads. A latency of 0 has no
 * slowdown to show, only the refusals. Undefined capacity is unlimited: every call at the latency, as before.
 */

/** What LIMIO_SANDBOX_CAPACITY, LIMIO_SANDBOX_LATENCY_MS and the control route (local/limio-control.ts) accept. */
export const SANDBOX_CAPACITY_BOUNDS = { min: 1, max: 10_000 } as const;
export const SANDBOX_LATENCY_BOUNDS = { min: 0, max: 600_000 } as const;

export type CapacityVerdict = { readonly kind: 'serve'; readonly afterMs: number } | { readonly kind: 'refuse' };

/** Whole calls in flight beyond which new calls are refused: floor(1.5 × capacity). */
export function refusalThreshold(capacity: number): number {
  return Math.floor(1.5 * capacity);
}

/** What the sandbox does with a call that arrives when `inFlight` calls (itself included) are in flight. */
export function capacityVerdict(inFlight: number, capacity: number | undefined, latencyMs: number): CapacityVerdict {
  if (capacity === undefined || inFlight <= capacity) return { kind: 'serve', afterMs: latencyMs };
  if (inFlight > refusalThreshold(capacity)) return { kind: 'refuse' };
  return { kind: 'serve', afterMs: (latencyMs * inFlight) / capacity };
}

/** A capacity is a positive whole number of calls; undefined means unlimited. */
export function checkCapacity(capacity: number | undefined): number | undefined {
  if (capacity !== undefined && !(Number.isInteger(capacity) && capacity >= 1)) {
    throw new RangeError(`capacity must be a positive whole number of calls in flight, got ${capacity}`);
  }
  return capacity;
}
