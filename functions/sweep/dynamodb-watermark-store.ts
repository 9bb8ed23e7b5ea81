import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { SweepWatermark, WatermarkStore } from './sweep';

export interface DynamoDbWatermarkStoreOptions {
  readonly tableName: string;
  /** The table's string partition key attribute (e.g. `pk` of the breaker table). */
  readonly partitionKey: string;
  /**
   * The item's key: one watermark per tenant and entity, e.g. `sweep#rest.zuora.com#<entity>`. A '#' can never
   * appear in a subscription id, so the item can share a table keyed by subscription id without a collision.
   */
  readonly key: string;
  readonly now?: () => number;
}

/**
 * The sweep's watermark as one DynamoDB item: `completedUntil` (epoch ms), `sliceSeconds` (absent = the
 * configured maximum), `updatedAt`. A put is conditional on not moving `completedUntil` backwards, so a slow
 * sweep that overlapped a newer one (or a retried invocation) cannot undo its progress: such a put is dropped.
 * Reads are strongly consistent: the next scheduled run must see the last put.
 */
export class DynamoDbWatermarkStore implements WatermarkStore {
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly options: DynamoDbWatermarkStoreOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async get(): Promise<SweepWatermark | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { [this.options.partitionKey]: { S: this.options.key } },
        ConsistentRead: true,
      }),
    );
    const completedUntilMs = Number(Item?.completedUntil?.N);
    if (Item === undefined || !Number.isFinite(completedUntilMs)) return undefined;
    const sliceSeconds = Number(Item.sliceSeconds?.N);
    return { completedUntilMs, ...(Number.isInteger(sliceSeconds) && sliceSeconds > 0 && { sliceSeconds }) };
  }

  async put(next: SweepWatermark): Promise<void> {
    const keepsSlice = next.sliceSeconds !== undefined;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { [this.options.partitionKey]: { S: this.options.key } },
          UpdateExpression: `SET #completedUntil = :completedUntil, #updatedAt = :updatedAt${keepsSlice ? ', #sliceSeconds = :sliceSeconds' : ''}${keepsSlice ? '' : ' REMOVE #sliceSeconds'}`,
          ConditionExpression: 'attribute_not_exists(#completedUntil) OR #completedUntil <= :completedUntil',
          ExpressionAttributeNames: {
            '#completedUntil': 'completedUntil',
            '#updatedAt': 'updatedAt',
            '#sliceSeconds': 'sliceSeconds',
          },
          ExpressionAttributeValues: {
            ':completedUntil': { N: String(next.completedUntilMs) },
            ':updatedAt': { N: String(this.now()) },
            ...(keepsSlice && { ':sliceSeconds': { N: String(next.sliceSeconds) } }),
          },
        }),
      );
    } catch (error) {
      // A newer sweep already moved the watermark further: keeping its value is the point.
      if (error instanceof ConditionalCheckFailedException) return;
      throw error;
    }
  }
}

/**
 * The watermark item's key for a tenant and entity: `sweep#<Zuora host>#<entity id or "default">`. The sweep
 * Lambda, `npm start` and the CDK grant (the exact key in an IAM condition) must agree on it, so it is made here only.
 */
export function sweepWatermarkKey(config: { readonly zuoraBaseUrl: string; readonly entityId?: string }): string {
  return `sweep#${new URL(config.zuoraBaseUrl).host}#${config.entityId ?? 'default'}`;
}
