import { nextBreakerState, type BreakerEvent, type BreakerState } from './breaker-state';
import type { BreakerStore } from './breaker-store';
import type { BreakerSettings } from './settings';

export interface AppliedEvent {
  readonly before: BreakerState;
  readonly after: BreakerState;
  /** True when this caller's write moved the breaker. */
  readonly changed: boolean;
}

/**
 * Read, decide with nextBreakerState, write conditionally; when another writer got there first, decide again
 * on what it wrote. A few rounds settle any race between the probe, the CLI and the sync instances.
 */
export async function applyBreakerEvent(
  store: BreakerStore,
  event: BreakerEvent,
  now: number,
  settings: BreakerSettings,
  start?: BreakerState,
  /** An event observed in one phase (a window of outcomes) means nothing once the breaker has moved on. */
  stillApplies: (current: BreakerState) => boolean = () => true,
): Promise<AppliedEvent> {
  let current = start ?? (await store.read()).breaker;
  for (let round = 0; round < 5; round++) {
    if (!stillApplies(current)) return { before: current, after: current, changed: false };
    const next = nextBreakerState(current, event, now, settings);
    if (next === current) return { before: current, after: current, changed: false };
    if (await store.write(next, current.version)) return { before: current, after: next, changed: true };
    current = (await store.read()).breaker;
  }
  throw new Error(`breaker state kept changing under ${event.type}; gave up after 5 rounds`);
}
