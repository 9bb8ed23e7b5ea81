import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { BreakerTable } from '../../../infra/constructs/breaker';
import { cdkLogicalId } from '../../../infra/constructs/logical-ids';
import { METRICS_NAMESPACE } from '../../../functions/sync/telemetry';
import { DEFAULTS } from '../../../functions/shared/defaults';
import { ZuoraLimioSyncStack } from '../../../infra/zuora-limio-sync-stack';
import { INFRA_DEFAULTS } from '../../../infra/settings';
import {
  limioBaseUrl,
  unbundledApp,
  onlyResource,
  functionNamed,
  roleStatements,
  logicalIdOf,
  defaultBridgeFixture,
  type Resources,
} from '../fixtures';

/** The circuit breaker table and probe (constructs/breaker.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let stack: ZuoraLimioSyncStack;
  let template: Template;
  let breakerTableId: string;

  beforeAll(() => {
    ({ stack, template, breakerTableId } = defaultBridgeFixture());
  });

  describe('outage mode (circuit breaker)', () => {
    const probe = () => functionNamed(template, 'circuit breaker probe');
    const tableId = () => breakerTableId;

    it('keeps the breaker in one on-demand table keyed by pk, with TTL on expiresAt and point-in-time recovery', () => {
      expect((template.toJSON().Resources as Resources)[breakerTableId]!.Properties).toEqual({
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
    });

    it('runs the probe Lambda every minute, never retrying a stale run', () => {
      const { id: probeId, resource } = probe();
      expect(resource.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Timeout: 30,
        LoggingConfig: { LogFormat: 'JSON' },
      });
      expect(onlyResource(template, 'AWS::Events::Rule').resource.Properties).toMatchObject({
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          {
            Arn: { 'Fn::GetAtt': [probeId, 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          },
        ],
      });
      template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        FunctionName: { 'Fn::GetAtt': [probeId, 'Arn'] },
        SourceArn: { 'Fn::GetAtt': [onlyResource(template, 'AWS::Events::Rule').id, 'Arn'] },
      });
    });

    it('gives the probe exactly what its config reads: the table, the mapping, the full-speed cap, Limio and its secret', () => {
      expect(probe().resource.Properties.Environment.Variables).toEqual({
        BREAKER_TABLE_NAME: { Ref: tableId() },
        SYNC_EVENT_SOURCE_MAPPING_ID: { Ref: onlyResource(template, 'AWS::Lambda::EventSourceMapping').id },
        SYNC_MAX_CONCURRENCY: String(INFRA_DEFAULTS.adaptiveCeiling.syncInvocationConcurrency),
        LIMIO_BASE_URL: limioBaseUrl,
        LIMIO_SECRET_ID: {
          Ref: logicalIdOf(template, 'AWS::SecretsManager::Secret', /Limio OAuth client credentials/),
        },
        LIMIO_TIMEOUT_MS: String(DEFAULTS.limioTimeoutMs),
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: 'zuora-limio-sync',
        POWERTOOLS_METRICS_NAMESPACE: 'ZuoraLimioSync',
      });
    });

    it('lets the probe touch only the breaker table, the one sync event source mapping and the Limio secret', () => {
      const { resource } = probe();
      const logGroupId = resource.Properties.LoggingConfig.LogGroup.Ref;
      const mappingId = onlyResource(template, 'AWS::Lambda::EventSourceMapping').id;
      const statements = roleStatements(template, resource);
      expect(statements).toEqual([
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] },
        },
        {
          Sid: 'ReadWriteBreakerState',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
          Resource: { 'Fn::GetAtt': [tableId(), 'Arn'] },
        },
        {
          Sid: 'PauseResumeSyncEventSource',
          Effect: 'Allow',
          Action: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
          Resource: stack.resolve(stack.bridge.syncEventSourceMapping.eventSourceMappingArn),
        },
        {
          Sid: 'ReadLimioSecret',
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: resource.Properties.Environment.Variables.LIMIO_SECRET_ID,
        },
      ]);
      // The mapping's own ARN (…:event-source-mapping:<its UUID>), never a wildcard over Lambda.
      const mappingArn = JSON.stringify(statements[2].Resource);
      expect(mappingArn).toContain(':event-source-mapping:');
      expect(mappingArn).toContain(`{"Ref":"${mappingId}"}`);
      expect(JSON.stringify(statements)).not.toContain('*');
    });

    it('alarms while the breaker is not closed, and its OK notification says it closed', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: 'BreakerState' }).resource
        .Properties;
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        Dimensions: [{ Name: 'service', Value: 'breaker' }],
        Statistic: 'Maximum',
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'ignore',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      expect(alarm.AlarmDescription).toMatch(/circuit breaker is open/);
      expect(alarm.AlarmDescription).toMatch(/OK notification means the breaker closed/);
      // A refused or unreadable Limio secret keeps the breaker open on purpose: the text must send the operator to it.
      expect(alarm.AlarmDescription).toMatch(/the Limio secret is wrong or unreadable/);
      expect(alarm.AlarmDescription).not.toMatch(/nothing to do/i);
      expect(alarm.AlarmDescription.length).toBeLessThanOrEqual(1024);
    });

    it('does not send operators to the sync errors alarm for a Limio secret problem', () => {
      const syncFunctionId = functionNamed(template, 'asks Limio to sync').id;
      const alarm = onlyResource(template, 'AWS::CloudWatch::Alarm', {
        MetricName: 'Errors',
        Namespace: 'AWS/Lambda',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }],
      }).resource.Properties;
      expect(alarm.AlarmDescription).toMatch(/Limio secret does not show here/);
    });

    it('alarms when the probe fails most of its runs', () => {
      const probeDimension = { Dimensions: [{ Name: 'FunctionName', Value: { Ref: probe().id } }] };
      expect(
        onlyResource(template, 'AWS::CloudWatch::Alarm', {
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          ...probeDimension,
        }).resource.Properties,
      ).toMatchObject({
        Statistic: 'Sum',
        Period: 300,
        Threshold: 3,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('shows the breaker gauge, its transitions, held messages and the probe on the dashboard', () => {
      const body = JSON.stringify(
        onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody,
      );
      for (const metric of ['BreakerState', 'BreakerOpened', 'BreakerClosed']) {
        expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"${metric}\\",\\"service\\",\\"breaker\\"`);
      }
      expect(body).toContain(`[\\"${METRICS_NAMESPACE}\\",\\"held\\",\\"service\\",\\"sync\\"`);
      expect(body).toContain('Breaker probe');
    });
  });
});

describe('BreakerTable on its own', () => {
  it("retains the table as told and keeps its parent's logical id", () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    new BreakerTable(stack, 'BreakerState', { removalPolicy: RemovalPolicy.RETAIN });
    const tables = Template.fromStack(stack).findResources('AWS::DynamoDB::Table') as Record<
      string,
      { DeletionPolicy?: string }
    >;
    expect(Object.keys(tables)).toEqual([cdkLogicalId(['BreakerTable', 'Resource'])]);
    expect(Object.values(tables)[0].DeletionPolicy).toBe('Retain');
  });
});
