import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../../functions/ledger/dynamodb-ledger-store';
import { keepParentLogicalIds } from './logical-ids';

export interface SyncLedgerProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The sync ledger: read once per sync batch (BatchGetItem) and written once per Limio call, so on-demand billing
 * follows the traffic. Retained with the other stateful resources: it is what lets a redelivered or swept change
 * cost no second Limio call. Encrypted at rest with the AWS owned key, like the breaker table: it holds
 * subscription numbers, times, Limio ids and error texts, no secret.
 */
export class SyncLedger extends Construct {
  /** Partition key `subscriptionId`, TTL `expiresAt`; also holds the sweep's watermark item. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: SyncLedgerProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.table = new dynamodb.Table(this, 'LedgerTable', {
      partitionKey: { name: LEDGER_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }
}
