import type { SyncOutcome } from '../sync/classify-outcome';
import type { SyncFailure } from './retry-budget';
import type { SyncOutcomeForBreaker } from './sync-gate';

/**
 * The sync Lambda's retry table (functions/sync/classify-outcome.ts) in the breaker's terms, so the two never
 * disagree about whose fault a failure is.
 */
export function breakerOutcomeOf(outcome: SyncOutcome): SyncOutcomeForBreaker {
  switch (outcome.class) {
    case 'synced':
      return 'synced';
    case 'terminal':
      // Limio answered and refused this one subscription: Limio itself is up.
      return 'refused';
    case 'retryable':
    case 'refresh':
      return 'limio-failure';
  }
}

/** What decideRetry needs to know about a failed sync. */
export function syncFailureOf(outcome: Exclude<SyncOutcome, { class: 'synced' }>): SyncFailure {
  if (outcome.class === 'terminal') return { kind: 'terminal', error: outcome.error };
  return {
    kind: 'limio',
    error: outcome.error,
    ...(outcome.class === 'retryable' && outcome.retryAfterSeconds !== undefined && { retryAfterSeconds: outcome.retryAfterSeconds }),
  };
}
