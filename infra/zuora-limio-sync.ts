import * as path from 'node:path';
import { Annotations, Duration, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct, type IConstruct } from 'constructs';
import { breakerGauge } from '../functions/breaker/breaker-state';
import { BREAKER_DEFAULTS } from '../functions/breaker/settings';
import { ConfigError } from '../functions/shared/config-error';
import { LEDGER_PARTITION_KEY, LEDGER_TTL_ATTRIBUTE } from '../functions/ledger/dynamodb-ledger-store';
import { SWEEP_METRICS, SWEEP_SERVICE_NAME } from '../functions/sweep/lambda-sweep';
import { SYNC_METRICS } from '../functions/sync/telemetry';
import { DEFAULTS, mainQueueVisibilityTimeoutSeconds, redriveMaxReceiveCount } from '../functions/shared/defaults';
import { CALLOUT_AUTH_SECRET_TEMPLATES, GENERATED_SECRET_LENGTH, LIMIO_SECRET_PLACEHOLDER, ZUORA_SECRET_PLACEHOLDER } from './secret-templates';
import {
  asCidr,
  EXAMPLE_LIMIO_BASE_URL,
  FAILED_SWEEPS,
  INFRA_DEFAULTS,
  MISSING_CALLOUTS_SWEEPS,
  sweepEnvironment,
  sweepFallingBehindSeconds,
  SWEEP_TIMEOUT_SECONDS,
  isEnhancedSecurityPolicy,
  isIpv6Range,
  resolveBridgeSettings,
  type BridgeSettings,
  type BridgeSettingsInput,
  type CalloutAuthMode,
  type SweepSettings,
} from './settings';

export type { CalloutApiKind, CalloutAuthMode } from './settings';

/** The `service` dimension of each function's custom metrics (set in the handlers, not from the environment). */
const SYNC_METRICS_SERVICE = 'sync';
const CALLOUT_METRICS_SERVICE = 'zuora-limio-callout';
/** The probe's (functions/breaker/probe-lambda.ts): BreakerState, BreakerOpened, BreakerClosed. */
const BREAKER_METRICS_SERVICE = 'breaker';

/**
 * A callout is all or nothing, and a 4xx tells Zuora that retrying will not help: without this alarm a refused
 * callout is lost silently. The reasons are those of functions/callout/callout-handler.ts (RefusalReason).
 */
const CALLOUT_THROTTLED_ALARM_DESCRIPTION =
  'API Gateway answered 429 to callouts: the stage throttle (throttleRateLimit / throttleBurstLimit) was used up, by a bill run\'s peak or by other callers. ' +
  'A throttled callout never reaches the callout Lambda, and Zuora retries it only a few times, slowly: its subscriptions may not be queued. ' +
  'The API access log\'s status-429 lines name the sourceIp: if it is not Zuora, set allowedIpRanges or wafRateLimitPerIp; if it is Zuora, raise the throttle. ' +
  'Then backfill what changed meanwhile with "zuora-limio-sync enqueue". See the README "Deploy to AWS" (the public endpoint).';

const CALLOUT_REFUSED_ALARM_DESCRIPTION =
  'The callout Lambda refused Zuora callouts: none of their subscription ids were queued, and a 4xx means Zuora\'s retries get the same answer. ' +
  'Read the "callout refused" lines in the callout Lambda\'s logs (status, reason, detail): ' +
  'auth-invalid or auth-missing = the callout credentials were rotated on one side only (Zuora or the callout auth secret); ' +
  'no-ids, malformed-body or unsupported-media-type = a Zuora template changed; ' +
  'invalid-id = an id that does not match SUBSCRIPTION_ID_PATTERN; ' +
  'wrong-tenant = a callout from another Zuora tenant than expectedZuoraTenantId (a sandbox pointed at this endpoint: fix that tenant\'s callout URL, nothing to backfill); ' +
  'too-many-ids or body-too-large = more ids than calloutMaxIds / calloutMaxBodyBytes allow; ' +
  '5xx reasons (auth-unavailable, queue-unavailable, internal-error) also raise Api5xxAlarm. ' +
  'Fix the cause, then backfill the refused subscriptions with "zuora-limio-sync enqueue". See the README runbook "A callout was refused".';

/**
 * Should never fire: every visibility the sync Lambda asks for is kept within SQS's 12 hours from the receive.
 * If SQS still refuses one, each refusal spends a receive towards the redrive count, which moves a message to the
 * DLQ without a reason.
 */
const VISIBILITY_REFUSED_ALARM_DESCRIPTION =
  'SQS refused a ChangeMessageVisibility the sync Lambda asked for (a hold while the breaker is open, or a backoff): the message came back after the main queue\'s visibility timeout instead, one more receive towards the redrive count. ' +
  'Read the sync Lambda\'s "SQS refused the ... visibility" log lines (error code): a limit of SQS the code does not know, or a permission removed from the sync role. ' +
  'Messages past MAX_ATTEMPTS receives are dead-lettered as exhausted with their reason; replay them once the cause is fixed.';

/**
 * Not "nothing to do": a Limio secret that is unreadable or refused fails every token request, which keeps the
 * breaker open on purpose (nothing could sync) until an operator fixes the secret.
 */
const BREAKER_OPEN_ALARM_DESCRIPTION =
  'Outage mode: the circuit breaker is open (or half-open, letting a small batch through); sync polling is paused and messages wait in the main queue. ' +
  'The OK notification means the breaker closed and the backlog is draining. Run "zuora-limio-sync status" for the reason. ' +
  'If the reason is about the token (token endpoint failed, or refused the client credentials), read the probe Lambda\'s "Limio probed" log lines: ' +
  '"refused the client credentials" or "cannot read the Limio credentials secret" means the Limio secret is wrong or unreadable, not that Limio is down; ' +
  'the breaker stays open on purpose until you fix the secret (the next probe reads it again). ' +
  'Otherwise Limio is down: the breaker closes by itself when it is back. ' +
  'A message held close to the queue\'s 14-day retention is dead-lettered as exhausted. See the README "When Limio is down".';

const SWEEP_FAILED_ALARM_DESCRIPTION =
  `The reconciliation sweep failed, or fell behind, in ${FAILED_SWEEPS} sweep intervals in a row: changes whose callout never came are not being found (in time). ` +
  'Read the sweep Lambda\'s ERROR line ("sweep failed: ... error (<kind>)"): ' +
  'credentials = the Zuora secret (ZuoraSecretArn output) still holds the created stand-ins, or Zuora refused its {"clientId","clientSecret"} (an OAuth client of a Zuora user with API access; fill or fix the secret, the next sweep reads it); ' +
  'rate-limited = the tenant\'s API limits are used up by other integrations (the sweep retries and resumes from its watermark); ' +
  'unavailable or deadline = Zuora did not answer in time; refused or protocol = zuoraBaseUrl or zuoraEntityId is wrong; enqueue = the main queue refused messages. ' +
  'No ERROR line but "sweep out-of-time" lines with a growing lag (sweepLagSeconds): each run stops at its deadline before reading its window, Zuora answers slowly for this much change; it catches up by itself if the volume drops, otherwise read the gap with "zuora-limio-sync sweep --since". ' +
  'Callouts still sync meanwhile: the sweep is never on their path. Once fixed, the next sweep reads from where the last complete one ended (a longer outage: "zuora-limio-sync sweep --since"). See the README "Reconciliation sweep".';

