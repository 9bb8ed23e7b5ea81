import type { SyncRequest } from '../shared/queue-message';
import { claimInFlight, type LedgerEntry } from './ledger-entry';

export interface LedgerTiming {
  /**
   * After a successful sync starts, messages it does not cover wait until this long after its start, so they all
   * come back together and share one call (the trailing edge). 0 turns holding off: the ledger then only spares
   * the calls for messages a sync already covers.
   */
  readonly cooldownSeconds: number;
  /**
   * How much the callout Lambda's clock (which stamps receivedAt) and the sync Lambda's clock (which stamps a sync's
   * start) may disagree. A message counts as covered only if it was received this much before the sync started, so
   * a skew up to the margin can never make a sync that started before a change look as if it started after.
   */
  readonly clockMarginSeconds: number;
}

export type LedgerFate =
  /** A successful sync started after this message was received: done without a Limio call. */
  | { readonly kind: 'covered'; readonly bySyncStartedAt: number }
  | { readonly kind: 'sync-now' }
  /** Put back (visibility) until `untilMs`, then decided again. */
  | { readonly kind: 'hold'; readonly untilMs: number; readonly reason: 'cooldown' | 'sync-in-flight' };

/**
 * What to do with one message, given its subscription's ledger entry (undefined: none, or the ledger could not be
 * read). Never 'covered' unless a recorded success started after the message arrived, so no change is dropped;
 * a missing or stale entry can only lead to 'sync-now'.
 */
export function ledgerFate(message: Pick<SyncRequest, 'receivedAt'>, entry: LedgerEntry | undefined, nowMs: number, timing: LedgerTiming): LedgerFate {
  const receivedAt = Date.parse(message.receivedAt);
  const lastSuccessStartedAt = entry?.lastSuccess?.startedAt;
  if (lastSuccessStartedAt !== undefined && receivedAt < lastSuccessStartedAt - timing.clockMarginSeconds * 1000) {
    return { kind: 'covered', bySyncStartedAt: lastSuccessStartedAt };
  }
  if (timing.cooldownSeconds === 0) return { kind: 'sync-now' };
  const cooldownMs = timing.cooldownSeconds * 1000;
  // Its start is not known to be after this message; whatever its answer, come back for the sync after it.
  if (claimInFlight(entry, nowMs) !== undefined) return { kind: 'hold', untilMs: nowMs + cooldownMs, reason: 'sync-in-flight' };
  if (lastSuccessStartedAt !== undefined && nowMs < lastSuccessStartedAt + cooldownMs) {
    return { kind: 'hold', untilMs: lastSuccessStartedAt + cooldownMs, reason: 'cooldown' };
  }
  return { kind: 'sync-now' };
}

/** A refused claim (another sync in flight, or one succeeded since the entry was read): wait as for one in flight. */
export function claimRefusedHold(nowMs: number, timing: LedgerTiming): Extract<LedgerFate, { kind: 'hold' }> {
  return { kind: 'hold', untilMs: nowMs + timing.cooldownSeconds * 1000, reason: 'sync-in-flight' };
}

/** A hold as an SQS visibility timeout: whole seconds, rounded up so the message never returns before its time. */
export function holdVisibilitySeconds(untilMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
}

/**
 * One subscription's messages of a batch, decided together from one entry: the covered ones are done, the rest
 * share one fate (they differ only in receivedAt, which only decides coverage), so they share one call or one hold.
 */
export function planSubscription<M extends Pick<SyncRequest, 'receivedAt'>>(
  messages: readonly M[],
  entry: LedgerEntry | undefined,
  nowMs: number,
  timing: LedgerTiming,
): { readonly covered: readonly M[]; readonly pending: readonly M[]; readonly fate: Exclude<LedgerFate, { kind: 'covered' }> | undefined } {
  const covered: M[] = [];
  const pending: M[] = [];
  let fate: Exclude<LedgerFate, { kind: 'covered' }> | undefined;
  for (const message of messages) {
    const decided = ledgerFate(message, entry, nowMs, timing);
    if (decided.kind === 'covered') covered.push(message);
    else {
      pending.push(message);
      fate = decided;
    }
  }
  return { covered, pending, fate };
}
