import type { SyncRequest } from '../shared/queue-message';
import type { LedgerLookup } from './fail-open';
import { planSubscription, type LedgerDatedMessage, type LedgerFate, type LedgerTiming } from './ledger-fate';

export interface SubscriptionPlan<M> {
  readonly subscriptionId: string;
  /** Done without a Limio call: delete them. */
  readonly covered: readonly M[];
  /** Put back, each until its own time (holdVisibilitySeconds). */
  readonly held: readonly { readonly message: M; readonly fate: Extract<LedgerFate, { kind: 'hold' }> }[];
  /** One Limio call for all of them. */
  readonly syncNow: readonly M[];
  /**
   * Claim before that call (store.claimSync with this expectation; refused: hold with claimRefusedHold; failed:
   * sync anyway). Absent when the entry is unknown or holding is off: sync without a claim, as without a ledger.
   */
  readonly claim?: { readonly expectedLastSuccessStartedAt: number | undefined };
}

/**
 * The ledger's part of one batch, from its one ledger read: per subscription, which messages are covered, which are
 * held, and which share one Limio call, and whether that call is claimed first. A subscription whose entry is
 * unknown (the read failed, timed out or left it unprocessed) is synced as it would be without a ledger.
 */
export function planLedgerBatch<M extends Pick<SyncRequest, 'subscriptionId'> & LedgerDatedMessage>(
  messages: readonly M[],
  lookup: LedgerLookup,
  nowMs: number,
  timing: LedgerTiming,
): SubscriptionPlan<M>[] {
  const bySubscription = new Map<string, M[]>();
  for (const message of messages)
    bySubscription.set(message.subscriptionId, [...(bySubscription.get(message.subscriptionId) ?? []), message]);
  const unknown = new Set(lookup.unknown);
  return [...bySubscription].map(([subscriptionId, group]) => {
    if (unknown.has(subscriptionId)) return { subscriptionId, covered: [], held: [], syncNow: group };
    const entry = lookup.entries.get(subscriptionId);
    const plan = planSubscription(group, entry, nowMs, timing);
    const claim =
      plan.syncNow.length > 0 && timing.cooldownSeconds > 0
        ? { claim: { expectedLastSuccessStartedAt: entry?.lastSuccess?.startedAt } }
        : {};
    return { subscriptionId, ...plan, ...claim };
  });
}