const MISSING_CALLOUTS_ALARM_DESCRIPTION =
  `Subscriptions changed in Zuora without a sync (no callout reached the bridge) in ${MISSING_CALLOUTS_SWEEPS} sweeps in a row; the sweep queued them, so Limio catches up, but callouts are being lost. ` +
  'Check in Zuora: the workflow or notification that sends the callout (disabled, edited, its filter or event changed, or a new kind of change it does not cover); ' +
  'its delivery history (failing or retried callouts, a wrong URL or credential); ' +
  'and on the bridge: CalloutRefusedAlarm / CalloutThrottledAlarm / Api5xxAlarm (callouts refused or throttled). ' +
  'The sweep\'s log lines name how many were queued per run. See the README runbook "Callouts are missing".';

/** Shown on their own dashboard widget, not among the Limio calls. */
const LEDGER_SYNC_METRICS: readonly string[] = [SYNC_METRICS.coveredByLedger, SYNC_METRICS.heldForCooldown, SYNC_METRICS.ledgerUnavailable];

/** The probe makes one token request (and optionally one sync) per run, well inside its schedule's minute. */
const PROBE_TIMEOUT_SECONDS = 30;
const PROBE_LIMIO_TIMEOUT_MS = 10_000;

/**
 * How the Limio secret is created: a placeholder clientId and a generated stand-in clientSecret. Never change it:
 * CloudFormation generates a new value (over the operator's real credentials) whenever this block changes.
 */
export const LIMIO_SECRET_GENERATION: secretsmanager.SecretStringGenerator = {
  secretStringTemplate: JSON.stringify({ clientId: LIMIO_SECRET_PLACEHOLDER.clientId }),
  generateStringKey: 'clientSecret',
  excludePunctuation: true,
  passwordLength: 32,
};

/**
 * How the Zuora secret is created, as for Limio: a placeholder clientId and a generated stand-in clientSecret,
 * both replaced by the operator. Never change it: a changed block makes CloudFormation generate a new value over
 * the operator's credentials.
 */
export const ZUORA_SECRET_GENERATION: secretsmanager.SecretStringGenerator = {
  secretStringTemplate: JSON.stringify({ clientId: ZUORA_SECRET_PLACEHOLDER.clientId }),
  generateStringKey: 'clientSecret',
  excludePunctuation: true,
  passwordLength: 32,
};

/** Lambda's longest maximum event age for asynchronous invocations. */
const MAX_ASYNC_EVENT_AGE_SECONDS = 6 * 60 * 60;

const WAF_RATE_RULE_NAME = 'PerIpRateLimit';

/** The path Zuora calls (POST and GET), on either kind of API. */
export const CALLOUT_PATH = 'zuora/callout';

const PROJECT_ROOT = path.join(__dirname, '..');

export interface ZuoraLimioSyncProps extends BridgeSettingsInput {
  /**
   * Complete ARN (with its 6-character suffix) of an existing secret holding `{"clientId","clientSecret"}`.
   * @default a new secret with placeholder values to fill in before the first sync
   */
  readonly limioSecretArn?: string;
  /**
   * Complete ARN of an existing secret holding the Zuora OAuth client `{"clientId","clientSecret"}` the sweep uses
   * (needs `zuoraBaseUrl`).
   * @default a new secret with placeholder values to fill in (the sweep fails, and says so, until then)
   */
  readonly zuoraSecretArn?: string;
  /**
   * Complete ARN of an existing callout auth secret (JSON as in the README); its `mode` must match
   * `calloutAuthMode`, which shapes the API.
   * @default a new secret for `calloutAuthMode` with a generated password / header value / HMAC key
   */
  readonly calloutAuthSecretArn?: string;
  /**
   * Customer managed key for both queues. The functions get exactly the key use their queue work needs.
   * @default SQS-managed server-side encryption (SSE-SQS)
   */
  readonly queueEncryptionKey?: kms.IKey;
  /** Topic the alarms notify (alarm and OK). Takes precedence over `alarmEmail`. */
  readonly alarmTopic?: sns.ITopic;
  /** Creates a topic with this email subscription when no `alarmTopic` is given. @default no notifications */
  readonly alarmEmail?: string;
  /**
   * REST API only: create the account-wide role API Gateway needs to write logs (one per region and account;
   * set false when the account already has one, e.g. from another stack).
   * @default true
   */
  readonly createApiGatewayCloudWatchRole?: boolean;
}

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
  /** Sweep on: subscriptions changed in Zuora without a sync in consecutive sweeps (callouts are missing). */
  readonly missingCallouts?: cloudwatch.Alarm;
}

/**
 * The whole Zuora → Limio bridge: callout API, callout Lambda, SQS main queue and DLQ, sync Lambda, secrets,
 * alarms and a dashboard, with secure defaults. Drop it into any stack:
 *
 * ```ts
 * new ZuoraLimioSync(this, 'Bridge', { limioBaseUrl: 'https://acme.prod.limio.com' });
 * ```
 *
 * Outage mode (README "When Limio is down") is built in: a small DynamoDB table holds the circuit breaker
 * shared by every sync instance; sync instances trip it; a probe Lambda on a schedule probes Limio while it is
 * open, closes it through half-open, and is the only thing allowed to disable, cap and re-enable the sync event
 * source mapping. The template leaves the mapping's `Enabled` unset; a deployment that changes the mapping may
 * reset a pause made at run time, which the probe re-asserts on its next run (within a minute).
 */
export class ZuoraLimioSync extends Construct {
  /** The resolved settings (defaults applied), for code that builds on this construct. */
  readonly settings: BridgeSettings;
  readonly mainQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly limioSecret: secretsmanager.ISecret;
  readonly calloutAuthSecret: secretsmanager.ISecret;
  readonly calloutFunction: nodejs.NodejsFunction;
  readonly syncFunction: nodejs.NodejsFunction;
  /** The SQS → sync Lambda mapping; `eventSourceMappingId` is the UUID Lambda's UpdateEventSourceMapping takes. */
  readonly syncEventSourceMapping: lambda.EventSourceMapping;
  /** The circuit breaker's state and outcome windows (partition key `pk`, TTL `expiresAt`). */
  readonly breakerTable: dynamodb.Table;
  /**
   * The sync ledger (partition key `subscriptionId`, TTL `expiresAt`): one item per subscription, the last sync's
   * start and outcome; also holds the sweep's watermark item (`sweep#<host>#<entity>`).
   */
  readonly ledgerTable: dynamodb.Table;
  /** Set when `zuoraBaseUrl` is: the reconciliation sweep, its schedule and the Zuora secret. */
  readonly sweepFunction?: nodejs.NodejsFunction;
  readonly sweepSchedule?: events.Rule;
  readonly zuoraSecret?: secretsmanager.ISecret;
  /** Probes Limio while the breaker is open and makes the sync event source follow the breaker. */
  readonly probeFunction: nodejs.NodejsFunction;
  readonly probeSchedule: events.Rule;
  /** Set when `apiKind` is `rest`. */
  readonly restApi?: apigw.RestApi;
  /** Set when `apiKind` is `http`. */
  readonly httpApi?: apigwv2.HttpApi;
  /** The API's JSON access log; its status-429 lines feed the CalloutThrottled metric. */
  readonly apiAccessLogs: logs.LogGroup;
  /** Set when `wafRateLimitPerIp` is: the web ACL on the REST API stage. */
  readonly webAcl?: wafv2.CfnWebACL;
  /** The full URL to give Zuora. */
  readonly calloutUrl: string;
  readonly alarmTopic?: sns.ITopic;
  readonly alarms: ZuoraLimioSyncAlarms;
  readonly dashboard: cloudwatch.Dashboard;
  /** The secrets' customer managed key (`secretsKmsKeyArn`), when there is one. */
  private readonly secretsKey?: kms.IKey;

