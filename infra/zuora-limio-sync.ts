import { Annotations, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { BridgeAlarms, type ZuoraLimioSyncAlarms } from './constructs/alarms';
import { BreakerProbe, BreakerTable } from './constructs/breaker';
import { BridgeDashboard } from './constructs/dashboard';
import { AccountFanOut } from './constructs/fan-out';
import { CalloutFrontDoor } from './constructs/front-door';
import { SyncLedger } from './constructs/ledger';
import { BridgeQueues } from './constructs/queues';
import { BridgeSecrets } from './constructs/secrets';
import { ReconciliationSweep } from './constructs/sweep';
import { SyncWorker } from './constructs/sync-worker';
import {
  EXAMPLE_LIMIO_BASE_URL,
  resolveBridgeSettings,
  type BridgeSettings,
  type BridgeSettingsInput,
} from './settings';

export type { ZuoraLimioSyncAlarms } from './constructs/alarms';

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
   * Complete ARN of an existing callout auth secret (JSON as in docs/connecting-zuora.md); its `mode` must match
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

/**
 * The whole Zuora → Limio bridge: callout API, callout Lambda, SQS main queue and DLQ, sync Lambda, secrets,
 * alarms and a dashboard, with secure defaults. Drop it into any stack:
 *
 * ```ts
 * new ZuoraLimioSync(this, 'Bridge', { limioBaseUrl: 'https://acme.prod.limio.com' });
 * ```
 *
 * Outage mode (docs/how-a-subscription-is-synced.md) is built in: a small DynamoDB table holds the circuit breaker
 * shared by every sync instance; sync instances trip it; a probe Lambda on a schedule probes Limio while it is
 * open, closes it through half-open, and is the only thing allowed to disable, cap and re-enable the sync event
 * source mapping. The template leaves the mapping's `Enabled` unset; a deployment that changes the mapping may
 * reset a pause made at run time, which the probe re-asserts on its next run (within a minute).
 *
 * Composed of one construct per job (infra/constructs/), which leave their own ids out of the logical ids of what
 * they hold (constructs/logical-ids.ts): every resource keeps the logical id it had when this was one construct.
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
  /**
   * Set when `zuoraBaseUrl` is: the account queue (account callouts' messages, redriven to the same DLQ) and the
   * fan-out Lambda that queues each account's subscriptions, read through the sweep's Zuora connection.
   */
  readonly accountQueue?: sqs.Queue;
  readonly fanOutFunction?: nodejs.NodejsFunction;
  readonly fanOutEventSourceMapping?: lambda.EventSourceMapping;
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

  constructor(scope: Construct, id: string, props: ZuoraLimioSyncProps) {
    super(scope, id);
    const settings = resolveBridgeSettings(props);
    this.settings = settings;
    this.warnAbout(settings);
    const removalPolicy = settings.retainStatefulResources ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const queueEncryptionKey = props.queueEncryptionKey;

    const queues = new BridgeQueues(this, 'Queues', {
      syncTimeoutSeconds: settings.syncTimeoutSeconds,
      maxAttempts: settings.maxAttempts,
      encryptionKey: queueEncryptionKey,
      removalPolicy,
    });
    ({ mainQueue: this.mainQueue, deadLetterQueue: this.deadLetterQueue } = queues);
    const secrets = new BridgeSecrets(this, 'Secrets', {
      limioSecretArn: props.limioSecretArn,
      calloutAuthSecretArn: props.calloutAuthSecretArn,
      calloutAuthMode: settings.calloutAuthMode,
      sweepOn: settings.sweep !== undefined,
      zuoraSecretArn: props.zuoraSecretArn,
      secretsKmsKeyArn: settings.secretsKmsKeyArn,
      removalPolicy,
    });
    ({
      limioSecret: this.limioSecret,
      calloutAuthSecret: this.calloutAuthSecret,
      zuoraSecret: this.zuoraSecret,
    } = secrets);
    this.breakerTable = new BreakerTable(this, 'BreakerState', { removalPolicy }).table;
    this.ledgerTable = new SyncLedger(this, 'Ledger', { removalPolicy }).table;

    if (settings.sweep !== undefined && settings.fanOut !== undefined && this.zuoraSecret !== undefined) {
      ({
        accountQueue: this.accountQueue,
        fanOutFunction: this.fanOutFunction,
        fanOutEventSourceMapping: this.fanOutEventSourceMapping,
      } = new AccountFanOut(this, 'FanOut', {
        settings,
        fanOut: settings.fanOut,
        zuoraConnection: settings.sweep,
        zuoraSecret: this.zuoraSecret,
        mainQueue: this.mainQueue,
        deadLetterQueue: this.deadLetterQueue,
        queueEncryptionKey,
        ledgerTable: this.ledgerTable,
        secrets,
        removalPolicy,
      }));
    }

    const frontDoor = new CalloutFrontDoor(this, 'FrontDoor', {
      settings,
      mainQueue: this.mainQueue,
      accountQueue: this.accountQueue,
      queueEncryptionKey,
      calloutAuthSecret: this.calloutAuthSecret,
      ledgerTable: this.ledgerTable,
      secrets,
      apiName: `${this.namePrefix()}-callout`,
      // Named, so the dashboard can address its metrics (AWS/WAFV2 by WebACL name). Unique per bridge in a region
      // like the alarm names (stack name and construct path), kept within WAF's 128 characters.
      webAclName: `${Stack.of(this).stackName.slice(0, 40)}-${Names.uniqueResourceName(this, { separator: '-', maxLength: 80 })}-callout`,
      createApiGatewayCloudWatchRole: props.createApiGatewayCloudWatchRole ?? true,
    });
    ({
      calloutFunction: this.calloutFunction,
      restApi: this.restApi,
      httpApi: this.httpApi,
      apiAccessLogs: this.apiAccessLogs,
      webAcl: this.webAcl,
      calloutUrl: this.calloutUrl,
    } = frontDoor);

    const worker = new SyncWorker(this, 'SyncWorker', {
      settings,
      mainQueue: this.mainQueue,
      deadLetterQueue: this.deadLetterQueue,
      queueEncryptionKey,
      limioSecret: this.limioSecret,
      secrets,
      breakerTable: this.breakerTable,
      ledgerTable: this.ledgerTable,
    });
    ({ syncFunction: this.syncFunction, syncEventSourceMapping: this.syncEventSourceMapping } = worker);
    ({ probeFunction: this.probeFunction, probeSchedule: this.probeSchedule } = new BreakerProbe(this, 'BreakerProbe', {
      settings,
      breakerTable: this.breakerTable,
      syncEventSourceMapping: this.syncEventSourceMapping,
      limioSecret: this.limioSecret,
      secrets,
    }));
    if (settings.sweep !== undefined && this.zuoraSecret !== undefined) {
      ({ sweepFunction: this.sweepFunction, sweepSchedule: this.sweepSchedule } = new ReconciliationSweep(
        this,
        'Sweep',
        {
          settings,
          sweep: settings.sweep,
          mainQueue: this.mainQueue,
          queueEncryptionKey,
          ledgerTable: this.ledgerTable,
          zuoraSecret: this.zuoraSecret,
          secrets,
        },
      ));
    }

    const watched = {
      settings,
      mainQueue: this.mainQueue,
      deadLetterQueue: this.deadLetterQueue,
      frontDoor,
      syncFunction: this.syncFunction,
      probeFunction: this.probeFunction,
      sweepFunction: this.sweepFunction,
      fanOutFunction: this.fanOutFunction,
      accountQueue: this.accountQueue,
    };
    ({ alarms: this.alarms, alarmTopic: this.alarmTopic } = new BridgeAlarms(this, 'Alarms', {
      ...watched,
      namePrefix: this.namePrefix(),
      alarmTopic: props.alarmTopic,
      alarmEmail: props.alarmEmail,
    }));
    this.dashboard = new BridgeDashboard(this, 'Dashboard', {
      ...watched,
      alarms: this.alarms,
      ledgerTable: this.ledgerTable,
    }).dashboard;
  }

  /**
   * Stack name, construct path and a hash: names operators recognise (alarm emails, API metrics) and unique per
   * bridge in an account and region (alarm names must be; the path alone would repeat in a second stack).
   */
  private namePrefix(): string {
    return `${Stack.of(this).stackName}-${Names.uniqueResourceName(this, { separator: '-', maxLength: 64 })}`;
  }

  private warnAbout(settings: BridgeSettings): void {
    if (settings.limioBaseUrl === EXAMPLE_LIMIO_BASE_URL) {
      Annotations.of(this).addWarningV2(
        'zuora-limio-sync:exampleLimioUrl',
        `limioBaseUrl is still the example ${EXAMPLE_LIMIO_BASE_URL}: set your tenant's URL (cdk.json or -c limioBaseUrl=...) before deploying`,
      );
    }
    if (settings.fanOut === undefined) {
      Annotations.of(this).addWarningV2(
        'zuora-limio-sync:noAccountFanOut',
        'no Zuora connection (zuoraBaseUrl unset): callouts naming only Zuora accounts (AccountNumber / AccountId) will be refused with 422, which Zuora does not retry, and the accounts of mixed callouts ignored; set zuoraBaseUrl (cdk.json or -c zuoraBaseUrl=https://rest.zuora.com) to fan account changes out to their subscriptions',
      );
    }
    if (settings.apiKind === 'http' && settings.calloutAuthMode === 'basic') {
      Annotations.of(this).addWarningV2(
        'zuora-limio-sync:httpApiBasic',
        'an HTTP API cannot send the 401 Basic challenge Zuora waits for: enable "Preemptive Authentication" on every Zuora callout, or use apiKind "rest"',
      );
    }
  }
}
