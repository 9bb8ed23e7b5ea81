import { Template } from 'aws-cdk-lib/assertions';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createCalloutHandler } from '../../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../../functions/callout/config';
import { METRICS_NAMESPACE, SYNC_METRICS, SYNC_SERVICE_NAME } from '../../../functions/sync/telemetry';
import { basicAuthorization, restApiEvent } from '../../callout/events';
import { captureOutput } from '../../support/capture-output';
import {
  region,
  constructInOwnStack,
  ownStackBridge,
  ownTopicOf,
  onlyResource,
  functionNamed,
  defaultBridgeFixture,
  dashboardOf,
  type DashboardWidget,
  type Resources,
} from '../fixtures';
import { ADAPTIVE_LIMIT_METRICS, limioSyncCounters } from '../../../infra/constructs/metrics';

/** Alarms and dashboard (constructs/alarms.ts, constructs/dashboard.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;
  let mainQueueId: string;
  let deadLetterQueueId: string;

  beforeAll(() => {
    ({ template, mainQueueId, deadLetterQueueId } = defaultBridgeFixture());
  });

  describe('observability', () => {
    const dashboardWidget = (title: RegExp) => {
      const widgets = dashboardOf(template).widgets.filter((widget) => title.test(widget.properties.title ?? ''));
      expect(widgets).toHaveLength(1);
      return widgets[0]! as DashboardWidget & { properties: { annotations?: unknown } };
    };

    const alarmOn = (metricName: string, namespace: string) =>
      onlyResource(template, 'AWS::CloudWatch::Alarm', { MetricName: metricName, Namespace: namespace }).resource
        .Properties;

    it('alarms on any dead letter', () => {
      expect(alarmOn('ApproximateNumberOfMessagesVisible', 'AWS/SQS')).toMatchObject({
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [deadLetterQueueId, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        Statistic: 'Maximum',
        TreatMissingData: 'notBreaching',
      });
    });

    it('alarms when the oldest message on the main queue is older than the threshold', () => {
      expect(alarmOn('ApproximateAgeOfOldestMessage', 'AWS/SQS')).toMatchObject({
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [mainQueueId, 'QueueName'] } }],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 3600,
      });
    });

    it('alarms on sync Lambda errors and throttles', () => {
      const syncFunctionId = functionNamed(template, 'asks Limio to sync').id;
      const syncDimension = { Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }] };
      for (const metric of ['Errors', 'Throttles']) {
        expect(
          onlyResource(template, 'AWS::CloudWatch::Alarm', {
            MetricName: metric,
            Namespace: 'AWS/Lambda',
            ...syncDimension,
          }).resource.Properties,
        ).toMatchObject({
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: syncFunctionId } }],
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          Statistic: 'Sum',
        });
      }
    });

    it('alarms on API 5xx answers of this API', () => {
      const apiName = onlyResource(template, 'AWS::ApiGateway::RestApi').resource.Properties.Name;
      expect(alarmOn('5XXError', 'AWS/ApiGateway')).toMatchObject({
        Dimensions: [{ Name: 'ApiName', Value: apiName }],
        Threshold: 1,
        Statistic: 'Sum',
      });
    });

    it('alarms on any refused callout and says what to do about each kind of refusal', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      const alarm = alarmOn('CalloutRefused', METRICS_NAMESPACE);
      expect(alarm).toMatchObject({
        Dimensions: [{ Name: 'service', Value: 'zuora-limio-callout' }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
        OKActions: [{ Ref: topicId }],
      });
      const description = alarm.AlarmDescription as string;
      // CloudFormation refuses a longer AlarmDescription.
      expect(description.length).toBeLessThanOrEqual(1024);
      expect(description).toMatch(/callout Lambda's logs/);
      expect(description).toMatch(/rotated on one side only/);
      expect(description).toMatch(/template changed/);
      expect(description).toMatch(/SUBSCRIPTION_ID_PATTERN/);
      expect(description).toMatch(/too-many-ids/);
      expect(description).toMatch(/zuora-limio-sync enqueue/);
    });

    it('alarms on the very metric the deployed callout Lambda publishes when it refuses a callout', async () => {
      const alarm = alarmOn('CalloutRefused', METRICS_NAMESPACE);
      const calloutEnvironment = functionNamed(template, 'authenticates Zuora callouts').resource.Properties.Environment
        .Variables as Record<string, unknown>;
      const deployedMetricsEnvironment = {
        POWERTOOLS_METRICS_NAMESPACE: calloutEnvironment.POWERTOOLS_METRICS_NAMESPACE as string,
        POWERTOOLS_SERVICE_NAME: calloutEnvironment.POWERTOOLS_SERVICE_NAME as string,
      };
      const saved = Object.fromEntries(
        Object.keys(deployedMetricsEnvironment).map((name) => [name, process.env[name]]),
      );
      Object.assign(process.env, deployedMetricsEnvironment);
      // Refused before any queue call: the client only has to exist.
      const sqs = new SQSClient({
        region,
        endpoint: 'http://127.0.0.1:9',
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const output = captureOutput();
      try {
        const handler = createCalloutHandler(
          loadCalloutConfig({
            QUEUE_URL: 'http://127.0.0.1:9/000000000000/main',
            CALLOUT_AUTH_MODE: 'basic',
            CALLOUT_USERNAME: 'zuora',
            CALLOUT_PASSWORD: 'callout-password',
          }),
          { sqs },
        );
        const answer = await handler(
          restApiEvent({
            headers: {
              'Content-Type': 'application/json',
              Authorization: basicAuthorization('zuora', 'callout-password'),
            },
            body: JSON.stringify({ subscriptionNumber: 'not a subscription id' }),
          }),
        );
        expect(answer.statusCode).toBe(400);
      } finally {
        output.restore();
        sqs.destroy();
        for (const [name, value] of Object.entries(saved)) {
          if (value === undefined) delete process.env[name];
          else process.env[name] = value;
        }
      }
      type Emf = {
        _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
      } & Record<string, unknown>;
      const refusals = output
        .lines()
        .filter((line): line is Emf => '_aws' in line && 'CalloutRefused' in line)
        .flatMap((line) =>
          line._aws.CloudWatchMetrics.flatMap((set) =>
            set.Dimensions.map((dimensions) => ({
              namespace: set.Namespace,
              dimensions: Object.fromEntries(dimensions.map((name) => [name, line[name]])),
            })),
          ),
        );
      const alarmDimensions = Object.fromEntries(
        (alarm.Dimensions as { Name: string; Value: string }[]).map(({ Name, Value }) => [Name, Value]),
      );
      expect(refusals).toContainEqual({ namespace: alarm.Namespace, dimensions: alarmDimensions });
    });

    it('alarms on a visibility change SQS refused, watching the metric the sync Lambda publishes', () => {
      const alarm = Object.values(template.findResources('AWS::CloudWatch::Alarm'))
        .map((resource) => resource.Properties)
        .find((properties) => String(properties.AlarmName).endsWith('-VisibilityRefusedAlarm'))!;
      expect(alarm).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: SYNC_METRICS.visibilityRefused,
        Dimensions: [{ Name: 'service', Value: SYNC_SERVICE_NAME }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('notifies the email subscription of a created topic on alarm and on recovery', () => {
      const topicId = onlyResource(template, 'AWS::SNS::Topic').id;
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: 'ops@example.com',
        TopicArn: { Ref: topicId },
      });
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resources[string][];
      expect(
        alarms.map((alarm) => alarm.Properties.AlarmName.replace(/^Bridge-Bridge-[0-9A-F]{8}-/, '')).sort(),
      ).toEqual([
        'Api5xxAlarm',
        'BreakerOpenAlarm',
        'CalloutRefusedAlarm',
        'CalloutThrottledAlarm',
        'DeadLettersAlarm',
        'OldestMessageAgeAlarm',
        'ProbeErrorsAlarm',
        'SyncErrorsAlarm',
        'SyncThrottlesAlarm',
        'VisibilityRefusedAlarm',
      ]);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
        expect(alarm.Properties.OKActions).toEqual([{ Ref: topicId }]);
      }
    });

    it('has a dashboard showing every alarm, the API, the queues and both functions', () => {
      const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').resource.Properties.DashboardBody;
      const tokenText = (part: unknown) =>
        typeof part === 'string' ? part : `TOKEN(${JSON.stringify(part).replace(/"/g, "'")})`;
      const dashboard = JSON.parse((body['Fn::Join'][1] as unknown[]).map(tokenText).join('')) as {
        widgets: { type: string; properties: { alarms?: string[]; metrics?: unknown[][] } }[];
      };
      const alarmWidget = dashboard.widgets.find((widget) => widget.type === 'alarm')!;
      expect(alarmWidget.properties.alarms).toHaveLength(10);
      const metricNames = dashboard.widgets.flatMap((widget) =>
        (widget.properties.metrics ?? []).map((metric) => `${metric[0]}/${metric[1]}`),
      );
      expect(metricNames).toEqual(
        expect.arrayContaining([
          'AWS/ApiGateway/5XXError',
          'AWS/SQS/ApproximateAgeOfOldestMessage',
          'AWS/SQS/ApproximateNumberOfMessagesVisible',
          'AWS/Lambda/Errors',
          'AWS/Lambda/Throttles',
          'AWS/Lambda/ConcurrentExecutions',
        ]),
      );
      // The sync Lambda's own metrics, by the names and dimension it really emits.
      const syncMetrics = dashboard.widgets
        .flatMap((widget) => widget.properties.metrics ?? [])
        .filter(
          (metric) => metric[0] === METRICS_NAMESPACE && metric[2] === 'service' && metric[3] === SYNC_SERVICE_NAME,
        )
        .map((metric) => metric[1]);
      expect([...new Set(syncMetrics)].sort()).toEqual(
        [...new Set([...Object.values(SYNC_METRICS), ...Object.values(ADAPTIVE_LIMIT_METRICS)])].sort(),
      );
    });

    it('shows the adaptive limit and calls in flight on one graph, per invocation and for the fleet, against the ceiling', () => {
      const widget = dashboardWidget(/^Limio calls in flight/);
      // A graph's metrics are averaged unless they say otherwise, so CDK writes no `stat` for Average.
      const averaged = (name: string) =>
        expect.arrayContaining([
          METRICS_NAMESPACE,
          name,
          'service',
          SYNC_SERVICE_NAME,
          expect.not.objectContaining({ stat: expect.anything() }),
        ]);
      expect(widget.properties.metrics).toEqual(
        expect.arrayContaining([
          averaged(ADAPTIVE_LIMIT_METRICS.limit),
          averaged(ADAPTIVE_LIMIT_METRICS.callsInFlight),
          // What Limio sees: the mean per invocation times the invocations running.
          [expect.objectContaining({ expression: 'limit * invocations', yAxis: 'right' })],
          [expect.objectContaining({ expression: 'inFlight * invocations', yAxis: 'right' })],
          expect.arrayContaining([
            'AWS/Lambda',
            'ConcurrentExecutions',
            expect.objectContaining({ id: 'invocations', stat: 'Maximum', visible: false }),
          ]),
        ]),
      );
      // The default ceiling (the adaptive limit on, issue #21): 10 per invocation, 20 x 10 for the fleet.
      expect(widget.properties.annotations).toEqual({
        horizontal: [
          expect.objectContaining({ value: 10, yAxis: 'left' }),
          expect.objectContaining({ value: 200, yAxis: 'right' }),
        ],
      });
      // By the minute: the limit moves within seconds.
      expect(
        widget.properties.metrics!.map((metric) => (metric[metric.length - 1] as { period?: number }).period),
      ).toEqual(widget.properties.metrics!.map(() => 60));
    });

    it("shows Limio's latency against its unloaded latency, and their ratio", () => {
      const widget = dashboardWidget(/^Limio latency against its unloaded latency/);
      expect(widget.properties.metrics).toEqual(
        expect.arrayContaining([
          expect.arrayContaining([
            METRICS_NAMESPACE,
            SYNC_METRICS.syncLatency,
            'service',
            SYNC_SERVICE_NAME,
            expect.objectContaining({ stat: 'p50' }),
          ]),
          expect.arrayContaining([
            METRICS_NAMESPACE,
            ADAPTIVE_LIMIT_METRICS.unloadedLatency,
            'service',
            SYNC_SERVICE_NAME,
          ]),
          expect.arrayContaining([
            METRICS_NAMESPACE,
            ADAPTIVE_LIMIT_METRICS.latencyRatio,
            'service',
            SYNC_SERVICE_NAME,
            expect.objectContaining({ yAxis: 'right' }),
          ]),
        ]),
      );
    });

    it('shows syncs per second from the synced count, and the messages put back waiting for a slot', () => {
      const widget = dashboardWidget(/^Drain/);
      expect(widget.properties.metrics).toEqual(
        expect.arrayContaining([
          [expect.objectContaining({ expression: 'synced / PERIOD(synced)', label: 'syncs per second' })],
          expect.arrayContaining([
            METRICS_NAMESPACE,
            SYNC_METRICS.synced,
            'service',
            SYNC_SERVICE_NAME,
            expect.objectContaining({ id: 'synced', stat: 'Sum', visible: false }),
          ]),
          expect.arrayContaining([
            METRICS_NAMESPACE,
            ADAPTIVE_LIMIT_METRICS.slotWaits,
            'service',
            SYNC_SERVICE_NAME,
            expect.objectContaining({ stat: 'Sum', yAxis: 'right' }),
          ]),
        ]),
      );
    });

    it("sums none of the adaptive limit's gauges among the Limio call counters, once the sync Lambda publishes them", () => {
      const published = [...Object.values(SYNC_METRICS), ...Object.values(ADAPTIVE_LIMIT_METRICS)];
      expect(limioSyncCounters(published).sort()).toEqual(
        [
          SYNC_METRICS.synced,
          SYNC_METRICS.retryable,
          SYNC_METRICS.terminal,
          SYNC_METRICS.deadLettered,
          SYNC_METRICS.visibilityRefused,
          SYNC_METRICS.slotWaitCopiesRefused,
          SYNC_METRICS.tokenFetches,
        ].sort(),
      );
    });
  });
});

describe("the construct in a user's own stack (KMS key, own topic, HMAC)", () => {
  let own: ReturnType<typeof constructInOwnStack>;

  beforeAll(() => {
    own = ownStackBridge();
  });

  it('notifies the topic given as a prop instead of creating one for the email', () => {
    expect(own.bridge.alarmTopic).toBe(ownTopicOf());
    expect(Object.keys(own.template.findResources('AWS::SNS::Topic'))).toHaveLength(1);
    expect(own.template.findResources('AWS::SNS::Subscription')).toEqual({});
  });
});
