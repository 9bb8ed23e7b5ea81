import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { breakerGauge } from '../../functions/breaker/breaker-state';
import { SWEEP_METRICS } from '../../functions/sweep/lambda-sweep';
import { SYNC_METRICS } from '../../functions/sync/telemetry';
import type { BridgeSettings, SweepSettings } from '../settings';
import type { ZuoraLimioSyncAlarms } from './alarms';
import type { CalloutFrontDoor } from './front-door';
import { keepParentLogicalIds } from './logical-ids';
import {
  BREAKER_METRICS_SERVICE,
  bridgeMetric,
  CALLOUT_ACCOUNT_METRICS,
  CALLOUT_METRICS_SERVICE,
  FAN_OUT_METRICS,
  FAN_OUT_METRICS_SERVICE,
  SWEEP_SERVICE_NAME,
  SYNC_METRICS_SERVICE,
  ADAPTIVE_LIMIT_METRICS,
  limioSyncCounters,
} from './metrics';
import { WAF_RATE_RULE_NAME } from './web-acl';

export interface BridgeDashboardProps {
  readonly settings: BridgeSettings;
  /** Shown in one status widget at the top. */
  readonly alarms: ZuoraLimioSyncAlarms;
  readonly frontDoor: CalloutFrontDoor;
  readonly mainQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly syncFunction: nodejs.NodejsFunction;
  readonly ledgerTable: dynamodb.ITable;
  readonly probeFunction: nodejs.NodejsFunction;
  /** Set when the sweep is on. */
  readonly sweepFunction?: nodejs.NodejsFunction;
  /** Set with a Zuora connection: the account fan-out. */
  readonly fanOutFunction?: nodejs.NodejsFunction;
  readonly accountQueue?: sqs.IQueue;
}

/** One CloudWatch dashboard of the bridge, from the callouts in to the Limio syncs out. */
export class BridgeDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: BridgeDashboardProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, frontDoor, mainQueue, deadLetterQueue, syncFunction, ledgerTable, probeFunction } = props;
    const period = Duration.minutes(5);
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const max = { period, statistic: cloudwatch.Stats.MAXIMUM };
    const p99 = { period, statistic: cloudwatch.Stats.p(99) };
    // Custom metrics (embedded metric format): names and service dimensions as in functions/sync/telemetry.ts
    // and functions/callout/callout-handler.ts.
    const custom = (metricName: string, service: string) =>
      bridgeMetric(metricName, service, period, cloudwatch.Stats.SUM);
    const api = frontDoor.apiMetrics(sum);
    const calloutFunction = frontDoor.calloutFunction;
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(12),
    });
    this.dashboard = dashboard;
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(props.alarms).filter((alarm): alarm is cloudwatch.Alarm => alarm !== undefined),
        width: 24,
        height: 3,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Callout API requests',
        left: [api.count, api.clientErrors, api.serverErrors],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Callout Lambda',
        left: [calloutFunction.metricInvocations(sum), calloutFunction.metricErrors(sum)],
        right: [calloutFunction.metricDuration(p99)],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues',
        left: [
          mainQueue.metricApproximateNumberOfMessagesVisible(max),
          mainQueue.metricApproximateNumberOfMessagesNotVisible(max),
          deadLetterQueue.metricApproximateNumberOfMessagesVisible(max),
        ],
        right: [mainQueue.metricApproximateAgeOfOldestMessage(max)],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Callouts',
        left: [
          custom('CalloutAccepted', CALLOUT_METRICS_SERVICE),
          custom('CalloutRefused', CALLOUT_METRICS_SERVICE),
          custom('SubscriptionIdsQueued', CALLOUT_METRICS_SERVICE),
          custom(CALLOUT_ACCOUNT_METRICS.queued, CALLOUT_METRICS_SERVICE),
          frontDoor.metricThrottledCallouts(),
        ],
        // Accounts named by a callout on a stack without a Zuora connection: no sync follows them.
        right: [custom(CALLOUT_ACCOUNT_METRICS.ignored, CALLOUT_METRICS_SERVICE)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Limio syncs',
        // `held` is on the breaker's widget, the ledger's and the adaptive limit's on their own.
        left: limioSyncCounters(Object.values(SYNC_METRICS)).map((name) => custom(name, SYNC_METRICS_SERVICE)),
        right: [bridgeMetric(SYNC_METRICS.syncLatency, SYNC_METRICS_SERVICE, period, cloudwatch.Stats.p(99))],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync Lambda',
        left: [syncFunction.metricInvocations(sum), syncFunction.metricErrors(sum), syncFunction.metricThrottles(sum)],
        right: [syncFunction.metricDuration(p99)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sync invocations at once (part of the Limio ceiling)',
        left: [syncFunction.metric('ConcurrentExecutions', max)],
        leftAnnotations: [
          { value: settings.syncInvocationConcurrency, label: 'maxConcurrency (syncInvocationConcurrency)' },
        ],
        width: 12,
      }),
    );
    addLimioConcurrencyWidgets(dashboard, settings, syncFunction);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync ledger (messages done without a Limio call, held to share one)',
        left: [
          custom(SYNC_METRICS.coveredByLedger, SYNC_METRICS_SERVICE),
          custom(SYNC_METRICS.heldForCooldown, SYNC_METRICS_SERVICE),
        ],
        // Fail open: each is a sync made without the ledger's help, never a lost one.
        right: [custom(SYNC_METRICS.ledgerUnavailable, SYNC_METRICS_SERVICE)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ledger table',
        left: [ledgerTable.metricConsumedReadCapacityUnits(sum), ledgerTable.metricConsumedWriteCapacityUnits(sum)],
        right: [
          ledgerTable.metricThrottledRequestsForOperations({
            operations: [dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.UPDATE_ITEM],
            ...sum,
          }),
        ],
        width: 12,
      }),
    );
    if (props.sweepFunction !== undefined && settings.sweep !== undefined)
      addSweepWidgets(dashboard, props.sweepFunction, settings.sweep);
    if (props.fanOutFunction !== undefined && props.accountQueue !== undefined)
      addFanOutWidgets(dashboard, props.fanOutFunction, props.accountQueue, { sum, max, p99 });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Circuit breaker (0 closed, 1 half-open, 2 open)',
        left: [bridgeMetric('BreakerState', BREAKER_METRICS_SERVICE, Duration.minutes(1), cloudwatch.Stats.MAXIMUM)],
        leftYAxis: { min: 0, max: 2 },
        leftAnnotations: [
          { value: breakerGauge('half-open'), label: 'half-open' },
          { value: breakerGauge('open'), label: 'open' },
        ],
        right: [
          custom('BreakerOpened', BREAKER_METRICS_SERVICE),
          custom('BreakerClosed', BREAKER_METRICS_SERVICE),
          custom(SYNC_METRICS.held, SYNC_METRICS_SERVICE),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Breaker probe',
        left: [probeFunction.metricInvocations(sum), probeFunction.metricErrors(sum)],
        right: [probeFunction.metricDuration(p99)],
        width: 12,
      }),
    );
    if (frontDoor.webAcl !== undefined) addWafWidget(dashboard, frontDoor.webAcl, sum);
  }
}

