import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { loadCalloutConfig } from '../../../functions/callout/config';
import { DEFAULTS, redriveMaxReceiveCount } from '../../../functions/shared/defaults';
import { METRICS_NAMESPACE } from '../../../functions/sync/telemetry';
import { LEDGER_KEY_NOT_A_SUBSCRIPTION } from '../../../infra/constructs/sync-worker';
import {
  CALLOUT_ACCOUNT_METRICS,
  CALLOUT_METRICS_SERVICE,
  FAN_OUT_METRICS,
  FAN_OUT_METRICS_SERVICE,
} from '../../../infra/constructs/metrics';
import { FAN_OUT_DEFAULTS } from '../../../infra/settings';
import { FAN_OUT_STACK_OUTPUTS, type ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import {
  limioBaseUrl,
  stackWith,
  zuoraBaseUrl,
  zuoraSecretArn,
  sweepBridge,
  sweepWithExistingSecretAndKeys,
  defaultBridgeFixture,
  onlyResource,
  functionNamed,
  roleStatements,
  alarmProperties,
  dashboardOf,
  logicalIdOf,
  type Resources,
} from '../fixtures';

/** The account fan-out (constructs/fan-out.ts): its queue, Lambda and event source, the callout's use of it, alarm and dashboard. */

const fanOutFunctionOf = (template: Template) => functionNamed(template, 'fans each account callout out');
const calloutFunctionOf = (template: Template) => functionNamed(template, 'authenticates Zuora callouts');

describe('account fan-out with a Zuora connection (zuoraBaseUrl set)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let ids: {
    accountQueue: string;
    mainQueue: string;
    deadLetterQueue: string;
    ledgerTable: string;
    zuoraSecret: string;
  };

  beforeAll(() => {
    stack = sweepBridge();
    template = Template.fromStack(stack);
    const idOf = (construct: { node: { defaultChild?: unknown } }) =>
      stack.getLogicalId(construct.node.defaultChild as never);
    ids = {
      accountQueue: idOf(stack.bridge.accountQueue!),
      mainQueue: idOf(stack.bridge.mainQueue),
      deadLetterQueue: idOf(stack.bridge.deadLetterQueue),
      ledgerTable: idOf(stack.bridge.ledgerTable),
      zuoraSecret: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/),
    };
  });

  it("keeps account messages 14 days on an encrypted, TLS-only, retained queue redriven to the main queue's DLQ as the main queue is", () => {
    const resources = template.toJSON().Resources as Resources & Record<string, { DeletionPolicy?: string }>;
    expect(ids.accountQueue).toBe('BridgeAccountQueue1C8A1CCF');
    expect(resources[ids.accountQueue]).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: DEFAULTS.retentionSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [ids.deadLetterQueue, 'Arn'] },
          maxReceiveCount: redriveMaxReceiveCount(DEFAULTS.maxAttempts),
        },
      },
    });
    expect(resources[ids.accountQueue].Properties.RedrivePolicy).toEqual(
      resources[ids.mainQueue].Properties.RedrivePolicy,
    );
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: ids.accountQueue }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it("gives the account queue a visibility timeout of at least 6x the fan-out's timeout (AWS's advice for an SQS event source)", () => {
    const { resource } = fanOutFunctionOf(template);
    expect(resource.Properties.Timeout).toBe(300);
    const visibility = (template.toJSON().Resources as Resources)[ids.accountQueue].Properties
      .VisibilityTimeout as number;
    expect(visibility).toBeGreaterThanOrEqual(6 * resource.Properties.Timeout);
  });

  it("gives the fan-out exactly the contract's environment: its queue, the main queue, the DLQ, the sweep's Zuora connection, the ledger and the sync's retry settings", () => {
    const { resource } = fanOutFunctionOf(template);
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      LoggingConfig: { LogFormat: 'JSON' },
    });
    const variables = resource.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toEqual({
      ACCOUNT_QUEUE_URL: { Ref: ids.accountQueue },
      QUEUE_URL: { Ref: ids.mainQueue },
      DLQ_URL: { Ref: ids.deadLetterQueue },
      ZUORA_BASE_URL: zuoraBaseUrl,
      ZUORA_ENTITY_ID: 'abc-123',
      ZUORA_SECRET_ID: { Ref: ids.zuoraSecret },
      LEDGER_TABLE_NAME: { Ref: ids.ledgerTable },
      ACCOUNT_NUMBER_PATTERN: '^ACC[0-9]{6}$',
      RETRY_BUDGET_SECONDS: '86400',
      MAX_ATTEMPTS: String(DEFAULTS.maxAttempts),
      BACKOFF_BASE_SECONDS: String(DEFAULTS.backoffBaseSeconds),
      BACKOFF_MAX_SECONDS: String(DEFAULTS.backoffMaxSeconds),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
    });
    // One Zuora connection per stack: the very variables (and secret) the sweep reads.
    const sweepVariables = functionNamed(template, 'reconciliation sweep').resource.Properties.Environment
      .Variables as Record<string, unknown>;
    for (const name of ['ZUORA_BASE_URL', 'ZUORA_ENTITY_ID', 'ZUORA_SECRET_ID'])
      expect(variables[name]).toEqual(sweepVariables[name]);
  });

  it('lets the fan-out consume and continue on its queue, send to the main queue and the DLQ, read the Zuora secret and mark only subscription items of the ledger', () => {
    const { resource } = fanOutFunctionOf(template);
    const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
    const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(roleStatements(template, resource)).toEqual([
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: arn(logGroupId) },
      {
        Sid: 'ConsumeAccountQueue',
        Effect: 'Allow',
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        Resource: arn(ids.accountQueue),
      },
      { Sid: 'QueueContinuations', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(ids.accountQueue) },
      { Sid: 'QueueAccountSubscriptions', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(ids.mainQueue) },
      { Sid: 'DeadLetter', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(ids.deadLetterQueue) },
      {
        Sid: 'ReadZuoraSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: { Ref: ids.zuoraSecret },
      },
      {
        Sid: 'MarkQueuedInLedger',
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: arn(ids.ledgerTable),
        Condition: {
          'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': [LEDGER_KEY_NOT_A_SUBSCRIPTION] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['subscriptionId', 'lastQueuedAt', 'expiresAt'] },
        },
      },
      {
        Sid: 'WriteOnlySubscriptionItemsOfLedger',
        Effect: 'Deny',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'],
        Resource: arn(ids.ledgerTable),
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': [LEDGER_KEY_NOT_A_SUBSCRIPTION] } },
      },
    ]);
    expect(
      template.toJSON().Resources[resource.Properties.Role['Fn::GetAtt'][0]].Properties.ManagedPolicyArns,
    ).toBeUndefined();
  });

  it('feeds the fan-out from its queue in batches of fanOutBatchSize, at most fanOutMaxConcurrency at once, reporting failed items, once its role may', () => {
    const { id: fanOutId, resource } = fanOutFunctionOf(template);
    const mapping = onlyResource(template, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: fanOutId } });
    expect(mapping.id).toBe('BridgeFanOutEventSource9B50925D');
    expect(mapping.resource.Properties).toEqual({
      FunctionName: { Ref: fanOutId },
      EventSourceArn: { 'Fn::GetAtt': [ids.accountQueue, 'Arn'] },
      BatchSize: 4,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 3 },
    });
    const roleId = resource.Properties.Role['Fn::GetAtt'][0];
    expect(mapping.resource.DependsOn).toEqual(expect.arrayContaining([roleId]));
  });

  it('gives the callout Lambda the account queue and the account number pattern, with SendMessage on that queue, which its cold start accepts', () => {
    const { resource } = calloutFunctionOf(template);
    const variables = resource.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables).toMatchObject({
      ACCOUNT_QUEUE_URL: { Ref: ids.accountQueue },
      ACCOUNT_NUMBER_PATTERN: '^ACC[0-9]{6}$',
    });
    expect(roleStatements(template, resource)).toContainEqual({
      Sid: 'QueueAccountKeys',
      Effect: 'Allow',
      Action: 'sqs:SendMessage',
      Resource: { 'Fn::GetAtt': [ids.accountQueue, 'Arn'] },
    });
    const deployed = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `resolved-${name}`]),
    );
    const config = loadCalloutConfig(deployed);
    expect(config.accountQueueUrl).toBe('resolved-ACCOUNT_QUEUE_URL');
    expect(config.accountKeyRule.numberPattern.test('ACC000123')).toBe(true);
    expect(config.accountKeyRule.numberPattern.test('A00000123')).toBe(false);
  });

  it('does not warn about account callouts, and outputs the account queue', () => {
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('zuoraBaseUrl'));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const name of FAN_OUT_STACK_OUTPUTS) expect(outputs[name]).toBeDefined();
    expect(outputs.AccountQueueUrl.Value).toEqual({ Ref: ids.accountQueue });
  });

  it("alarms on any failed fan-out invocation, as on the sync Lambda's, pointing at unknown accounts' dead letters", () => {
    const alarm = alarmProperties(template, 'FanOutErrorsAlarm');
    expect(alarm).toMatchObject({
      MetricName: 'Errors',
      Namespace: 'AWS/Lambda',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fanOutFunctionOf(template).id } }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: onlyResource(template, 'AWS::SNS::Topic').id }],
    });
    expect(alarm.AlarmDescription).toMatch(/DeadLettersAlarm/);
    expect(alarm.AlarmDescription).toMatch(/ZuoraSecretArn/);
  });

  it("shows the fan-out's metrics by the contract's names and service, its Lambda and queue, and the callout's account metrics", () => {
    const dashboard = dashboardOf(template);
    const metrics = dashboard.widgets.flatMap((widget) => widget.properties.metrics ?? []);
    const custom = (service: string) =>
      metrics
        .filter((metric) => metric[0] === METRICS_NAMESPACE && metric[2] === 'service' && metric[3] === service)
        .map((metric) => metric[1]);
    expect(custom(FAN_OUT_METRICS_SERVICE).sort()).toEqual(
      [
        'FanOutAccounts',
        'FanOutSubscriptionsQueued',
        'FanOutUnknownAccounts',
        'FanOutContinuations',
        'FanOutZuoraRetries',
      ].sort(),
    );
    expect(FAN_OUT_METRICS_SERVICE).toBe('fanout');
    expect(custom(CALLOUT_METRICS_SERVICE)).toEqual(
      expect.arrayContaining(['CalloutAccountsIgnored', 'AccountKeysQueued']),
    );
    const fanOut = dashboard.widgets.find((widget) => /^Fan-out Lambda/.test(widget.properties.title ?? ''))!;
    const text = JSON.stringify(fanOut.properties.metrics);
    expect(text).toContain(fanOutFunctionOf(template).id);
    expect(text).toContain(ids.accountQueue);
    expect(dashboard.widgets.find((widget) => widget.type === 'alarm')!.properties.alarms).toHaveLength(13);
  });

  it("names the callout's account metrics as the callout Lambda publishes them", () => {
    const handler = readFileSync(
      join(__dirname, '..', '..', '..', 'functions', 'callout', 'callout-handler.ts'),
      'utf8',
    );
    for (const name of Object.values(CALLOUT_ACCOUNT_METRICS)) expect(handler).toContain(`'${name}'`);
    expect(Object.values(FAN_OUT_METRICS).sort()).toEqual([
      'FanOutAccounts',
      'FanOutContinuations',
      'FanOutSubscriptionsQueued',
      'FanOutUnknownAccounts',
      'FanOutZuoraRetries',
    ]);
  });
});