  constructor(scope: Construct, id: string, props: ZuoraLimioSyncProps) {
    super(scope, id);
    const settings = resolveBridgeSettings(props);
    this.settings = settings;
    if (settings.limioBaseUrl === EXAMPLE_LIMIO_BASE_URL) {
      Annotations.of(this).addWarningV2(
        'zuora-limio-sync:exampleLimioUrl',
        `limioBaseUrl is still the example ${EXAMPLE_LIMIO_BASE_URL}: set your tenant's URL (cdk.json or -c limioBaseUrl=...) before deploying`,
      );
    }
    if (settings.apiKind === 'http' && settings.calloutAuthMode === 'basic') {
      Annotations.of(this).addWarningV2(
        'zuora-limio-sync:httpApiBasic',
        'an HTTP API cannot send the 401 Basic challenge Zuora waits for: enable "Preemptive Authentication" on every Zuora callout, or use apiKind "rest"',
      );
    }

    const statefulRemoval = settings.retainStatefulResources ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    this.secretsKey = settings.secretsKmsKeyArn === undefined ? undefined : kms.Key.fromKeyArn(this, 'SecretsKey', settings.secretsKmsKeyArn);
    ({ mainQueue: this.mainQueue, deadLetterQueue: this.deadLetterQueue } = this.createQueues(settings, props.queueEncryptionKey, statefulRemoval));
    this.limioSecret = this.limioSecretFor(props.limioSecretArn, statefulRemoval);
    this.calloutAuthSecret = this.calloutAuthSecretFor(props.calloutAuthSecretArn, settings.calloutAuthMode, statefulRemoval);
    this.breakerTable = this.createBreakerTable(statefulRemoval);
    this.ledgerTable = this.createLedgerTable(statefulRemoval);
    if (props.zuoraSecretArn !== undefined && settings.sweep === undefined) {
      throw new ConfigError('zuoraBaseUrl', 'is required for zuoraSecretArn: the sweep is off without it');
    }
    if (settings.sweep !== undefined) this.zuoraSecret = this.zuoraSecretFor(props.zuoraSecretArn, statefulRemoval);

    this.calloutFunction = this.createFunction('Callout', {
      entry: path.join(PROJECT_ROOT, 'functions', 'callout', 'handler.ts'),
      description: 'zuora-limio-sync: authenticates Zuora callouts and queues their subscription ids',
      timeout: Duration.seconds(INFRA_DEFAULTS.calloutTimeoutSeconds),
      environment: {
        QUEUE_URL: this.mainQueue.queueUrl,
        CALLOUT_AUTH_SECRET_ID: this.calloutAuthSecret.secretArn,
        CALLOUT_REALM: settings.calloutRealm,
        CALLOUT_DELAY_SECONDS: String(settings.calloutDelaySeconds),
        CALLOUT_MAX_IDS: String(settings.calloutMaxIds),
        CALLOUT_MAX_BODY_BYTES: String(settings.calloutMaxBodyBytes),
        ...(settings.calloutIdField === undefined ? {} : { CALLOUT_ID_FIELD: settings.calloutIdField }),
        ...(settings.expectedZuoraTenantId === undefined ? {} : { CALLOUT_EXPECTED_TENANT_ID: settings.expectedZuoraTenantId }),
        ...this.sharedEnvironment(settings),
      },
    }, settings);
    this.syncFunction = this.createFunction('Sync', {
      entry: path.join(PROJECT_ROOT, 'functions', 'sync', 'handler.ts'),
      description: 'zuora-limio-sync: asks Limio to sync each queued subscription; retries via SQS, dead-letters with the reason',
      timeout: Duration.seconds(settings.syncTimeoutSeconds),
      environment: {
        QUEUE_URL: this.mainQueue.queueUrl,
        DLQ_URL: this.deadLetterQueue.queueUrl,
        LIMIO_BASE_URL: settings.limioBaseUrl,
        LIMIO_SECRET_ID: this.limioSecret.secretArn,
        SYNC_CONCURRENCY: String(settings.syncConcurrency),
        BREAKER_TABLE_NAME: this.breakerTable.tableName,
        RETRY_BUDGET_SECONDS: String(settings.retryBudgetSeconds),
        MAX_ATTEMPTS: String(settings.maxAttempts),
        LIMIO_TIMEOUT_MS: String(settings.limioTimeoutMs),
        BACKOFF_BASE_SECONDS: String(settings.backoffBaseSeconds),
        BACKOFF_MAX_SECONDS: String(settings.backoffMaxSeconds),
        LEDGER_TABLE_NAME: this.ledgerTable.tableName,
        SYNC_COOLDOWN_SECONDS: String(settings.syncCooldownSeconds),
        SYNC_CLOCK_MARGIN_SECONDS: String(settings.syncClockMarginSeconds),
        ...this.sharedEnvironment(settings),
      },
    }, settings);
    this.grantLeastPrivilege(props.queueEncryptionKey);

    this.syncEventSourceMapping = new lambda.EventSourceMapping(this, 'SyncEventSource', {
      target: this.syncFunction,
      eventSourceArn: this.mainQueue.queueArn,
      batchSize: settings.batchSize,
      maxBatchingWindow: Duration.seconds(settings.batchingWindowSeconds),
      reportBatchItemFailures: true,
      // The Limio protection cap: at most maxConcurrency x SYNC_CONCURRENCY calls reach Limio at once.
      maxConcurrency: settings.syncInvocationConcurrency,
    });
    // Lambda checks the role's SQS permissions when the mapping is created: create the policy first.
    this.syncEventSourceMapping.node.addDependency(this.syncFunction.role!);
    ({ probeFunction: this.probeFunction, probeSchedule: this.probeSchedule } = this.createProbe(settings));
    if (settings.sweep !== undefined) {
      ({ sweepFunction: this.sweepFunction, sweepSchedule: this.sweepSchedule } = this.createSweep(settings, settings.sweep, props.queueEncryptionKey));
    }

    if (settings.apiKind === 'rest') {
      ({ api: this.restApi, accessLogs: this.apiAccessLogs } = this.createRestApi(settings, props.createApiGatewayCloudWatchRole ?? true));
      this.calloutUrl = `${this.restApi.url}${CALLOUT_PATH}`;
      if (settings.wafRateLimitPerIp !== undefined) this.webAcl = this.createWebAcl(this.restApi.deploymentStage, settings.wafRateLimitPerIp, settings.wafExemptIpRanges);
    } else {
      const { api, stage, accessLogs } = this.createHttpApi(settings);
      this.httpApi = api;
      this.apiAccessLogs = accessLogs;
      this.calloutUrl = `${stage.url}${CALLOUT_PATH}`;
    }
    this.countThrottledCallouts(this.apiAccessLogs);

    this.alarmTopic = props.alarmTopic ?? this.alarmTopicFor(props.alarmEmail);
    this.alarms = this.createAlarms(settings);
    this.dashboard = this.createDashboard();
    this.acknowledgeAcceptedFindings(settings);
  }

  /**
   * Stack name, construct path and a hash: names operators recognise (alarm emails, API metrics) and unique per
   * bridge in an account and region (alarm names must be; the path alone would repeat in a second stack).
   */
  private namePrefix(): string {
    return `${Stack.of(this).stackName}-${Names.uniqueResourceName(this, { separator: '-', maxLength: 64 })}`;
  }