/**
 * The adaptive limit at work (issue #21): what each invocation allows and uses, what the whole fleet allows (what
 * Limio sees), Limio's latency against its unloaded latency (what the limit follows) and the drain rate. By the
 * minute: the limit moves within seconds, 5-minute points would hide it.
 */
function addLimioConcurrencyWidgets(
  dashboard: cloudwatch.Dashboard,
  settings: BridgeSettings,
  syncFunction: nodejs.NodejsFunction,
): void {
  const period = Duration.minutes(1);
  const sync = (name: string, statistic: string, label: string) =>
    bridgeMetric(name, SYNC_METRICS_SERVICE, period, statistic).with({ label });
  // Each invocation publishes its own limit; the fleet's is not published anywhere, so it is estimated from the
  // mean per invocation and the invocations running.
  const invocationsRunning = syncFunction.metric('ConcurrentExecutions', {
    period,
    statistic: cloudwatch.Stats.MAXIMUM,
  });
  const perInvocationLimit = sync(
    ADAPTIVE_LIMIT_METRICS.limit,
    cloudwatch.Stats.AVERAGE,
    'limit per invocation (mean)',
  );
  const perInvocationInFlight = sync(
    ADAPTIVE_LIMIT_METRICS.callsInFlight,
    cloudwatch.Stats.AVERAGE,
    'calls in flight per invocation (mean of batch peaks)',
  );
  const synced = bridgeMetric(SYNC_METRICS.synced, SYNC_METRICS_SERVICE, period, cloudwatch.Stats.SUM);
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Limio calls in flight: adaptive limit and calls (left per invocation, right the fleet)',
      left: [perInvocationLimit, perInvocationInFlight],
      leftAnnotations: [{ value: settings.syncConcurrency, label: 'ceiling per invocation (syncConcurrency)' }],
      right: [
        new cloudwatch.MathExpression({
          expression: 'limit * invocations',
          usingMetrics: { limit: perInvocationLimit, invocations: invocationsRunning },
          label: 'fleet limit (≈ mean x invocations)',
          period,
        }),
        new cloudwatch.MathExpression({
          expression: 'inFlight * invocations',
          usingMetrics: { inFlight: perInvocationInFlight, invocations: invocationsRunning },
          label: 'fleet calls in flight (≈ mean x invocations)',
          period,
        }),
      ],
      rightAnnotations: [
        { value: settings.syncInvocationConcurrency * settings.syncConcurrency, label: 'fleet ceiling' },
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Limio latency against its unloaded latency',
      left: [
        sync(SYNC_METRICS.syncLatency, cloudwatch.Stats.p(50), 'Limio sync latency, ms (median)'),
        sync(ADAPTIVE_LIMIT_METRICS.unloadedLatency, cloudwatch.Stats.AVERAGE, 'unloaded latency, ms (mean)'),
      ],
      right: [sync(ADAPTIVE_LIMIT_METRICS.latencyRatio, cloudwatch.Stats.AVERAGE, 'latency / unloaded (mean)')],
      rightAnnotations: [{ value: 1, label: 'unloaded' }],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Drain: syncs per second, and messages put back waiting for a Limio slot',
      left: [
        new cloudwatch.MathExpression({
          expression: 'synced / PERIOD(synced)',
          usingMetrics: { synced },
          label: 'syncs per second',
          period,
        }),
      ],
      right: [sync(ADAPTIVE_LIMIT_METRICS.slotWaits, cloudwatch.Stats.SUM, 'slot waits (per minute)')],
      width: 8,
    }),
  );
}

