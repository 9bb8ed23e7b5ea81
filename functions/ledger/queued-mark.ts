import type { LedgerStore } from './ledger-store';

/** Mark writes one producer has in flight at once: a callout naming hundreds of subscriptions opens a few connections, not hundreds. */
const MAX_CONCURRENT_MARKS = 8;

export interface QueuedMarkResult {
  /** Subscriptions whose mark failed or was not written in time. */
  readonly unmarked: readonly string[];
  /** Why, for the log; absent when every mark was written. */
  readonly failure?: string;
}

/**
 * Marks `lastQueuedAt` for messages a producer has just put on the queue (after the send succeeded), never
 * failing and never longer than `timeoutMs`. `queuedAtMs` is the messages' receivedAt, taken before the send, so a
 * sync that served the message cannot have started before the mark by the producer's clock. A missing mark only
 * makes the sweep queue the change again (one redundant sync), so the caller logs it and goes on: fail open.
 */
export async function markQueuedFailOpen(
  store: LedgerStore,
  subscriptionIds: readonly string[],
  queuedAtMs: number,
  timeoutMs: number,
): Promise<QueuedMarkResult> {
  const ids = [...new Set(subscriptionIds)];
  const marked = new Set<string>();
  let failure: string | undefined;
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      try {
        await store.raiseMark(id, 'lastQueuedAt', queuedAtMs);
        marked.add(id);
      } catch (error) {
        failure ??= error instanceof Error ? error.message : String(error);
      }
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      failure ??= `the ledger did not answer within ${timeoutMs} ms`;
      // Nothing further starts once the caller has stopped waiting.
      next = ids.length;
      resolve();
    }, timeoutMs);
  });
  try {
    await Promise.race([
      Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_MARKS, ids.length) }, worker)),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
  const unmarked = ids.filter((id) => !marked.has(id));
  return { unmarked, ...(unmarked.length > 0 && failure !== undefined && { failure }) };
}
