import type { SyncRequest } from '../shared/queue-message';
import { changeTimeOf, type LedgerDatedMessage } from './ledger-fate';

/** An explicit offset: a time without one would be read in this process's zone, not the tenant's. */
const WITH_OFFSET = /(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * What one successful sync proves it read: the latest `zuoraUpdatedAt` among the messages it served, or undefined.
 * Each of those changes was visible before its message was sent (Zuora calls out after it commits; the sweep
 * queues what it has read), and the sync started after receiving it. A value without an offset, or later than
 * its message's change time plus the clock margin (a mistyped template, or a body forged by someone who may send
 * to the queue), proves nothing and is left out: claiming too much would let the sweep skip a change never read.
 */
export function provenThroughOf(
  messages: readonly (Pick<SyncRequest, 'zuoraUpdatedAt'> & LedgerDatedMessage)[],
  clockMarginMs: number,
): number | undefined {
  let latest: number | undefined;
  for (const message of messages) {
    if (message.zuoraUpdatedAt === undefined || !WITH_OFFSET.test(message.zuoraUpdatedAt)) continue;
    const updatedMs = Date.parse(message.zuoraUpdatedAt);
    if (Number.isNaN(updatedMs) || updatedMs > changeTimeOf(message) + clockMarginMs) continue;
    latest = latest === undefined ? updatedMs : Math.max(latest, updatedMs);
  }
  return latest;
}
