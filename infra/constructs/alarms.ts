import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { breakerGauge } from '../../functions/breaker/breaker-state';
import { SWEEP_METRICS } from '../../functions/sweep/lambda-sweep';
import { SYNC_METRICS } from '../../functions/sync/telemetry';
import {
  FAILED_SWEEPS,
  MISSING_CALLOUTS_SWEEPS,
  sweepFallingBehindSeconds,
  type BridgeSettings,
  type SweepSettings,
} from '../settings';
import {
  BREAKER_OPEN_ALARM_DESCRIPTION,
  CALLOUT_REFUSED_ALARM_DESCRIPTION,
  CALLOUT_THROTTLED_ALARM_DESCRIPTION,
  FAN_OUT_ERRORS_ALARM_DESCRIPTION,
  MISSING_CALLOUTS_ALARM_DESCRIPTION,
  SWEEP_FAILED_ALARM_DESCRIPTION,
  VISIBILITY_REFUSED_ALARM_DESCRIPTION,
} from './alarm-descriptions';
import type { CalloutFrontDoor } from './front-door';
import { keepParentLogicalIds } from './logical-ids';
import {
  BREAKER_METRICS_SERVICE,
  bridgeMetric,
  CALLOUT_METRICS_SERVICE,
  SWEEP_SERVICE_NAME,
  SYNC_METRICS_SERVICE,
} from './metrics';

/** The alarms, by what they watch. */
export interface ZuoraLimioSyncAlarms {
  readonly deadLetters: cloudwatch.Alarm;
  readonly oldestMessageAge: cloudwatch.Alarm;
  readonly syncErrors: cloudwatch.Alarm;
  readonly syncThrottles: cloudwatch.Alarm;
  readonly api5xx: cloudwatch.Alarm;
  /** The callout Lambda refused a callout: none of its ids were queued, and Zuora's retries of a 4xx fail alike. */
  readonly calloutRefused: cloudwatch.Alarm;
  /** API Gateway answered 429 (stage throttle): the callout never reached the Lambda and Zuora retries it only a few times. */
  readonly calloutThrottled: cloudwatch.Alarm;
  /** In ALARM while the circuit breaker is open or half-open; its OK notification says the breaker closed. */
  readonly breakerOpen: cloudwatch.Alarm;
  /** The probe keeps failing: the breaker cannot close by itself, nor the event source follow it. */
  readonly probeErrors: cloudwatch.Alarm;
  /** SQS refused a hold or backoff the sync Lambda asked for: the message came back early, a receive spent. */
  readonly visibilityRefused: cloudwatch.Alarm;
  /** Sweep on: the sweep failed (Lambda error or sweepFailed) in consecutive runs. */
  readonly sweepFailed?: cloudwatch.Alarm;
  /** Sweep on: changes in Zuora with no callout at all (sweepMissing) in consecutive sweeps (callouts are missing). */
  readonly missingCallouts?: cloudwatch.Alarm;
  /** Zuora connection: the fan-out Lambda failed whole invocations (account callouts wait, then dead-letter). */
  readonly fanOutErrors?: cloudwatch.Alarm;
}

export interface BridgeAlarmsProps {
  readonly settings: BridgeSettings;
  /** Alarm names are `<namePrefix>-<id>`: unique per bridge in an account and region, as they must be. */
  readonly namePrefix: string;
  /** Topic the alarms notify (alarm and OK). Takes precedence over `alarmEmail`. */
  readonly alarmTopic?: sns.ITopic;
  /** Creates a topic with this email subscription when no `alarmTopic` is given. */
  readonly alarmEmail?: string;
  readonly mainQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly frontDoor: CalloutFrontDoor;
  readonly syncFunction: nodejs.NodejsFunction;
  readonly probeFunction: nodejs.NodejsFunction;
  /** Set when the sweep is on. */
  readonly sweepFunction?: nodejs.NodejsFunction;
  /** Set with a Zuora connection. */
  readonly fanOutFunction?: nodejs.NodejsFunction;
}