describe('account fan-out with an existing Zuora secret, a secrets key and a queue key (defaults otherwise)', () => {
  it('encrypts the account queue with the queue key, grants the fan-out its use and the Zuora secret through Secrets Manager, with the small default sizing', () => {
    const { template, stack, key } = sweepWithExistingSecretAndKeys();
    const keyArn = stack.resolve(key.keyArn);
    const accountQueueId = stack.getLogicalId(
      stack.node.findChild('Bridge').node.findChild('FanOut').node.findChild('AccountQueue').node.defaultChild as never,
    );
    expect((template.toJSON().Resources as Resources)[accountQueueId].Properties.KmsMasterKeyId).toEqual({
      'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'],
    });
    const { id, resource } = fanOutFunctionOf(template);
    const statements = roleStatements(template, resource);
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: keyArn,
    });
    expect(statements).toContainEqual({
      Sid: 'ReadZuoraSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: zuoraSecretArn,
    });
    expect(statements).toContainEqual(expect.objectContaining({ Sid: 'ReadZuoraSecretKey', Action: 'kms:Decrypt' }));
    expect(resource.Properties.Environment.Variables.ACCOUNT_NUMBER_PATTERN).toBeUndefined();
    expect(
      onlyResource(template, 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: id } }).resource.Properties,
    ).toMatchObject({
      BatchSize: FAN_OUT_DEFAULTS.batchSize,
      ScalingConfig: { MaximumConcurrency: FAN_OUT_DEFAULTS.maxConcurrency },
    });
  });
});

