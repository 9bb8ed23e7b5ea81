import { DynamoDbLedgerStore } from '../ledger/dynamodb-ledger-store';
import { markQueuedFailOpen } from '../ledger/queued-mark';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/**
 * The port through which the fan-out marks `lastQueuedAt` (the latest receivedAt of a message queued for a
 * subscription) in the sync ledger, as every producer does, so the sweep counts the change pending until its sync
 * rather than as a missing callout. Without a ledger table it is a no-op, and only then.
 */
export interface QueuedMarks {
  /** Never throws: a failed mark costs at most a redundant sync, never a change. */
  markQueued(subscriptionIds: readonly string[], queuedAtMs: number): Promise<void>;
}

export const NO_LEDGER_QUEUED_MARKS: QueuedMarks = { markQueued: async () => undefined };

/** How long one page's marks may take: the fan-out reads its next page meanwhile only once they are done. */
const MARKS_TIMEOUT_MS = 5_000;

/** The ledger store's own mark (one conditional UpdateItem that only raises it), as the callout and the sweep write it. */
export class DynamoDbQueuedMarks implements QueuedMarks {
  readonly #store: DynamoDbLedgerStore;

  constructor(
    client: DynamoDBClient,
    tableName: string,
    private readonly onFailure: (failed: number, error: string) => void = () => undefined,
  ) {
    this.#store = new DynamoDbLedgerStore(client, tableName);
  }

  async markQueued(subscriptionIds: readonly string[], queuedAtMs: number): Promise<void> {
    const result = await markQueuedFailOpen(this.#store, subscriptionIds, queuedAtMs, MARKS_TIMEOUT_MS);
    if (result.unmarked.length > 0) this.onFailure(result.unmarked.length, result.failure ?? 'not marked in time');
  }
}
