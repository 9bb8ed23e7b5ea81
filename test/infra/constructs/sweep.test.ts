import { Match, Template } from 'aws-cdk-lib/assertions';
import { SWEEP_DEFAULTS } from '../../../functions/sweep/config';
import { sweepWatermarkKey } from '../../../functions/sweep/dynamodb-watermark-store';
import { loadSweepLambdaConfig, SWEEP_METRICS, SWEEP_SERVICE_NAME } from '../../../functions/sweep/lambda-sweep';
import { METRICS_NAMESPACE, SYNC_METRICS, SYNC_SERVICE_NAME } from '../../../functions/sync/telemetry';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import {
  region,
  secretsKmsKeyArn,
  zuoraBaseUrl,
  zuoraSecretArn,
  sweepBridge,
  sweepWithExistingSecretAndKeys,
  onlyResource,
  functionNamed,
  roleStatements,
  alarmProperties,
  dashboardOf,
  logicalIdOf,
} from '../fixtures';

/** The reconciliation sweep (constructs/sweep.ts) and its alarms. */

describe('sync ledger and reconciliation sweep (zuoraBaseUrl set)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let ledgerTableId: string;
  let mainQueueId: string;
  const sweepFunction = () => functionNamed(template, 'reconciliation sweep');

  beforeAll(() => {
    stack = sweepBridge();
    template = Template.fromStack(stack);
    ledgerTableId = stack.getLogicalId(stack.bridge.ledgerTable.node.defaultChild as never);
    mainQueueId = stack.getLogicalId(stack.bridge.mainQueue.node.defaultChild as never);
  });

  it('runs the sweep one at a time within 5 minutes, never retrying or running a stale invocation', () => {
    const { id, resource } = sweepFunction();
    expect(resource.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 300,
      ReservedConcurrentExecutions: 1,
      LoggingConfig: { LogFormat: 'JSON' },
    });
    expect(onlyResource(template, 'AWS::Lambda::EventInvokeConfig').resource.Properties).toMatchObject({
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 600,
    });
    const schedule = onlyResource(template, 'AWS::Events::Rule', { ScheduleExpression: 'rate(10 minutes)' });
    expect(schedule.resource.Properties).toMatchObject({
      State: 'ENABLED',
      Targets: [
        { Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 600 } },
      ],
    });
  });

  it('gives the sweep exactly the environment its cold start reads, which it accepts', () => {
    const { resource } = sweepFunction();
    const variables = resource.Properties.Environment.Variables as Record<string, unknown>;
    const zuoraSecretId = logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/);
    expect(variables).toEqual({
      QUEUE_URL: { Ref: mainQueueId },
      LEDGER_TABLE_NAME: { Ref: ledgerTableId },
      ZUORA_SECRET_ID: { Ref: zuoraSecretId },
      ZUORA_BASE_URL: zuoraBaseUrl,
      ZUORA_ENTITY_ID: 'abc-123',
      SWEEP_INTERVAL_SECONDS: '600',
      SWEEP_SETTLE_SECONDS: String(SWEEP_DEFAULTS.settleSeconds),
      SWEEP_OVERLAP_SECONDS: String(SWEEP_DEFAULTS.overlapSeconds),
      SWEEP_INITIAL_LOOKBACK_SECONDS: String(SWEEP_DEFAULTS.initialLookbackSeconds),
      SWEEP_SLICE_SECONDS: '1800',
      SWEEP_COMMIT_LAG_SECONDS: '5',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
      POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
    });
    const deployed = Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `resolved-${name}`]),
    );
    expect(loadSweepLambdaConfig(deployed).sweep).toMatchObject({
      zuoraBaseUrl,
      entityId: 'abc-123',
      intervalSeconds: 600,
      window: { maxSliceSeconds: 1800 },
      commitLagSeconds: 5,
      credentials: { source: 'secrets-manager' },
    });
  });

  it('lets the sweep only send to the main queue, read the ledger, read and write its own watermark item, mark lastQueuedAt on subscription items, read the Zuora secret and write its logs', () => {
    const { resource } = sweepFunction();
    const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
    expect(roleStatements(template, resource)).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
      },
      {
        Sid: 'QueueMissedChanges',
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: { 'Fn::GetAtt': [mainQueueId, 'Arn'] },
      },
      {
        Sid: 'ReadLedger',
        Effect: 'Allow',
        Action: 'dynamodb:BatchGetItem',
        Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
      },
      {
        Sid: 'ReadWriteSweepWatermark',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
        // The very key the Lambda writes (sweepWatermarkKey), so no item a sync wrote can be touched.
        Condition: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': [sweepWatermarkKey({ zuoraBaseUrl, entityId: 'abc-123' })],
          },
        },
      },
      {
        Sid: 'MarkQueuedInLedger',
        Effect: 'Allow',
        Action: 'dynamodb:UpdateItem',
        Resource: { 'Fn::GetAtt': [ledgerTableId, 'Arn'] },
        // Only the mark, on no item whose key holds a '#' (its watermark is written under the statement above).
        Condition: {
          'ForAllValues:StringNotLike': { 'dynamodb:LeadingKeys': ['*#*'] },
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['subscriptionId', 'lastQueuedAt', 'expiresAt'] },
        },
      },
      {
        Sid: 'ReadZuoraSecret',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: resource.Properties.Environment.Variables.ZUORA_SECRET_ID,
      },
    ]);
    expect(
      template.toJSON().Resources[resource.Properties.Role['Fn::GetAtt'][0]].Properties.ManagedPolicyArns,
    ).toBeUndefined();
  });

  it('alarms when the sweep fails (a Lambda error or sweepFailed) or falls behind in 2 sweeps in a row, saying what each error kind means', () => {
    const { id: sweepId } = sweepFunction();
    const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('SweepFailedAlarm$'),
    }).resource.Properties;
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    });
    const metrics = alarm.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: {
        Metric: { MetricName: string; Namespace: string; Dimensions: unknown[] };
        Period: number;
        Stat: string;
      };
    }[];
    // Falling behind: the watermark more than two intervals behind where a complete run leaves it (300 + 300 + 2 x 600).
    expect(metrics.find((metric) => metric.Expression !== undefined)?.Expression).toBe(
      'FILL(errors, 0) + FILL(failed, 0) + IF(FILL(lag, 0) > 1800, 1, 0)',
    );
    expect(
      metrics
        .filter((metric) => metric.MetricStat)
        .map((metric) => [metric.Id, metric.MetricStat!.Metric, metric.MetricStat!.Period, metric.MetricStat!.Stat]),
    ).toEqual(
      expect.arrayContaining([
        [
          'errors',
          {
            MetricName: 'Errors',
            Namespace: 'AWS/Lambda',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: sweepId } }],
          },
          600,
          'Sum',
        ],
        [
          'failed',
          {
            MetricName: SWEEP_METRICS.failed,
            Namespace: METRICS_NAMESPACE,
            Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }],
          },
          600,
          'Sum',
        ],
        [
          'lag',
          {
            MetricName: SWEEP_METRICS.lagSeconds,
            Namespace: METRICS_NAMESPACE,
            Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }],
          },
          600,
          'Maximum',
        ],
      ]),
    );
    expect(alarm.AlarmDescription).toMatch(/credentials = the Zuora secret/);
    expect(alarm.AlarmDescription).toMatch(/ZuoraSecretArn/);
  });

  it('alarms when subscriptions changed in Zuora with no callout (missing, not pending or unproven) in 3 sweeps in a row, pointing at the Zuora workflow or notification', () => {
    const alarm = alarmProperties(template, 'MissingCalloutsAlarm');
    expect(alarm).toMatchObject({
      MetricName: SWEEP_METRICS.missing,
      Namespace: METRICS_NAMESPACE,
      Dimensions: [{ Name: 'service', Value: SWEEP_SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 600,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
    });
    expect(alarm.AlarmDescription).toMatch(/workflow or notification/);
    expect(alarm.AlarmDescription).toMatch(/CalloutRefusedAlarm/);
    expect(alarm.AlarmActions).toEqual([{ Ref: onlyResource(template, 'AWS::SNS::Topic').id }]);
  });

  it('shows both sweep alarms among the alarms, and the ledger and the sweep on the dashboard', () => {
    const dashboard = dashboardOf(template);
    // Ten, both sweep alarms, and the fan-out's (a Zuora connection brings both).
    expect(dashboard.widgets.find((widget) => widget.type === 'alarm')!.properties.alarms).toHaveLength(13);
    const titled = (title: RegExp) => dashboard.widgets.find((widget) => title.test(widget.properties.title ?? ''))!;
    const names = (widget: { properties: { metrics?: unknown[][] } }) =>
      (widget.properties.metrics ?? []).map((metric) => `${metric[1]}/${metric[3]}`);
    expect(names(titled(/^Sync ledger/))).toEqual([
      `${SYNC_METRICS.coveredByLedger}/${SYNC_SERVICE_NAME}`,
      `${SYNC_METRICS.heldForCooldown}/${SYNC_SERVICE_NAME}`,
      `${SYNC_METRICS.ledgerUnavailable}/${SYNC_SERVICE_NAME}`,
    ]);
    expect([...names(titled(/^Reconciliation sweep/)), ...names(titled(/^Sweep duration/))]).toEqual(
      expect.arrayContaining(
        [
          SWEEP_METRICS.read,
          SWEEP_METRICS.covered,
          SWEEP_METRICS.pending,
          SWEEP_METRICS.unproven,
          SWEEP_METRICS.missing,
          SWEEP_METRICS.failed,
          SWEEP_METRICS.durationMs,
          SWEEP_METRICS.lagSeconds,
        ].map((name) => `${name}/${SWEEP_SERVICE_NAME}`),
      ),
    );
  });

  it('shows every metric the sweep publishes, its account and contact changes in a widget of their own', () => {
    const dashboard = dashboardOf(template);
    const titled = (title: RegExp) => dashboard.widgets.filter((widget) => title.test(widget.properties.title ?? ''));
    const accounts = titled(/^Sweep: account and contact changes/);
    expect(accounts).toHaveLength(1);
    expect((accounts[0]!.properties.metrics ?? []).map((metric) => `${metric[1]}/${metric[3]}`)).toEqual(
      [
        SWEEP_METRICS.accountsRead,
        SWEEP_METRICS.contactsRead,
        SWEEP_METRICS.accountsChanged,
        SWEEP_METRICS.accountSubscriptions,
        SWEEP_METRICS.queued,
      ].map((name) => `${name}/${SWEEP_SERVICE_NAME}`),
    );
    // A metric added to the sweep's telemetry without a place on the dashboard fails here.
    const shown = new Set(
      dashboard.widgets
        .flatMap((widget) => widget.properties.metrics ?? [])
        .filter((metric) => metric[3] === SWEEP_SERVICE_NAME)
        .map((metric) => metric[1]),
    );
    expect([...shown].sort()).toEqual(Object.values(SWEEP_METRICS).sort());
  });

  it('outputs the ledger table, the Zuora tenant, its secret and the sweep function', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.LedgerTableName.Value).toEqual({ Ref: ledgerTableId });
    expect(outputs.ZuoraBaseUrl.Value).toBe(zuoraBaseUrl);
    expect(outputs.ZuoraSecretArn.Value).toEqual({
      Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Zuora OAuth client credentials/),
    });
    expect(outputs.SweepFunctionName.Value).toEqual({ Ref: sweepFunction().id });
  });

  it('uses an existing Zuora secret by ARN, decrypted with the secrets key only through Secrets Manager, and may encrypt what it queues', () => {
    const { template: own, stack: ownStack, key } = sweepWithExistingSecretAndKeys();
    expect(JSON.stringify(own.findResources('AWS::SecretsManager::Secret'))).not.toMatch(/Zuora OAuth/);
    const statements = roleStatements(own, functionNamed(own, 'reconciliation sweep').resource);
    expect(statements).toContainEqual({
      Sid: 'ReadZuoraSecret',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: zuoraSecretArn,
    });
    expect(statements).toContainEqual({
      Sid: 'ReadZuoraSecretKey',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: secretsKmsKeyArn,
      Condition: {
        StringEquals: {
          'kms:ViaService': `secretsmanager.${region}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': zuoraSecretArn,
        },
      },
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
      Resource: ownStack.resolve(key.keyArn),
    });
  });
});