  private createQueues(settings: BridgeSettings, key: kms.IKey | undefined, removalPolicy: RemovalPolicy) {
    const encryption = key === undefined
      ? { encryption: sqs.QueueEncryption.SQS_MANAGED }
      : { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: key };
    const retentionPeriod = Duration.seconds(DEFAULTS.retentionSeconds);
    // Retained by default: the DLQ holds what could not be synced, with the reasons, and the main queue what waits.
    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', { ...encryption, enforceSSL: true, retentionPeriod, removalPolicy });
    const mainQueue = new sqs.Queue(this, 'MainQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy,
      visibilityTimeout: Duration.seconds(mainQueueVisibilityTimeoutSeconds(settings.syncTimeoutSeconds)),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: redriveMaxReceiveCount(settings.maxAttempts) },
    });
    return { mainQueue, deadLetterQueue };
  }

  /**
   * One state item and short-lived outcome buckets (expired by TTL): a few writes per sync batch, so on-demand
   * billing costs next to nothing. Retained by default with the other stateful resources: its open intervals
   * are what retry budgets discount, and a breaker opened by hand must not close because a stack was replaced.
   */
  private createBreakerTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, 'BreakerTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Billed by table size, which stays a few kilobytes: cheap insurance against a mistaken write.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }

  /**
   * The sync ledger: read once per sync batch (BatchGetItem) and written once per Limio call, so on-demand billing
   * follows the traffic. Retained with the other stateful resources: it is what lets a redelivered or swept change
   * cost no second Limio call. Encrypted at rest with the AWS owned key, like the breaker table: it holds
   * subscription numbers, times, Limio ids and error texts, no secret.
   */
  private createLedgerTable(removalPolicy: RemovalPolicy): dynamodb.Table {
    return new dynamodb.Table(this, 'LedgerTable', {
      partitionKey: { name: LEDGER_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: LEDGER_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    });
  }

  /** Like the Limio secret: only the operator's put holds real credentials, and no update overwrites them. */
  private zuoraSecretFor(arn: string | undefined, removalPolicy: RemovalPolicy): secretsmanager.ISecret {
    if (arn !== undefined) return secretsmanager.Secret.fromSecretCompleteArn(this, 'ZuoraSecret', completeSecretArn('zuoraSecretArn', arn));
    return new secretsmanager.Secret(this, 'ZuoraSecret', {
      description: 'zuora-limio-sync: Zuora OAuth client credentials {"clientId","clientSecret"} for the reconciliation sweep; put your own (the created values are stand-ins)',
      generateSecretString: ZUORA_SECRET_GENERATION,
      encryptionKey: this.secretsKey,
      removalPolicy,
    });
  }

  /**
   * The reconciliation sweep on an EventBridge schedule: one run at a time (reserved concurrency 1), never retried
   * (the next run reads from the watermark), and never on the callout path: it only reads Zuora and the ledger and
   * sends to the main queue.
   */
  private createSweep(settings: BridgeSettings, sweep: SweepSettings, queueKey: kms.IKey | undefined): { sweepFunction: nodejs.NodejsFunction; sweepSchedule: events.Rule } {
    const interval = Duration.seconds(sweep.intervalSeconds);
    // A run that waited longer than an interval (throttled behind a slow one) is superseded by the next.
    const maxEventAge = Duration.seconds(Math.min(sweep.intervalSeconds, MAX_ASYNC_EVENT_AGE_SECONDS));
    const sweepFunction = this.createFunction('Sweep', {
      entry: path.join(PROJECT_ROOT, 'functions', 'sweep', 'handler.ts'),
      description: 'zuora-limio-sync: reconciliation sweep; reads what Zuora changed and queues the subscriptions with no sync since',
      timeout: Duration.seconds(SWEEP_TIMEOUT_SECONDS),
      environment: {
        QUEUE_URL: this.mainQueue.queueUrl,
        LEDGER_TABLE_NAME: this.ledgerTable.tableName,
        ZUORA_SECRET_ID: this.zuoraSecret!.secretArn,
        ...sweepEnvironment(sweep),
        ...this.sharedEnvironment(settings),
      },
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      maxEventAge,
    }, settings);
    const role = sweepFunction.role!;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'QueueMissedChanges',
      actions: ['sqs:SendMessage'],
      resources: [this.mainQueue.queueArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadLedger',
      actions: ['dynamodb:BatchGetItem'],
      resources: [this.ledgerTable.tableArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadWriteSweepWatermark',
      // Its one watermark item, nothing a sync wrote.
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [this.ledgerTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [sweep.watermarkKey] } },
    }));
    this.grantSecretRead(role, 'ReadZuoraSecret', this.zuoraSecret!);
    if (queueKey !== undefined) queueKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    const sweepSchedule = new events.Rule(this, 'SweepSchedule', {
      description: `zuora-limio-sync: runs the reconciliation sweep every ${sweep.intervalSeconds / 60} minutes`,
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(sweepFunction, { retryAttempts: 0, maxEventAge })],
    });
    return { sweepFunction, sweepSchedule };
  }

  /**
   * The probe Lambda on an EventBridge schedule (every minute). It reuses the sync Lambda's token and sync
   * clients and the Limio secret; only it may touch the sync event source mapping (the sync instances write the
   * breaker, the probe applies it), which also keeps the mapping out of the sync function's own dependencies.
   */
  private createProbe(settings: BridgeSettings): { probeFunction: nodejs.NodejsFunction; probeSchedule: events.Rule } {
    const probeFunction = this.createFunction('Probe', {
      entry: path.join(PROJECT_ROOT, 'functions', 'breaker', 'handler.ts'),
      description: 'zuora-limio-sync: circuit breaker probe; checks Limio while the breaker is open and pauses or resumes the sync event source',
      timeout: Duration.seconds(PROBE_TIMEOUT_SECONDS),
      environment: {
        BREAKER_TABLE_NAME: this.breakerTable.tableName,
        SYNC_EVENT_SOURCE_MAPPING_ID: this.syncEventSourceMapping.eventSourceMappingId,
        // Restored when the breaker closes (half-open runs at the smallest cap Lambda allows, 2).
        SYNC_MAX_CONCURRENCY: String(settings.syncInvocationConcurrency),
        LIMIO_BASE_URL: settings.limioBaseUrl,
        LIMIO_SECRET_ID: this.limioSecret.secretArn,
        LIMIO_TIMEOUT_MS: String(Math.min(settings.limioTimeoutMs, PROBE_LIMIO_TIMEOUT_MS)),
        ...(settings.probeSubscriptionId === undefined ? {} : { PROBE_SUBSCRIPTION_ID: settings.probeSubscriptionId }),
        ...this.sharedEnvironment(settings),
      },
    }, settings);
    const role = probeFunction.role!;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadWriteBreakerState',
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [this.breakerTable.tableArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'PauseResumeSyncEventSource',
      // This one mapping, nothing else of Lambda's.
      actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
      resources: [this.syncEventSourceMapping.eventSourceMappingArn],
    }));
    this.grantSecretRead(role, 'ReadLimioSecret', this.limioSecret);
    const probeSchedule = new events.Rule(this, 'ProbeSchedule', {
      description: 'zuora-limio-sync: runs the circuit breaker probe every minute',
      schedule: events.Schedule.rate(Duration.seconds(BREAKER_DEFAULTS.probeIntervalSeconds)),
      targets: [new targets.LambdaFunction(probeFunction, {
        // The next run is a minute away: a stale or retried run would only repeat it.
        retryAttempts: 0,
        maxEventAge: Duration.minutes(1),
      })],
    });
    return { probeFunction, probeSchedule };
  }

  /**
   * The real credentials are put by the operator, outside the template, so the template must hold no value an
   * update could push back over them: a SecretString is written again whenever CloudFormation updates it, a
   * GenerateSecretString only when its own block changes, which LIMIO_SECRET_GENERATION pins. The generated
   * clientSecret is a stand-in (Limio refuses it, like the placeholder clientId) until the operator's put.
   */
  private limioSecretFor(arn: string | undefined, removalPolicy: RemovalPolicy): secretsmanager.ISecret {
    if (arn !== undefined) return secretsmanager.Secret.fromSecretCompleteArn(this, 'LimioSecret', completeSecretArn('limioSecretArn', arn));
    return new secretsmanager.Secret(this, 'LimioSecret', {
      description: 'zuora-limio-sync: Limio OAuth client credentials {"clientId","clientSecret"}; put the ones from Limio (the created values are stand-ins)',
      generateSecretString: LIMIO_SECRET_GENERATION,
      encryptionKey: this.secretsKey,
      removalPolicy,
    });
  }

  private calloutAuthSecretFor(arn: string | undefined, mode: CalloutAuthMode, removalPolicy: RemovalPolicy): secretsmanager.ISecret {
    if (arn !== undefined) {
      return secretsmanager.Secret.fromSecretCompleteArn(this, 'CalloutAuthSecret', completeSecretArn('calloutAuthSecretArn', arn));
    }
    // The shared secret is ours to choose: generated strong at deploy time, never in the template.
    const { fields, generatedField } = CALLOUT_AUTH_SECRET_TEMPLATES[mode];
    return new secretsmanager.Secret(this, 'CalloutAuthSecret', {
      description: `zuora-limio-sync: how Zuora callouts authenticate (mode ${mode}); copy the generated "${generatedField}" into Zuora`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify(fields),
        generateStringKey: generatedField,
        // Letters and digits only: survives Zuora's UI, Basic's user:password split and header quoting.
        excludePunctuation: true,
        passwordLength: GENERATED_SECRET_LENGTH,
      },
      encryptionKey: this.secretsKey,
      removalPolicy,
    });
  }

  /**
   * GetSecretValue on exactly this secret and, with a customer managed key, kms:Decrypt on that key only when
   * Secrets Manager asks on the function's behalf (kms:ViaService) for this very secret (its encryption context).
   */
  private grantSecretRead(role: iam.IRole, sid: string, secret: secretsmanager.ISecret): void {
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions: ['secretsmanager:GetSecretValue'], resources: [secret.secretArn] }));
    if (this.secretsKey === undefined) return;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: `${sid}Key`,
      actions: ['kms:Decrypt'],
      resources: [this.secretsKey.keyArn],
      conditions: {
        StringEquals: {
          'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
          'kms:EncryptionContext:SecretARN': secret.secretArn,
        },
      },
    }));
  }

  private sharedEnvironment(settings: BridgeSettings): Record<string, string> {
    return {
      ...(settings.subscriptionIdPattern === undefined ? {} : { SUBSCRIPTION_ID_PATTERN: settings.subscriptionIdPattern }),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: INFRA_DEFAULTS.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: INFRA_DEFAULTS.metricsNamespace,
    };
  }

  private createFunction(
    name: 'Callout' | 'Sync' | 'Probe' | 'Sweep',
    options: {
      entry: string;
      description: string;
      timeout: Duration;
      environment: Record<string, string>;
    } & Pick<nodejs.NodejsFunctionProps, 'reservedConcurrentExecutions' | 'retryAttempts' | 'maxEventAge'>,
    settings: BridgeSettings,
  ): nodejs.NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${name}Logs`, {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group and nothing else
    // until the grants below add exactly what the function needs.
    const role = new iam.Role(this, `${name}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `zuora-limio-sync ${name.toLowerCase()} function`,
    });
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }));
    return new nodejs.NodejsFunction(this, `${name}Function`, {
      entry: options.entry,
      handler: 'handler',
      description: options.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: options.timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: options.environment,
      reservedConcurrentExecutions: options.reservedConcurrentExecutions,
      retryAttempts: options.retryAttempts,
      maxEventAge: options.maxEventAge,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        // The project's own esbuild: synth needs neither Docker nor network.
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: 'node24',
        format: nodejs.OutputFormat.CJS,
        // The Lambda runtime ships AWS SDK v3: leaving it out keeps the bundle, and so the cold start, small.
        externalModules: ['@aws-sdk/*'],
      },
    });
  }

  private grantLeastPrivilege(key: kms.IKey | undefined): void {
    const calloutRole = this.calloutFunction.role!;
    const syncRole = this.syncFunction.role!;
    calloutRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'QueueSubscriptionIds',
      actions: ['sqs:SendMessage'],
      resources: [this.mainQueue.queueArn],
    }));
    this.grantSecretRead(calloutRole, 'ReadCalloutAuthSecret', this.calloutAuthSecret);
    syncRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ConsumeMainQueue',
      // Receive/Delete/GetQueueAttributes for the event source mapping; ChangeMessageVisibility for backoff.
      actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
      resources: [this.mainQueue.queueArn],
    }));
    syncRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DeadLetter',
      actions: ['sqs:SendMessage'],
      resources: [this.deadLetterQueue.queueArn],
    }));
    this.grantSecretRead(syncRole, 'ReadLimioSecret', this.limioSecret);
    syncRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadWriteBreakerState',
      // Read the breaker before a batch; one atomic counter update per batch, and the conditional write that trips it.
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
      resources: [this.breakerTable.tableArn],
    }));
    syncRole.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadWriteLedger',
      // One batched read per batch; the claim before a Limio call and the outcome after it are conditional updates.
      actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      resources: [this.ledgerTable.tableArn],
    }));
    if (key !== undefined) {
      // SSE-KMS: sending needs a data key, receiving needs to decrypt it.
      key.grant(calloutRole, 'kms:GenerateDataKey', 'kms:Decrypt');
      key.grant(syncRole, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
  }

  private createRestApi(settings: BridgeSettings, createCloudWatchRole: boolean): { api: apigw.RestApi; accessLogs: logs.LogGroup } {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const api = new apigw.RestApi(this, 'CalloutApi', {
      // Unique per bridge: REST API metrics (and so the 5xx alarm) are keyed by the API's name.
      restApiName: `${this.namePrefix()}-callout`,
      description: 'zuora-limio-sync: Zuora callout endpoint',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole: createCloudWatchRole,
      policy: settings.allowedIpRanges.length > 0 ? ipAllowlistPolicy(settings.allowedIpRanges) : undefined,
      deployOptions: {
        stageName: 'live',
        throttlingRateLimit: settings.throttleRateLimit,
        throttlingBurstLimit: settings.throttleBurstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.custom(REST_ACCESS_LOG_FORMAT),
        // Execution logs for errors only, and never request/response data (it would hold the Authorization header).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
      },
    });
    // The L2 RestApi has no security policy prop yet; CloudFormation's RestApi has (2025).
    const cfnApi = api.node.defaultChild as apigw.CfnRestApi;
    cfnApi.securityPolicy = settings.apiSecurityPolicy;
    if (isEnhancedSecurityPolicy(settings.apiSecurityPolicy)) cfnApi.endpointAccessMode = 'STRICT';
    // API Gateway applies a changed security policy once the API is deployed again: a new policy, a new deployment.
    api.latestDeployment?.addToLogicalId({ securityPolicy: cfnApi.securityPolicy, endpointAccessMode: cfnApi.endpointAccessMode });
    const resource = api.root.resourceForPath(CALLOUT_PATH);
    const integration = new apigw.LambdaIntegration(this.calloutFunction, { proxy: true, allowTestInvoke: false });
    const methodOptions = settings.calloutAuthMode === 'basic' ? this.basicChallenge(api, settings.calloutRealm) : {};
    for (const method of ['POST', 'GET']) resource.addMethod(method, integration, methodOptions);
    return { api, accessLogs };
  }

  /**
   * A per-IP rate-based rule in front of the stage: WAF is evaluated before the stage throttle, so one address
   * flooding the endpoint is blocked (403) instead of using up the throttle Zuora's callouts need. Zuora's
   * addresses never count: a bill run comes from a few of them.
   */
  private createWebAcl(stage: apigw.Stage, limit: number, exemptRanges: readonly string[]): wafv2.CfnWebACL {
    const ipSets = (['IPV4', 'IPV6'] as const).flatMap((version) => {
      const addresses = exemptRanges.filter((range) => isIpv6Range(range) === (version === 'IPV6')).map(asCidr);
      if (addresses.length === 0) return [];
      return [new wafv2.CfnIPSet(this, `ZuoraAddresses${version === 'IPV4' ? 'V4' : 'V6'}`, {
        scope: 'REGIONAL',
        ipAddressVersion: version,
        addresses,
        description: 'zuora-limio-sync: Zuora callout addresses, exempt from the per-IP rate limit',
      })];
    });
    const fromZuora = ipSets.map((set) => ({ ipSetReferenceStatement: { arn: set.attrArn } }));
    // Sampled requests would show whole requests, Authorization header included, in the WAF console.
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: false });
    const webAcl = new wafv2.CfnWebACL(this, 'CalloutWebAcl', {
      // Named, so the dashboard can address its metrics (AWS/WAFV2 by WebACL name). Unique per bridge in a region
      // like the alarm names (stack name and construct path), kept within WAF's 128 characters.
      name: `${Stack.of(this).stackName.slice(0, 40)}-${Names.uniqueResourceName(this, { separator: '-', maxLength: 80 })}-callout`,
      scope: 'REGIONAL',
      description: 'zuora-limio-sync: per-IP rate limit on the callout API, Zuora exempt',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('ZuoraLimioSyncCalloutAcl'),
      rules: [{
        name: WAF_RATE_RULE_NAME,
        priority: 0,
        action: { block: {} },
        visibilityConfig: visibility('ZuoraLimioSyncPerIpRateLimit'),
        statement: {
          rateBasedStatement: {
            limit,
            aggregateKeyType: 'IP',
            evaluationWindowSec: 300,
            scopeDownStatement: { notStatement: { statement: fromZuora.length === 1 ? fromZuora[0] : { orStatement: { statements: fromZuora } } } },
          },
        },
      }],
    });
    new wafv2.CfnWebACLAssociation(this, 'CalloutWebAclAssociation', { resourceArn: stage.stageArn, webAclArn: webAcl.attrArn });
    return webAcl;
  }

  /**
   * A throttled callout is answered by API Gateway and never reaches the Lambda, so only the access log sees it:
   * every status-429 line counts one CalloutThrottled, by API id (unique per bridge in an account).
   */
  private countThrottledCallouts(accessLogs: logs.LogGroup): void {
    new logs.MetricFilter(this, 'CalloutThrottledFilter', {
      logGroup: accessLogs,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: INFRA_DEFAULTS.metricsNamespace,
      metricName: 'CalloutThrottled',
      metricValue: '1',
      dimensions: { ApiId: '$.apiId' },
      unit: cloudwatch.Unit.COUNT,
    });
  }

  private calloutThrottledMetric(): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: INFRA_DEFAULTS.metricsNamespace,
      metricName: 'CalloutThrottled',
      dimensionsMap: { ApiId: this.restApi?.restApiId ?? this.httpApi!.apiId },
      period: Duration.minutes(5),
      statistic: cloudwatch.Stats.SUM,
    });
  }

  /**
   * Zuora's default Basic auth is not preemptive: it sends credentials only after a 401 carrying
   * `WWW-Authenticate`. API Gateway renames that header when a Lambda returns it, so the challenge must come
   * from API Gateway itself: the method requires an Authorization header, and the gateway response for a
   * missing required parameter becomes that 401. Requests that carry credentials reach the Lambda, which
   * verifies them (a request validator rather than a Lambda authorizer: no second function, no authorizer
   * cache, and the one credential check is the callout handler's own, the same code the local runtime runs).
   */
  private basicChallenge(api: apigw.RestApi, realm: string): apigw.MethodOptions {
    const validator = api.addRequestValidator('RequireAuthorizationHeader', {
      requestValidatorName: 'require-authorization-header',
      validateRequestParameters: true,
      validateRequestBody: false,
    });
    api.addGatewayResponse('BasicChallenge', {
      type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': `'Basic realm="${realm}"'` },
      templates: { 'application/json': '{"success":false,"message":"authentication required"}' },
    });
    return {
      requestValidator: validator,
      requestParameters: { 'method.request.header.Authorization': true },
    };
  }

  /** Its default endpoint needs no TLS setting: API Gateway enforces TLS_1_2 (TLS 1.2 and 1.3) on every HTTP API. */
  private createHttpApi(settings: BridgeSettings): { api: apigwv2.HttpApi; stage: apigwv2.HttpStage; accessLogs: logs.LogGroup } {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const api = new apigwv2.HttpApi(this, 'CalloutHttpApi', {
      apiName: `${this.namePrefix()}-callout`,
      description: 'zuora-limio-sync: Zuora callout endpoint',
      createDefaultStage: false,
    });
    const stage = new apigwv2.HttpStage(this, 'CalloutHttpStage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: settings.throttleRateLimit, burstLimit: settings.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(accessLogs),
        format: apigw.AccessLogFormat.custom(HTTP_ACCESS_LOG_FORMAT),
      },
    });
    api.addRoutes({
      path: `/${CALLOUT_PATH}`,
      methods: [apigwv2.HttpMethod.POST, apigwv2.HttpMethod.GET],
      integration: new HttpLambdaIntegration('CalloutIntegration', this.calloutFunction, {
        payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
      }),
    });
    return { api, stage, accessLogs };
  }

  private alarmTopicFor(email: string | undefined): sns.ITopic | undefined {
    if (email === undefined || email.trim() === '') return undefined;
    const topic = new sns.Topic(this, 'AlarmTopic', { displayName: 'zuora-limio-sync alarms', enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(email.trim()));
    return topic;
  }

  private apiServerErrors(): cloudwatch.Metric {
    const options = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    return this.restApi !== undefined ? this.restApi.metricServerError(options) : this.httpApi!.metricServerError(options);
  }

  private createAlarms(settings: BridgeSettings): ZuoraLimioSyncAlarms {
    const oneMinute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const alarm = (id: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmDescription' | 'evaluationPeriods'> & { evaluationPeriods?: number }) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmName: `${this.namePrefix()}-${id}`,
        alarmDescription: description,
        evaluationPeriods: 1,
        // No data means nothing happened (no messages, no invocations): that is healthy.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...props,
      });
      if (this.alarmTopic !== undefined) {
        created.addAlarmAction(new SnsAction(this.alarmTopic));
        created.addOkAction(new SnsAction(this.alarmTopic));
      }
      return created;
    };
    return {
      deadLetters: alarm('DeadLettersAlarm', 'Subscriptions are in the dead-letter queue: they were not synced to Limio. List and replay them with the CLI.', {
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: oneMinute, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      oldestMessageAge: alarm('OldestMessageAgeAlarm', `A subscription has waited more than ${settings.oldestMessageAgeAlarmSeconds} s on the main queue: the sync is not keeping up, is paused, or Limio keeps failing.`, {
        metric: this.mainQueue.metricApproximateAgeOfOldestMessage({ period: oneMinute, statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: settings.oldestMessageAgeAlarmSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      }),
      syncErrors: alarm('SyncErrorsAlarm', 'The sync Lambda failed whole invocations (configuration, crash or timeout), not single subscriptions: check its logs. An unreadable or refused Limio secret does not show here: it fails each sync as retryable and opens the circuit breaker (BreakerOpenAlarm).', {
        metric: this.syncFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      syncThrottles: alarm('SyncThrottlesAlarm', 'The sync Lambda was throttled: the account or regional concurrency limit is reached.', {
        metric: this.syncFunction.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      api5xx: alarm('Api5xxAlarm', 'The callout API answered 5xx: Zuora callouts were refused (callout Lambda failing or queue unreachable) and Zuora will retry only a few times.', {
        metric: this.apiServerErrors(),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      calloutThrottled: alarm('CalloutThrottledAlarm', CALLOUT_THROTTLED_ALARM_DESCRIPTION, {
        metric: this.calloutThrottledMetric(),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      calloutRefused: alarm('CalloutRefusedAlarm', CALLOUT_REFUSED_ALARM_DESCRIPTION, {
        // The per-service total the callout handler publishes with every refusal (the per-reason copy adds a
        // `reason` dimension, a different metric to CloudWatch).
        metric: new cloudwatch.Metric({
          namespace: INFRA_DEFAULTS.metricsNamespace,
          metricName: 'CalloutRefused',
          dimensionsMap: { service: CALLOUT_METRICS_SERVICE },
          period: fiveMinutes,
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      breakerOpen: alarm('BreakerOpenAlarm', BREAKER_OPEN_ALARM_DESCRIPTION, {
        // The probe publishes the gauge every minute: 0 closed, 1 half-open, 2 open.
        metric: new cloudwatch.Metric({
          namespace: INFRA_DEFAULTS.metricsNamespace,
          metricName: 'BreakerState',
          dimensionsMap: { service: BREAKER_METRICS_SERVICE },
          period: oneMinute,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: breakerGauge('half-open'),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // A gap in the gauge (a probe run lost) must neither raise nor clear the alarm.
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      }),
      visibilityRefused: alarm('VisibilityRefusedAlarm', VISIBILITY_REFUSED_ALARM_DESCRIPTION, {
        metric: new cloudwatch.Metric({
          namespace: INFRA_DEFAULTS.metricsNamespace,
          metricName: SYNC_METRICS.visibilityRefused,
          dimensionsMap: { service: SYNC_METRICS_SERVICE },
          period: fiveMinutes,
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      probeErrors: alarm('ProbeErrorsAlarm', 'The circuit breaker probe failed in most of its runs over 5 minutes (DynamoDB, the Lambda API or its configuration): the breaker cannot close by itself and the sync event source may not follow it. Check the probe\'s logs.', {
        metric: this.probeFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        threshold: 3,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      }),
      ...(settings.sweep !== undefined && this.sweepFunction !== undefined && this.sweepAlarms(settings.sweep, this.sweepFunction, alarm)),
    };
  }

  /**
   * Both over one sweep interval per period, so "in a row" counts sweeps (CloudWatch allows period x evaluation
   * periods up to a day below an hour's period, 7 days above: any interval the settings accept fits).
   */
  private sweepAlarms(
    sweep: SweepSettings,
    sweepFunction: nodejs.NodejsFunction,
    alarm: (id: string, description: string, props: Omit<cloudwatch.AlarmProps, 'alarmDescription' | 'evaluationPeriods'> & { evaluationPeriods?: number }) => cloudwatch.Alarm,
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
            failed: this.sweepMetric(SWEEP_METRICS.failed, period, cloudwatch.Stats.SUM),
            lag: this.sweepMetric(SWEEP_METRICS.lagSeconds, period, cloudwatch.Stats.MAXIMUM),
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
        metric: this.sweepMetric(SWEEP_METRICS.queued, period, cloudwatch.Stats.SUM),
        threshold: sweep.missingCalloutsAlarmThreshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: MISSING_CALLOUTS_SWEEPS,
        datapointsToAlarm: MISSING_CALLOUTS_SWEEPS,
      }),
    };
  }

  /** The sweep Lambda's own metrics (functions/sweep/lambda-sweep.ts), by name and service dimension. */
  private sweepMetric(metricName: string, period: Duration, statistic: string): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: INFRA_DEFAULTS.metricsNamespace, metricName, dimensionsMap: { service: SWEEP_SERVICE_NAME }, period, statistic });
  }

  private createDashboard(): cloudwatch.Dashboard {
    const period = Duration.minutes(5);
    const sum = { period, statistic: cloudwatch.Stats.SUM };
    const max = { period, statistic: cloudwatch.Stats.MAXIMUM };
    const apiMetrics = this.restApi !== undefined
      ? [this.restApi.metricCount(sum), this.restApi.metricClientError(sum), this.restApi.metricServerError(sum)]
      : [this.httpApi!.metricCount(sum), this.httpApi!.metricClientError(sum), this.httpApi!.metricServerError(sum)];
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(12),
    });
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms).filter((alarm): alarm is cloudwatch.Alarm => alarm !== undefined),
        width: 24,
        height: 3,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Callout API requests', left: apiMetrics, width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Callout Lambda',
        left: [this.calloutFunction.metricInvocations(sum), this.calloutFunction.metricErrors(sum)],
        right: [this.calloutFunction.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Queues',
        left: [
          this.mainQueue.metricApproximateNumberOfMessagesVisible(max),
          this.mainQueue.metricApproximateNumberOfMessagesNotVisible(max),
          this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(max),
        ],
        right: [this.mainQueue.metricApproximateAgeOfOldestMessage(max)],
        width: 8,
      }),
    );
    // Custom metrics (embedded metric format): names and service dimensions as in functions/sync/telemetry.ts
    // and functions/callout/callout-handler.ts.
    const custom = (metricName: string, service: string) =>
      new cloudwatch.Metric({ namespace: INFRA_DEFAULTS.metricsNamespace, metricName, dimensionsMap: { service }, ...sum });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Callouts',
        left: [custom('CalloutAccepted', CALLOUT_METRICS_SERVICE), custom('CalloutRefused', CALLOUT_METRICS_SERVICE), custom('SubscriptionIdsQueued', CALLOUT_METRICS_SERVICE), this.calloutThrottledMetric()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Limio syncs',
        // Every counter the sync Lambda publishes (a new one shows up here by itself); `held` is on the breaker's
        // widget, the ledger's on their own.
        left: Object.values(SYNC_METRICS)
          .filter((name) => name !== SYNC_METRICS.syncLatency && name !== SYNC_METRICS.held && !LEDGER_SYNC_METRICS.includes(name))
          .map((name) => custom(name, SYNC_METRICS_SERVICE)),
        right: [new cloudwatch.Metric({
          namespace: INFRA_DEFAULTS.metricsNamespace, metricName: SYNC_METRICS.syncLatency, dimensionsMap: { service: SYNC_METRICS_SERVICE },
          period, statistic: cloudwatch.Stats.p(99),
        })],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync Lambda',
        left: [this.syncFunction.metricInvocations(sum), this.syncFunction.metricErrors(sum), this.syncFunction.metricThrottles(sum)],
        right: [this.syncFunction.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sync concurrency (Limio protection cap)',
        left: [this.syncFunction.metric('ConcurrentExecutions', max)],
        leftAnnotations: [{ value: this.settings.syncInvocationConcurrency, label: 'maxConcurrency' }],
        width: 12,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Sync ledger (messages done without a Limio call, held to share one)',
        left: [custom(SYNC_METRICS.coveredByLedger, SYNC_METRICS_SERVICE), custom(SYNC_METRICS.heldForCooldown, SYNC_METRICS_SERVICE)],
        // Fail open: each is a sync made without the ledger's help, never a lost one.
        right: [custom(SYNC_METRICS.ledgerUnavailable, SYNC_METRICS_SERVICE)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Ledger table',
        left: [
          this.ledgerTable.metricConsumedReadCapacityUnits(sum),
          this.ledgerTable.metricConsumedWriteCapacityUnits(sum),
        ],
        right: [this.ledgerTable.metricThrottledRequestsForOperations({ operations: [dynamodb.Operation.BATCH_GET_ITEM, dynamodb.Operation.UPDATE_ITEM], ...sum })],
        width: 12,
      }),
    );
    if (this.sweepFunction !== undefined && this.settings.sweep !== undefined) this.addSweepWidgets(dashboard, this.sweepFunction, this.settings.sweep);
    const breakerGaugeMetric = new cloudwatch.Metric({
      namespace: INFRA_DEFAULTS.metricsNamespace, metricName: 'BreakerState', dimensionsMap: { service: BREAKER_METRICS_SERVICE },
      period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM,
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Circuit breaker (0 closed, 1 half-open, 2 open)',
        left: [breakerGaugeMetric],
        leftYAxis: { min: 0, max: 2 },
        leftAnnotations: [
          { value: breakerGauge('half-open'), label: 'half-open' },
          { value: breakerGauge('open'), label: 'open' },
        ],
        right: [custom('BreakerOpened', BREAKER_METRICS_SERVICE), custom('BreakerClosed', BREAKER_METRICS_SERVICE), custom(SYNC_METRICS.held, SYNC_METRICS_SERVICE)],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Breaker probe',
        left: [this.probeFunction.metricInvocations(sum), this.probeFunction.metricErrors(sum)],
        right: [this.probeFunction.metricDuration({ period, statistic: cloudwatch.Stats.p(99) })],
        width: 12,
      }),
    );
    if (this.webAcl !== undefined) {
      // Rule "ALL" is the web ACL as a whole: what it let through next to what the rate rule blocked.
      const wafMetric = (metricName: string, rule: string) => new cloudwatch.Metric({
        namespace: 'AWS/WAFV2',
        metricName,
        dimensionsMap: { WebACL: this.webAcl!.name!, Region: Stack.of(this).region, Rule: rule },
        ...sum,
      });
      dashboard.addWidgets(new cloudwatch.GraphWidget({
        title: 'WAF per-IP rate rule (Zuora exempt)',
        left: [wafMetric('BlockedRequests', WAF_RATE_RULE_NAME), wafMetric('AllowedRequests', 'ALL')],
        width: 24,
      }));
    }
    return dashboard;
  }

  private addSweepWidgets(dashboard: cloudwatch.Dashboard, sweepFunction: nodejs.NodejsFunction, sweep: SweepSettings): void {
    // One data point per sweep.
    const period = Duration.seconds(sweep.intervalSeconds);
    const metric = (name: string, statistic: string) => this.sweepMetric(name, period, statistic);
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Reconciliation sweep (queued = changed in Zuora without a sync)',
        left: [metric(SWEEP_METRICS.read, cloudwatch.Stats.SUM), metric(SWEEP_METRICS.covered, cloudwatch.Stats.SUM), metric(SWEEP_METRICS.queued, cloudwatch.Stats.SUM)],
        right: [metric(SWEEP_METRICS.failed, cloudwatch.Stats.SUM)],
        leftAnnotations: [{ value: sweep.missingCalloutsAlarmThreshold, label: 'MissingCalloutsAlarm threshold' }],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Sweep duration and lag',
        left: [metric(SWEEP_METRICS.durationMs, cloudwatch.Stats.MAXIMUM), sweepFunction.metricErrors({ period, statistic: cloudwatch.Stats.SUM })],
        right: [metric(SWEEP_METRICS.lagSeconds, cloudwatch.Stats.MAXIMUM)],
        width: 12,
      }),
    );
  }

  /**
   * cdk-nag (AwsSolutions) findings that do not fit this workload, acknowledged on the resource they concern,
   * each with the reason. Acknowledgements are plain construct metadata: the construct needs no cdk-nag.
   */
  private acknowledgeAcceptedFindings(settings: BridgeSettings): void {
    const accept = (scope: IConstruct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    for (const secret of [this.limioSecret, this.calloutAuthSecret, this.zuoraSecret]) {
      if (secret instanceof secretsmanager.Secret) {
        accept(secret, 'AwsSolutions-SMG4', 'The secrets are shared with a third party (Limio and Zuora issue the OAuth client credentials; the callout secret is typed into Zuora): rotation has to happen there, in step, so automatic rotation would break the integration.');
      }
    }
    if (this.alarmTopic instanceof sns.Topic) {
      accept(this.alarmTopic, 'AwsSolutions-SNS2', 'Alarm notifications carry alarm names and states only; CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key, and a customer managed key would add cost without protecting anything sensitive.');
    }
    const api: IConstruct = this.restApi ?? this.httpApi!;
    accept(api, 'AwsSolutions-APIG4', 'Zuora cannot present IAM or Cognito credentials: callouts authenticate with Basic, a header secret or HMAC, which the callout Lambda verifies on every request.');
    if (this.restApi !== undefined) {
      accept(this.restApi, 'AwsSolutions-COG4', 'Zuora callouts cannot present Cognito tokens; see AwsSolutions-APIG4.');
      if (this.webAcl === undefined) {
        accept(this.restApi, 'AwsSolutions-APIG3', 'Stage throttling, authentication in the callout Lambda and the optional IP allowlist (resource policy) protect the endpoint; wafRateLimitPerIp adds a WAF web ACL with a per-IP rate rule (off by default: it costs a monthly fee).');
      }
      accept(this.restApi, 'AwsSolutions-APIG2', settings.calloutAuthMode === 'basic'
        ? 'Request parameters are validated (the Authorization header is required, which gives Zuora its Basic challenge); callout bodies are free-form (JSON, form or XML per Zuora template), so there is no body model to validate.'
        : 'Header-secret and HMAC callouts are verified by the callout Lambda (the header name lives in the secret), and callout bodies are free-form (JSON, form or XML per Zuora template): there is no model to validate.');
      const cloudWatchRole = this.restApi.node.tryFindChild('CloudWatchRole');
      if (cloudWatchRole !== undefined) {
        accept(cloudWatchRole, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'The AWS managed policy documented for API Gateway\'s account-wide logging role, which REST API access and execution logs need.');
      }
    }
  }
}

/**
 * The functions are granted GetSecretValue on exactly this ARN, so it must be the complete one (with the
 * 6-character suffix Secrets Manager appends): a name-only ARN would deploy and then be denied at run time.
 */
function completeSecretArn(prop: string, arn: string): string {
  if (Token.isUnresolved(arn)) return arn;
  if (!/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/.test(arn)) {
    throw new ConfigError(prop, `must be a secret's complete ARN, ending in its 6-character suffix (as the console shows it), got "${arn}"`);
  }
  return arn;
}

/** Every source IP may call only if it is in the list; authentication still applies to listed ones. */
function ipAllowlistPolicy(ranges: readonly string[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.ALLOW,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
      }),
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { NotIpAddress: { 'aws:SourceIp': [...ranges] } },
      }),
    ],
  });
}

/**
 * Access log lines as JSON. Only $context fields, never headers: the Authorization header (and any signature
 * header) must not reach a log.
 */
const REST_ACCESS_LOG_FORMAT = JSON.stringify({
  apiId: '$context.apiId',
  requestId: '$context.requestId',
  extendedRequestId: '$context.extendedRequestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  errorMessage: '$context.error.message',
  errorResponseType: '$context.error.responseType',
});

const HTTP_ACCESS_LOG_FORMAT = JSON.stringify({
  apiId: '$context.apiId',
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  httpMethod: '$context.httpMethod',
  routeKey: '$context.routeKey',
  protocol: '$context.protocol',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  errorMessage: '$context.error.message',
  integrationErrorMessage: '$context.integrationErrorMessage',
});
