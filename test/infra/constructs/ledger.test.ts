import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SyncLedger } from '../../../infra/constructs/ledger';
import { cdkLogicalId } from '../../../infra/constructs/logical-ids';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../../../functions/ledger/dynamodb-ledger-store';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import { unbundledApp, sweepBridge, functionNamed, type Resources } from '../fixtures';

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

  it('gives the sync Lambda the ledger timings from the props', () => {
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties.Environment.Variables).toMatchObject({
      LEDGER_TABLE_NAME: { Ref: ledgerTableId },
      SYNC_COOLDOWN_SECONDS: '10',
      SYNC_CLOCK_MARGIN_SECONDS: '2',
    });
  });
});

describe('SyncLedger on its own', () => {
  it('removes the table as told and keeps its parent\'s logical id', () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    new SyncLedger(stack, 'Ledger', { removalPolicy: RemovalPolicy.DESTROY });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table') as Record<string, { DeletionPolicy?: string }>;
    expect(Object.keys(tables)).toEqual([cdkLogicalId(['LedgerTable', 'Resource'])]);
    expect(Object.values(tables)[0].DeletionPolicy).toBe('Delete');
  });
});
