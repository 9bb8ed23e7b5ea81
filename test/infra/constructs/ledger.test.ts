import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SyncLedger } from '../../../infra/constructs/ledger';
import { cdkLogicalId } from '../../../infra/constructs/logical-ids';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../../../functions/ledger/dynamodb-ledger-store';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import { sweepWatermarkKey } from '../../../functions/sweep/dynamodb-watermark-store';
import { checkSubscriptionId, subscriptionIdRuleFrom } from '../../../functions/shared/subscription-id';
import { unbundledApp, sweepBridge, functionNamed, roleStatements, type Resources } from '../fixtures';

/** IAM's StringLike: `*` any run of characters, `?` any one, everything else itself. */
function stringLike(pattern: string, value: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`).test(value);
}

/** The sync ledger table (constructs/ledger.ts) and the sync Lambda's use of it. */

describe('sync ledger and reconciliation sweep (zuoraBaseUrl set)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let ledgerTableId: string;
  const resources = () => template.toJSON().Resources as Resources;

  beforeAll(() => {
    stack = sweepBridge();
    template = Template.fromStack(stack);
    ledgerTableId = stack.getLogicalId(stack.bridge.ledgerTable.node.defaultChild as never);
  });

  it('keeps the ledger in one on-demand table keyed by subscriptionId, with TTL on expiresAt and point-in-time recovery, retained', () => {
    expect(resources()[ledgerTableId]).toMatchObject({
      Properties: {
        KeySchema: [{ AttributeName: LEDGER_PARTITION_KEY, KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: LEDGER_PARTITION_KEY, AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: LEDGER_TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it("refuses the sync Lambda any write to a ledger item that is not a subscription's, such as the sweep's watermark, which the sweep still writes", () => {
    const watermarkKey = stack.bridge.settings.sweep!.watermarkKey;
    const syncStatements = roleStatements(template, functionNamed(template, 'asks Limio to sync').resource);
    const denied = syncStatements.filter((statement) => statement.Effect === 'Deny');
    expect(denied).toEqual([
      expect.objectContaining({
        Action: expect.arrayContaining([
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:DeleteItem',
          'dynamodb:BatchWriteItem',
        ]),
        Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
      }),
    ]);
    const patterns: string[] = denied[0].Condition['ForAnyValue:StringLike']['dynamodb:LeadingKeys'];
    expect(patterns.some((pattern) => stringLike(pattern, watermarkKey))).toBe(true);
    expect(
      patterns.some((pattern) => stringLike(pattern, sweepWatermarkKey({ zuoraBaseUrl: 'https://rest.eu.zuora.com' }))),
    ).toBe(true);
    // No subscription id the bridge accepts is refused, whatever SUBSCRIPTION_ID_PATTERN allows.
    for (const id of ['A-S00000271', '2c92c0f86a8dd422016a9e7a70116b0d', 'sweep', 'sweep-1']) {
      expect(checkSubscriptionId(id, subscriptionIdRuleFrom('.*')).ok).toBe(true);
      expect(patterns.some((pattern) => stringLike(pattern, id))).toBe(false);
    }
    expect(checkSubscriptionId('sweep#rest.zuora.com#default', subscriptionIdRuleFrom('.*')).ok).toBe(false);

    const sweepStatements = roleStatements(template, functionNamed(template, 'reconciliation sweep').resource);
    expect(sweepStatements.filter((statement) => statement.Effect === 'Deny')).toEqual([]);
    expect(sweepStatements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: expect.arrayContaining(['dynamodb:UpdateItem']),
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [watermarkKey] } },
      }),
    );
  });

  it('gives the sync Lambda the ledger timings from the props', () => {
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties.Environment.Variables).toMatchObject({
      LEDGER_TABLE_NAME: { Ref: ledgerTableId },
      SYNC_COOLDOWN_SECONDS: '10',
      SYNC_CLOCK_MARGIN_SECONDS: '2',
    });
  });
});

describe('SyncLedger on its own', () => {
  it("removes the table as told and keeps its parent's logical id", () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    new SyncLedger(stack, 'Ledger', { removalPolicy: RemovalPolicy.DESTROY });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table') as Record<
      string,
      { DeletionPolicy?: string }
    >;
    expect(Object.keys(tables)).toEqual([cdkLogicalId(['LedgerTable', 'Resource'])]);
    expect(Object.values(tables)[0].DeletionPolicy).toBe('Delete');
  });
});
