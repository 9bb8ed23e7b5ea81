import type { LedgerEntry } from './ledger-entry';
import type { LedgerStore } from './ledger-store';

export interface LedgerLookup {
  readonly entries: ReadonlyMap<string, LedgerEntry>;
  /** Subscriptions whose entry is unknown (not read in time, or unprocessed): sync them as without a ledger. */
  readonly unknown: readonly string[];
  /** Why nothing could be read, for the log; absent when the read answered. */
  readonly failure?: string;
}

/**
 * The batch's one ledger read, never failing and never longer than `timeoutMs`: an unavailable or slow ledger
 * makes every entry unknown, and an unknown entry only ever leads to a sync (fail open: an extra Limio call, never
 * a dropped change). The store's client has its own timeouts; this bound also covers its UnprocessedKeys retries.
 */
export async function readLedgerFailOpen(
  store: LedgerStore,
  subscriptionIds: readonly string[],
  timeoutMs: number,
): Promise<LedgerLookup> {
  const ids = [...new Set(subscriptionIds)];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the ledger did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const read = await Promise.race([store.readMany(ids), deadline]);
    return { entries: read.entries, unknown: read.unread };
  } catch (error) {
    return { entries: new Map(), unknown: ids, failure: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
