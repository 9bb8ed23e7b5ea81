import type { Context } from 'aws-lambda';
import type { QueuedMessage, Verdicts } from '../batch-messages';
import { LEDGER_CALL_TIMEOUT_MS, type LedgerSubscriptionPlan } from '../ledger-step';
import type { SyncContext } from '../sync-context';
import { doneAsCovered } from './covered';
import { holdForLedger } from './held-by-ledger';

/** Time the batch still needs after the second read: the holds' ChangeMessageVisibilityBatch and the response. */
const AFTER_SECOND_READ_MS = 2_000;

/**
 * Whether a subscription's messages wait only for another invocation's sync in flight, which will cover them
 * if it succeeds: worth a second read once this batch's own syncs are done, as that sync has often been
 * recorded by then. Otherwise each would come back in a second for one more receive only to be found covered.
 */
export function waitsOnlyForSyncInFlight(plan: LedgerSubscriptionPlan<QueuedMessage>): boolean {
  return (
    plan.syncNow.length === 0 && plan.held.length > 0 && plan.held.every(({ fate }) => fate.reason === 'sync-in-flight')
  );
}

/**
 * Carries out these subscriptions' plans once `batchSyncsDone` has settled: their covered messages at once, the
 * held ones after one more ledger read for all of them. What that read finds covered (a successful sync started
 * after the message arrived, ledgerFate's rule) is done; the rest is held as first planned. A failed or slow read
 * covers nothing, and with too little of the invocation left there is no second read: holding is always safe.
 */
export function lookAgainThenHold(
  sync: SyncContext,
  plans: readonly LedgerSubscriptionPlan<QueuedMessage>[],
  batchSyncsDone: Promise<unknown>,
  context: Context | undefined,
): Map<string, Promise<Verdicts>> {
  const { ledger } = sync;
  const secondRead = batchSyncsDone.then(async () => {
    const timeLeft =
      typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : Infinity;
    if (!ledger || timeLeft < LEDGER_CALL_TIMEOUT_MS + AFTER_SECOND_READ_MS) return undefined;
    return ledger.plan(new Map(plans.map((plan) => [plan.subscriptionId, plan.held.map(({ message }) => message)])));
  });
  return new Map(
    plans.map((plan) => {
      const { subscriptionId } = plan;
      const verdicts: Verdicts =
        plan.covered.length > 0
          ? doneAsCovered(sync, subscriptionId, plan.covered, plan.coveredBySyncStartedAt)
          : new Map();
      const rest = secondRead.then(async (again) => {
        const now = again?.get(subscriptionId);
        const coveredNow = new Set(now?.covered ?? []);
        if (now !== undefined && coveredNow.size > 0)
          doneAsCovered(sync, subscriptionId, now.covered, now.coveredBySyncStartedAt).forEach((verdict, id) =>
            verdicts.set(id, verdict),
          );
        const stillHeld = plan.held.filter(({ message }) => !coveredNow.has(message));
        if (stillHeld.length > 0)
          (await holdForLedger(sync, subscriptionId, stillHeld)).forEach((verdict, id) => verdicts.set(id, verdict));
        return verdicts;
      });
      return [subscriptionId, rest];
    }),
  );
}
