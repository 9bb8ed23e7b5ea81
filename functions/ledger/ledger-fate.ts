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
   * How much the clocks that date a message (the callout Lambda's, SQS's) and the sync Lambda's clock (which stamps
   * a sync's start) may disagree. A message counts as covered only if its change time (changeTimeOf) is this much
   * before the sync started, so a skew up to the margin can never make a sync that started before a change look as
   * if it started after.
   */
  readonly clockMarginSeconds: number;
}

/** What the ledger judges a message by: its request's receivedAt and, when known, when SQS took it. */
export type LedgerDatedMessage = Pick<SyncRequest, 'receivedAt'> & {
  /** SQS SentTimestamp (epoch ms); absent when the record carried none. */
  readonly sentAtMs?: number;
};

/**
 * The time a message's change is judged by: the later of its receivedAt and its SentTimestamp. receivedAt is
 * stamped by whoever queued the message, which for `enqueue` and the CLI sweep is an operator's machine, whose
 * clock may run behind; the change was made before SQS took the message, so SQS's clock bounds it from above and a
 * slow clock cannot make a sync that started before the change count as covering it. A receivedAt ahead of SQS
 * only makes coverage stricter: a redundant sync at worst.
 */
export function changeTimeOf(message: LedgerDatedMessage): number {
  const receivedAt = Date.parse(message.receivedAt);
  return message.sentAtMs === undefined ? receivedAt : Math.max(receivedAt, message.sentAtMs);
}

export type LedgerFate =
  /** A successful sync started after this message's change (changeTimeOf): done without a Limio call. */
  | { readonly kind: 'covered'; readonly bySyncStartedAt: number }
  | { readonly kind: 'sync-now' }
  /** Put back (visibility) until `untilMs`, then decided again. */
  | { readonly kind: 'hold'; readonly untilMs: number; readonly reason: 'cooldown' | 'sync-in-flight' };

/**
 * How soon a message that a sync in flight will cover if it succeeds is looked at again: about one Limio call, and
 * SQS's visibility timeout is counted in whole seconds anyway.
 */
const LEDGER_RECHECK_MS = 1_000;

/**
 * What to do with one message, given its subscription's ledger entry (undefined: none, or the ledger could not be
 * read). Never 'covered' unless a recorded success started after the message's change (changeTimeOf), so no
 * change is dropped:
 * a missing entry means 'sync-now', and a stale one (older than the table) only makes the answer more cautious.
 * The caller syncs an entry it could not read without claiming it (fail open).
 */
export function ledgerFate(
  message: LedgerDatedMessage,
  entry: LedgerEntry | undefined,
  nowMs: number,
  timing: LedgerTiming,
): LedgerFate {
  const changedAt = changeTimeOf(message);
  const marginMs = timing.clockMarginSeconds * 1000;
  const lastSuccessStartedAt = entry?.lastSuccess?.startedAt;
  if (lastSuccessStartedAt !== undefined && changedAt < lastSuccessStartedAt - marginMs) {
    return { kind: 'covered', bySyncStartedAt: lastSuccessStartedAt };
  }
  if (timing.cooldownSeconds === 0) return { kind: 'sync-now' };
  const cooldownMs = timing.cooldownSeconds * 1000;
  const inFlight = claimInFlight(entry, nowMs);
  if (inFlight !== undefined) {
    // If it succeeds it covers this message: look again once it has likely answered. Otherwise the next sync
    // comes after its cooldown whatever its answer, so wait for that.
    const coveredIfItSucceeds = changedAt < inFlight.startedAt - marginMs;
    const untilMs = coveredIfItSucceeds
      ? nowMs + LEDGER_RECHECK_MS
      : Math.max(inFlight.startedAt + cooldownMs, nowMs + LEDGER_RECHECK_MS);
    return { kind: 'hold', untilMs, reason: 'sync-in-flight' };
  }
  if (lastSuccessStartedAt !== undefined && nowMs < lastSuccessStartedAt + cooldownMs) {
    return { kind: 'hold', untilMs: lastSuccessStartedAt + cooldownMs, reason: 'cooldown' };
  }
  return { kind: 'sync-now' };
}

/**
 * A refused claim: another invocation claimed the subscription between this one's read and its claim (so that
 * sync started after the read), or a sync succeeded since. Either way the entry has news: look again shortly,
 * and the next decision holds for the right time.
 */
export function claimRefusedHold(nowMs: number): Extract<LedgerFate, { kind: 'hold' }> {
  return { kind: 'hold', untilMs: nowMs + LEDGER_RECHECK_MS, reason: 'sync-in-flight' };
}

/** A hold as an SQS visibility timeout: whole seconds, rounded up so the message never returns before its time. */
export function holdVisibilitySeconds(untilMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
}

/**
 * One subscription's messages of a batch, decided together from one entry: the covered ones are done; the others
 * either all sync now (sharing one call) or are all held, each until its own time.
 */
export function planSubscription<M extends LedgerDatedMessage>(
  messages: readonly M[],
  entry: LedgerEntry | undefined,
  nowMs: number,
  timing: LedgerTiming,
): {
  readonly covered: readonly M[];
  readonly held: readonly { readonly message: M; readonly fate: Extract<LedgerFate, { kind: 'hold' }> }[];
  readonly syncNow: readonly M[];
} {
  const covered: M[] = [];
  const held: { message: M; fate: Extract<LedgerFate, { kind: 'hold' }> }[] = [];
  const syncNow: M[] = [];
  for (const message of messages) {
    const fate = ledgerFate(message, entry, nowMs, timing);
    if (fate.kind === 'covered') covered.push(message);
    else if (fate.kind === 'hold') held.push({ message, fate });
    else syncNow.push(message);
  }
  return { covered, held, syncNow };
}
