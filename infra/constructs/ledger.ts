import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../../functions/ledger/dynamodb-ledger-store';
import type { LedgerMark } from '../../functions/ledger/ledger-entry';
import { keepParentLogicalIds } from './logical-ids';

/**
 * The ledger keys that are not a subscription's, as an IAM StringLike pattern: any with a '#'. No subscription id
 * can hold one whatever SUBSCRIPTION_ID_PATTERN says (the rule's path-safe characters), and the sweep's watermark
 * key and any other item sharing the table are named with one (dynamodb-watermark-store.ts). Matching `sweep#*`
 * alone would leave the next such item writable.
 */
export const LEDGER_KEY_NOT_A_SUBSCRIPTION = '*#*';

/**
 * For a role that writes subscription items only: the table also holds the sweep's watermark (`sweep#…`), which it
 * must never move. An explicit Deny holds whatever grant the role gets later, and ForAnyValue refuses a request if
 * any of its keys matches.
 */
export function denyNonSubscriptionItemsStatement(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'WriteOnlySubscriptionItemsOfLedger',
    effect: iam.Effect.DENY,
    actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
    resources: [table.tableArn],
    conditions: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [LEDGER_KEY_NOT_A_SUBSCRIPTION] } },
  });
}

const LEDGER_QUEUED_MARK: LedgerMark = 'lastQueuedAt';

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

/**
 * Producers (the callout Lambda, the sweep) mark `lastQueuedAt` on a subscription's item after queueing it
 * (functions/ledger/queued-mark.ts): one UpdateItem, and the only attributes it may name are the key, the mark and
 * the TTL, so a producer can neither forge a sync's record nor a provenThrough. Items whose key holds a '#' (the
 * sweep's watermark and anything else that shares the table) are not a subscription's: left out here, and denied
 * outright where the role has no other business with them.
 */
export function markQueuedStatement(table: dynamodb.ITable): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid: 'MarkQueuedInLedger',
    actions: ['dynamodb:UpdateItem'],
    resources: [table.tableArn],
    conditions: {
      'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [LEDGER_KEY_NOT_A_SUBSCRIPTION] },
      'ForAllValues:StringEquals': {
        'dynamodb:Attributes': [LEDGER_PARTITION_KEY, LEDGER_QUEUED_MARK, LEDGER_TTL_ATTRIBUTE],
      },
    },
  });
}