function addSweepWidgets(
  dashboard: cloudwatch.Dashboard,
  sweepFunction: nodejs.NodejsFunction,
  sweep: SweepSettings,
): void {
  // One data point per sweep.
  const period = Duration.seconds(sweep.intervalSeconds);
  const metric = (name: string, statistic: string) => bridgeMetric(name, SWEEP_SERVICE_NAME, period, statistic);
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title:
        'Reconciliation sweep (missing = changed in Zuora with no callout; unproven = queued again; pending = its sync still to come)',
      left: [
        metric(SWEEP_METRICS.read, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.covered, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.pending, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.unproven, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.missing, cloudwatch.Stats.SUM),
      ],
      // Both 0 or 1 per run: a failed run, and one that found no watermark (it began with the backfill window).
      right: [
        metric(SWEEP_METRICS.failed, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.startedFresh, cloudwatch.Stats.SUM),
      ],
      leftAnnotations: [{ value: sweep.missingCalloutsAlarmThreshold, label: 'MissingCalloutsAlarm threshold' }],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Sweep duration and lag',
      left: [
        metric(SWEEP_METRICS.durationMs, cloudwatch.Stats.MAXIMUM),
        sweepFunction.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
      ],
      right: [metric(SWEEP_METRICS.lagSeconds, cloudwatch.Stats.MAXIMUM)],
      width: 12,
    }),
    // Account and contact changes reach Limio only through their accounts' subscriptions: how many the sweep read,
    // how many accounts changed, and how many subscriptions those accounts brought to be judged, beside what the
    // sweep queued in all (a jump in queued with account subscriptions means account callouts are not arriving).
    new cloudwatch.GraphWidget({
      title:
        'Sweep: account and contact changes (records read, accounts changed, their subscriptions judged) and all it queued',
      left: [
        metric(SWEEP_METRICS.accountsRead, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.contactsRead, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.accountsChanged, cloudwatch.Stats.SUM),
        metric(SWEEP_METRICS.accountSubscriptions, cloudwatch.Stats.SUM),
      ],
      right: [metric(SWEEP_METRICS.queued, cloudwatch.Stats.SUM)],
      width: 12,
    }),
  );
}

function addFanOutWidgets(
  dashboard: cloudwatch.Dashboard,
  fanOutFunction: nodejs.NodejsFunction,
  accountQueue: sqs.IQueue,
  statistics: Record<'sum' | 'max' | 'p99', cloudwatch.MetricOptions>,
): void {
  const { sum, max, p99 } = statistics;
  const fanOutMetric = (name: string) => bridgeMetric(name, FAN_OUT_METRICS_SERVICE, sum.period!, cloudwatch.Stats.SUM);
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Account fan-out (accounts in, subscriptions queued)',
      left: [fanOutMetric(FAN_OUT_METRICS.accounts), fanOutMetric(FAN_OUT_METRICS.subscriptionsQueued)],
      // Unknown accounts are dead-lettered; continuations are accounts paged beyond one invocation; Zuora retries spend the tenant's limits.
      right: [
        fanOutMetric(FAN_OUT_METRICS.unknownAccounts),
        fanOutMetric(FAN_OUT_METRICS.continuations),
        fanOutMetric(FAN_OUT_METRICS.zuoraRetries),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Fan-out Lambda and account queue',
      left: [
        fanOutFunction.metricInvocations(sum),
        fanOutFunction.metricErrors(sum),
        accountQueue.metricApproximateNumberOfMessagesVisible(max),
      ],
      right: [fanOutFunction.metricDuration(p99), accountQueue.metricApproximateAgeOfOldestMessage(max)],
      width: 12,
    }),
  );
}

/** Rule "ALL" is the web ACL as a whole: what it let through next to what the rate rule blocked. */
function addWafWidget(dashboard: cloudwatch.Dashboard, webAcl: wafv2.CfnWebACL, sum: cloudwatch.MetricOptions): void {
  const wafMetric = (metricName: string, rule: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/WAFV2',
      metricName,
      dimensionsMap: { WebACL: webAcl.name!, Region: Stack.of(dashboard).region, Rule: rule },
      ...sum,
    });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'WAF per-IP rate rule (Zuora exempt)',
      left: [wafMetric('BlockedRequests', WAF_RATE_RULE_NAME), wafMetric('AllowedRequests', 'ALL')],
      width: 24,
    }),
  );
}
