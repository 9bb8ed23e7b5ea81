import { ConditionalCheckFailedException, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../ledger/dynamodb-ledger-store';
import { expiresAtFor } from '../ledger/ledger-entry';

/**
 * The port through which the fan-out marks `lastQueuedAt` (the latest time a message for a subscription was put on
 * a queue) in the sync ledger, as every producer is to (design i22, "Coverage"). The ledger store of this branch
 * has no such method yet (another branch adds `markQueued` to it): until it lands, the fan-out writes the
 * attribute itself, one UpdateItem per subscription that only moves it forward. Without a ledger table it is a
 * no-op, and only then.
 */
export interface QueuedMarks {
  /** Never throws: a failed mark costs at most a redundant sync, never a change. */
  markQueued(subscriptionIds: readonly string[], queuedAtMs: number): Promise<void>;
}

export const NO_LEDGER_QUEUED_MARKS: QueuedMarks = { markQueued: async () => undefined };

export const LAST_QUEUED_AT_ATTRIBUTE = 'lastQueuedAt';

/** Marks at once per call at most: a page of 2,000 must not open 2,000 connections. */
const MAX_MARKS_IN_FLIGHT = 25;

export class DynamoDbQueuedMarks implements QueuedMarks {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly onFailure: (failed: number, error: string) => void = () => undefined,
  ) {}

  async markQueued(subscriptionIds: readonly string[], queuedAtMs: number): Promise<void> {
    let failed = 0;
    let lastError = '';
    const ids = [...new Set(subscriptionIds)];
    for (let start = 0; start < ids.length; start += MAX_MARKS_IN_FLIGHT) {
      await Promise.all(
        ids.slice(start, start + MAX_MARKS_IN_FLIGHT).map(async (subscriptionId) => {
          try {
            await this.client.send(
              new UpdateItemCommand({
                TableName: this.tableName,
                Key: { [LEDGER_PARTITION_KEY]: { S: subscriptionId } },
                // A subscription never synced gets an item here: it expires as the ledger's own items do.
                UpdateExpression: 'SET #lastQueuedAt = :queuedAt, #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
                // max(old, new): a producer with an older time never moves the mark back.
                ConditionExpression: 'attribute_not_exists(#lastQueuedAt) OR #lastQueuedAt < :queuedAt',
                ExpressionAttributeNames: { '#lastQueuedAt': LAST_QUEUED_AT_ATTRIBUTE, '#expiresAt': LEDGER_TTL_ATTRIBUTE },
                ExpressionAttributeValues: { ':queuedAt': { N: String(queuedAtMs) }, ':expiresAt': { N: String(expiresAtFor(queuedAtMs)) } },
              }),
            );
          } catch (error) {
            if (error instanceof ConditionalCheckFailedException) return;
            failed += 1;
            lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
          }
        }),
      );
    }
    if (failed > 0) this.onFailure(failed, lastError);
  }
}
