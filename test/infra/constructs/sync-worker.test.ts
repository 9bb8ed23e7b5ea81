import { Match, Template } from 'aws-cdk-lib/assertions';
import { LEDGER_DEFAULTS, loadLedgerConfig } from '../../../functions/ledger/config';
import { DEFAULTS } from '../../../functions/shared/defaults';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import {
  limioBaseUrl,
  stackWith,
  customisedRestBridge,
  onlyResource,
  functionNamed,
  roleStatements,
  logicalIdOf,
  defaultBridgeFixture,
} from '../fixtures';

/** The sync Lambda and its SQS event source (constructs/sync-worker.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let mainQueueId: string;
  let deadLetterQueueId: string;
  let breakerTableId: string;
  let ledgerTableId: string;

  beforeAll(() => {
    ({ stack, template, mainQueueId, deadLetterQueueId, breakerTableId, ledgerTableId } = defaultBridgeFixture());
  });

  describe('Lambdas', () => {
    it('give the sync Lambda exactly the contract variables, secrets by id only', () => {
      const { resource } = functionNamed(template, 'asks Limio to sync');
      expect(resource.Properties.Environment.Variables).toEqual({
        QUEUE_URL: { Ref: mainQueueId },
        DLQ_URL: { Ref: deadLetterQueueId },
        LIMIO_BASE_URL: limioBaseUrl,
        LIMIO_SECRET_ID: {
          Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Limio OAuth client credentials/),
        },
        // The adaptive limit's ceiling per invocation, and the fleet's 10 calls in flight shared by 20 invocations.
        SYNC_CONCURRENCY: '10',
        SYNC_ADAPTIVE: 'true',
        SYNC_ADAPTIVE_INITIAL_LIMIT: '0.5',
        BREAKER_TABLE_NAME: { Ref: breakerTableId },
        RETRY_BUDGET_SECONDS: String(24 * 60 * 60),
        MAX_ATTEMPTS: String(DEFAULTS.maxAttempts),
        LIMIO_TIMEOUT_MS: String(DEFAULTS.limioTimeoutMs),
        BACKOFF_BASE_SECONDS: String(DEFAULTS.backoffBaseSeconds),
        BACKOFF_MAX_SECONDS: String(DEFAULTS.backoffMaxSeconds),
        LEDGER_TABLE_NAME: { Ref: ledgerTableId },
        SYNC_COOLDOWN_SECONDS: String(LEDGER_DEFAULTS.cooldownSeconds),
        SYNC_CLOCK_MARGIN_SECONDS: String(LEDGER_DEFAULTS.clockMarginSeconds),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
      // The sync Lambda's own loader accepts what the construct gives it.
      const { SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS } = resource.Properties.Environment.Variables as Record<
        string,
        string
      >;
      expect(loadLedgerConfig({ SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS }).timing).toEqual({
        cooldownSeconds: LEDGER_DEFAULTS.cooldownSeconds,
        clockMarginSeconds: LEDGER_DEFAULTS.clockMarginSeconds,
      });
    });
  });

  describe('event source', () => {
    it('batches, reports item failures and caps concurrent invocations', () => {
      const { resource } = onlyResource(template, 'AWS::Lambda::EventSourceMapping');
      expect(resource.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        FunctionName: { Ref: stack.getLogicalId(stack.bridge.syncFunction.node.defaultChild as never) },
        BatchSize: DEFAULTS.syncBatchSize,
        MaximumBatchingWindowInSeconds: DEFAULTS.syncBatchingWindowSeconds,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 20 },
      });
    });

    it('is created only after the sync role may read the queue (Lambda checks it at creation)', () => {
      const { resource } = onlyResource(template, 'AWS::Lambda::EventSourceMapping');
      const syncPolicyId = Object.entries(template.findResources('AWS::IAM::Policy')).find(([, policy]) =>
        JSON.stringify(policy).includes('ConsumeMainQueue'),
      )![0];
      expect(resource.DependsOn).toContain(syncPolicyId);
    });

    it('is exposed, with the sync function, for additions such as a circuit breaker', () => {
      expect(stack.resolve(stack.bridge.syncEventSourceMapping.eventSourceMappingId)).toEqual({
        Ref: onlyResource(template, 'AWS::Lambda::EventSourceMapping').id,
      });
      expect(stack.bridge.syncFunction.functionName).toBeDefined();
    });
  });

  describe('least privilege', () => {
    it("lets the sync Lambda only consume the main queue, queue copies of slot-waiting messages on it, send to the DLQ, read the Limio secret, read and write the breaker and the ledger (no item but a subscription's) and write its own logs", () => {
      const { resource } = functionNamed(template, 'asks Limio to sync');
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      expect(roleStatements(template, resource)).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'ConsumeMainQueue',
          Effect: 'Allow',
          Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
          Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        },
        {
          Sid: 'RequeueSlotWaits',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
        },
        {
          Sid: 'DeadLetter',
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
        },
        {
          Sid: 'ReadLimioSecret',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: resource.Properties.Environment.Variables.LIMIO_SECRET_ID,
        },
        {
          Sid: 'ReadWriteBreakerState',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [breakerTableId, 'Arn'] },
        },
        {
          Sid: 'ReadWriteLedger',
          Effect: 'Allow',
          // What DynamoDbLedgerStore sends (BatchGetItemCommand, UpdateItemCommand), nothing more.
          Action: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
        },
        {
          Sid: 'WriteOnlySubscriptionItemsOfLedger',
          Effect: 'Deny',
          Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
          Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
          Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['*#*'] } },
        },
      ]);
    });
  });
});

describe('REST API with header auth, allowlist, existing secrets and custom sizing', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(customisedRestBridge());
  });

  it('sizes queue timing, redrive, batching and concurrency from the settings', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 25,
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties).toMatchObject({
      Timeout: 60,
      Environment: {
        Variables: {
          MAX_ATTEMPTS: '4',
          RETRY_BUDGET_SECONDS: '7200',
          SYNC_CONCURRENCY: '2',
          SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$',
          SYNC_ADAPTIVE: 'true',
        },
      },
    });
    // Closing the breaker restores this bridge's own cap, and the probe validates ids by the same pattern.
    expect(functionNamed(template, 'circuit breaker probe').resource.Properties.Environment.Variables).toMatchObject({
      SYNC_MAX_CONCURRENCY: '3',
      SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$',
      PROBE_SUBSCRIPTION_ID: 'SUB-42',
    });
    expect(
      functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment.Variables,
    ).toMatchObject({
      CALLOUT_DELAY_SECONDS: '30',
      CALLOUT_ID_FIELD: 'Data.Subscription.Name',
      SUBSCRIPTION_ID_PATTERN: '^SUB-[0-9]+$',
    });
  });
});

describe('the adaptive limit switched off, or started elsewhere', () => {
  it('keeps the fixed cap of 2 invocations x 5 calls and tells the sync Lambda so, with no starting limit', () => {
    const template = Template.fromStack(stackWith({ limioBaseUrl, syncAdaptive: false }));
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 2 } });
    const variables = functionNamed(template, 'asks Limio to sync').resource.Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    expect(variables).toMatchObject({ SYNC_ADAPTIVE: 'false', SYNC_CONCURRENCY: String(DEFAULTS.syncConcurrency) });
    expect(variables).not.toHaveProperty('SYNC_ADAPTIVE_INITIAL_LIMIT');
    // The probe restores the same cap when the breaker closes.
    expect(functionNamed(template, 'circuit breaker probe').resource.Properties.Environment.Variables).toMatchObject({
      SYNC_MAX_CONCURRENCY: '2',
    });
  });

  it('shares syncAdaptiveInitialFleetLimit between the invocations, and refuses one the fleet cannot start at', () => {
    const template = Template.fromStack(
      stackWith({ limioBaseUrl, syncAdaptive: true, syncInvocationConcurrency: 40, syncAdaptiveInitialFleetLimit: 6 }),
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 40 } });
    expect(functionNamed(template, 'asks Limio to sync').resource.Properties.Environment.Variables).toMatchObject({
      SYNC_ADAPTIVE: 'true',
      SYNC_CONCURRENCY: '10',
      SYNC_ADAPTIVE_INITIAL_LIMIT: '0.15',
    });
    expect(() =>
      stackWith({ limioBaseUrl, syncAdaptive: true, syncConcurrency: 2, syncAdaptiveInitialFleetLimit: 41 }),
    ).toThrow(/syncAdaptiveInitialFleetLimit: must be at most the ceiling/);
  });
});