type AlarmOptions = Omit<cloudwatch.AlarmProps, 'alarmDescription' | 'evaluationPeriods'> & {
  evaluationPeriods?: number;
};

/** The bridge's alarms, each notifying the alarm topic (if any) on ALARM and on OK. */
export class BridgeAlarms extends Construct {
  readonly alarms: ZuoraLimioSyncAlarms;
  readonly alarmTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: BridgeAlarmsProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, mainQueue, deadLetterQueue, frontDoor, syncFunction, probeFunction } = props;
    this.alarmTopic = props.alarmTopic ?? this.alarmTopicFor(props.alarmEmail);
    if (this.alarmTopic instanceof sns.Topic) {
      // cdk-nag (AwsSolutions) finding that does not fit alarm notifications; plain construct metadata.
      Validations.of(this.alarmTopic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'Alarm notifications carry alarm names and states only; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key would add cost without protecting anything sensitive.',
      });
    }
    const alarm = (alarmId: string, description: string, options: AlarmOptions) => {
      const created = new cloudwatch.Alarm(this, alarmId, {
        alarmName: `${props.namePrefix}-${alarmId}`,
        alarmDescription: description,
        evaluationPeriods: 1,
        // No data means nothing happened (no messages, no invocations): that is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...options,
      });
      if (this.alarmTopic !== undefined) {
        created.addAlarmAction(new SnsAction(this.alarmTopic));
        created.addOkAction(new SnsAction(this.alarmTopic));
      }
      return created;
    };
    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const atLeastOnce = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    };
    this.alarms = {
      deadLetters: alarm(
        'DeadLettersAlarm',
        'Subscriptions are in the dead-letter queue: they were not synced to Limio. List and replay them with the CLI.',
        {
          metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period: oneMinute,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ),
      oldestMessageAge: alarm(
        'OldestMessageAgeAlarm',
        `A subscription has waited more than ${settings.oldestMessageAgeAlarmSeconds} s on the main queue: the sync is not keeping up, is paused, or Limio keeps failing.`,
        {
          metric: mainQueue.metricApproximateAgeOfOldestMessage({
            period: oneMinute,
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: settings.oldestMessageAgeAlarmSeconds,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        },
      ),
      syncErrors: alarm(
        'SyncErrorsAlarm',
        'The sync Lambda failed whole invocations (configuration, crash or timeout), not single subscriptions: check its logs. An unreadable or refused Limio secret does not show here: it fails each sync as retryable and opens the circuit breaker (BreakerOpenAlarm).',
        {
          metric: syncFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          ...atLeastOnce,
        },
      ),
      syncThrottles: alarm(
        'SyncThrottlesAlarm',
        'The sync Lambda was throttled: the account or regional concurrency limit is reached.',
        {
          metric: syncFunction.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          ...atLeastOnce,
        },
      ),
      api5xx: alarm(
        'Api5xxAlarm',
        'The callout API answered 5xx: Zuora callouts were refused (callout Lambda failing or queue unreachable) and Zuora will retry only a few times.',
        {
          metric: frontDoor.apiMetrics({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }).serverErrors,
          ...atLeastOnce,
        },
      ),
      calloutThrottled: alarm('CalloutThrottledAlarm', CALLOUT_THROTTLED_ALARM_DESCRIPTION, {
        metric: frontDoor.metricThrottledCallouts(),
        ...atLeastOnce,
      }),
      calloutRefused: alarm('CalloutRefusedAlarm', CALLOUT_REFUSED_ALARM_DESCRIPTION, {
        // The per-service total the callout handler publishes with every refusal (the per-reason copy adds a
        // `reason` dimension, a different metric to CloudWatch).
        metric: bridgeMetric('CalloutRefused', CALLOUT_METRICS_SERVICE, fiveMinutes, cloudwatch.Stats.SUM),
        ...atLeastOnce,
      }),
      breakerOpen: alarm('BreakerOpenAlarm', BREAKER_OPEN_ALARM_DESCRIPTION, {
        // The probe publishes the gauge every minute: 0 closed, 1 half-open, 2 open.
        metric: bridgeMetric('BreakerState', BREAKER_METRICS_SERVICE, oneMinute, cloudwatch.Stats.MAXIMUM),
        threshold: breakerGauge('half-open'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // A gap in the gauge (a probe run lost) must neither raise nor clear the alarm.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      visibilityRefused: alarm('VisibilityRefusedAlarm', VISIBILITY_REFUSED_ALARM_DESCRIPTION, {
        metric: bridgeMetric(SYNC_METRICS.visibilityRefused, SYNC_METRICS_SERVICE, fiveMinutes, cloudwatch.Stats.SUM),
        ...atLeastOnce,
      }),
      probeErrors: alarm(
        'ProbeErrorsAlarm',
        "The circuit breaker probe failed in most of its runs over 5 minutes (DynamoDB, the Lambda API or its configuration): the breaker cannot close by itself and the sync event source may not follow it. Check the probe's logs.",
        {
          metric: probeFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          threshold: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        },
      ),
      ...(settings.sweep !== undefined &&
        props.sweepFunction !== undefined &&
        sweepAlarms(settings.sweep, props.sweepFunction, alarm)),
      ...(props.fanOutFunction !== undefined && {
        // As the sync Lambda's: one failed invocation is worth a look.
        fanOutErrors: alarm('FanOutErrorsAlarm', FAN_OUT_ERRORS_ALARM_DESCRIPTION, {
          metric: props.fanOutFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
          ...atLeastOnce,
        }),
      }),
    };
  }

  private alarmTopicFor(email: string | undefined): sns.ITopic | undefined {
    if (email === undefined || email.trim() === '') return undefined;
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'zuora-limio-sync alarms', enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(email.trim()));
    return topic;
  }
}

/**
 * Both over one sweep interval per period, so "in a row" counts sweeps (CloudWatch allows period x evaluation
 * periods up to a day below an hour's period, 7 days above: any interval the settings accept fits).
 */
function sweepAlarms(
  sweep: SweepSettings,
  sweepFunction: nodejs.NodejsFunction,
  alarm: (id: string, description: string, options: AlarmOptions) => cloudwatch.Alarm,
): Pick<ZuoraLimioSyncAlarms, 'sweepFailed' | 'missingCallouts'> {
  const period = Duration.seconds(sweep.intervalSeconds);
  return {
    sweepFailed: alarm('SweepFailedAlarm', SWEEP_FAILED_ALARM_DESCRIPTION, {
      // A sweep that reports its failure also throws (both count); a crash, a timeout or a bad configuration
      // only shows as a Lambda error; a sweep that ends every run out of time only as a growing lag.
      metric: new cloudwatch.MathExpression({
        expression: `FILL(errors, 0) + FILL(failed, 0) + IF(FILL(lag, 0) > ${sweepFallingBehindSeconds(sweep)}, 1, 0)`,
        usingMetrics: {
          errors: sweepFunction.metricErrors({ period, statistic: cloudwatch.Stats.SUM }),
          failed: bridgeMetric(SWEEP_METRICS.failed, SWEEP_SERVICE_NAME, period, cloudwatch.Stats.SUM),
          lag: bridgeMetric(SWEEP_METRICS.lagSeconds, SWEEP_SERVICE_NAME, period, cloudwatch.Stats.MAXIMUM),
        },
        label: 'failed sweeps',
        period,
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: FAILED_SWEEPS,
      datapointsToAlarm: FAILED_SWEEPS,
    }),
    missingCallouts: alarm('MissingCalloutsAlarm', MISSING_CALLOUTS_ALARM_DESCRIPTION, {
      metric: bridgeMetric(SWEEP_METRICS.missing, SWEEP_SERVICE_NAME, period, cloudwatch.Stats.SUM),
      threshold: sweep.missingCalloutsAlarmThreshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: MISSING_CALLOUTS_SWEEPS,
      datapointsToAlarm: MISSING_CALLOUTS_SWEEPS,
    }),
  };
}