describe('no Zuora connection (zuoraBaseUrl unset)', () => {
  it('builds no account queue or fan-out, gives the callout Lambda no account queue nor grant, and outputs none', () => {
    const { stack, template } = defaultBridgeFixture();
    expect(stack.bridge.accountQueue).toBeUndefined();
    expect(Object.keys(template.findResources('AWS::SQS::Queue'))).toHaveLength(2);
    expect(JSON.stringify(template.findResources('AWS::Lambda::Function'))).not.toMatch(/fans each account/);
    const { resource } = calloutFunctionOf(template);
    expect(resource.Properties.Environment.Variables.ACCOUNT_QUEUE_URL).toBeUndefined();
    expect(roleStatements(template, resource).map((statement) => statement.Sid)).not.toContain('QueueAccountKeys');
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    for (const name of FAN_OUT_STACK_OUTPUTS) expect(outputs[name]).toBeUndefined();
    expect(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: Match.stringLikeRegexp('FanOutErrorsAlarm$') },
      }),
    ).toEqual({});
  });

  it('still gives the callout Lambda accountNumberPattern, which decides what counts as an account key to refuse', () => {
    const template = Template.fromStack(stackWith({ limioBaseUrl, accountNumberPattern: '^ACC[0-9]{6}$' }));
    const variables = calloutFunctionOf(template).resource.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables.ACCOUNT_NUMBER_PATTERN).toBe('^ACC[0-9]{6}$');
    expect(variables.ACCOUNT_QUEUE_URL).toBeUndefined();
  });

  it('gives the callout Lambda calloutAccountsBesideSubscriptions (fan-out by default) and refuses another value at synth', () => {
    const variablesOf = (template: Template) =>
      calloutFunctionOf(template).resource.Properties.Environment.Variables as Record<string, unknown>;
    expect(variablesOf(Template.fromStack(stackWith({ limioBaseUrl }))).CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS).toBe(
      'fan-out',
    );
    expect(
      variablesOf(Template.fromStack(stackWith({ limioBaseUrl, calloutAccountsBesideSubscriptions: 'ignore' })))
        .CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS,
    ).toBe('ignore');
    expect(() => stackWith({ limioBaseUrl, calloutAccountsBesideSubscriptions: 'skip' as 'ignore' })).toThrow(
      /calloutAccountsBesideSubscriptions/,
    );
  });

  it('warns at synth that account callouts will be refused with 422, which Zuora does not retry, and how to turn the fan-out on', () => {
    const { stack } = defaultBridgeFixture();
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('account'));
    expect(warnings).toHaveLength(1);
    const text = JSON.stringify(warnings[0].entry.data);
    expect(text).toMatch(/refused with 422/);
    expect(text).toMatch(/Zuora does not retry/);
    expect(text).toMatch(/set zuoraBaseUrl/);
  });
});
