import type { SyncOutcome } from '../limio';
import type { BatchOutcomes, SyncOutcomeForBreaker } from './sync-gate';

/**
 * The sync Lambda's retry table (functions/limio/classify-outcome.ts) in the breaker's terms, so the two never
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

/**
 * A sync outcome as the sync Lambda hands it over: `tokenUnavailable` marks a retryable failure that happened
 * because no token could be had (the token endpoint down or refusing the credentials), not at the sync call.
 */
export type ReportedSyncOutcome = SyncOutcome & { readonly tokenUnavailable?: boolean };

/**
 * One batch's record for the breaker: one entry per Limio sync (per distinct subscription), and a token failure
 * for a batch whose syncs found no token. The syncs of a batch share one token request, so a batch counts one
 * token failure however many of its syncs it failed; BREAKER_TOKEN_FAILURES (3) such batches open the breaker,
 * which matters when traffic is too thin for the share rule's minimum of calls.
 */
export function batchOutcomesOf(
  syncs: readonly { readonly subscriptionId: string; readonly outcome: ReportedSyncOutcome }[],
): BatchOutcomes {
  return {
    syncs: syncs.map(({ subscriptionId, outcome }) => ({ subscriptionId, outcome: breakerOutcomeOf(outcome) })),
    tokenFailures: syncs.some(({ outcome }) => outcome.tokenUnavailable === true) ? 1 : 0,
  };
}
