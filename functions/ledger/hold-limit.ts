import type { SubscriptionPlan } from './batch-plan';

/**
 * Every ledger hold is one more SQS receive, and receives are what MAX_ATTEMPTS (the handler's safety net) and
 * SQS's redrive (MAX_ATTEMPTS + 1, no reason given) count; SQS cannot tell a hold's receive from a failure's.
 * So ledger holds may spend at most a quarter of MAX_ATTEMPTS: a message received that often is synced (or found
 * covered) as it would be without a ledger, and the other three quarters stay for the retry budget (a 24 h budget
 * at the 15-minute backoff cap takes about 200 of the default 400). By default that is 100 receives, and a message
 * is held far fewer times than that: a cooldown hold only happens within cooldown + clock margin of its receipt
 * (6 s by default, each hold at least 1 s), a sync-in-flight hold only while another invocation's claimed sync is
 * in flight (at most its lease, the rest of that invocation's time).
 */
export function ledgerHoldReceiveLimit(maxAttempts: number): number {
  return Math.floor(maxAttempts / 4);
}

/**
 * The plan with its holds released when any of the subscription's waiting messages has been received `limit`
 * times or more: they all share one call now, without a claim (a refused claim would hold them again). Syncing
 * instead of holding is always safe: it is what the handler does without a ledger.
 */
export function releaseHoldsPastReceiveLimit<M>(
  plan: SubscriptionPlan<M>,
  receiveCountOf: (message: M) => number,
  limit: number,
): SubscriptionPlan<M> {
  const waiting = [...plan.held.map((held) => held.message), ...plan.syncNow];
  if (!waiting.some((message) => receiveCountOf(message) >= limit)) return plan;
  return { subscriptionId: plan.subscriptionId, covered: plan.covered, held: [], syncNow: waiting };
}
