import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { BREAKER_DEFAULTS } from '../../functions/breaker/settings';
import type { BridgeSettings } from '../settings';
import { bridgeFunction, sharedEnvironment } from './bridge-function';
import { keepParentLogicalIds } from './logical-ids';
import type { BridgeSecrets } from './secrets';

/** The probe makes one token request (and optionally one sync) per run, well inside its schedule's minute. */
const PROBE_TIMEOUT_SECONDS = 30;
const PROBE_LIMIO_TIMEOUT_MS = 10_000;

export interface BreakerTableProps {
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The circuit breaker's state, shared by every sync instance: one state item and short-lived outcome buckets
 * (expired by TTL), a few writes per sync batch, so on-demand billing costs next to nothing. Retained by default
 * with the other stateful resources: its open intervals are what retry budgets discount, and a breaker opened by
 * hand must not close because a stack was replaced.
 */
export class BreakerTable extends Construct {
  /** Partition key `pk`, TTL `expiresAt`. */
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: BreakerTableProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    this.table = new dynamodb.Table(this, 'BreakerTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Billed by table size, which stays a few kilobytes: cheap insurance against a mistaken write.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: props.removalPolicy,
    });
  }
}

export interface BreakerProbeProps {
  readonly settings: BridgeSettings;
  readonly breakerTable: dynamodb.ITable;
  /** The mapping the probe pauses, caps and resumes. */
  readonly syncEventSourceMapping: lambda.EventSourceMapping;
  readonly limioSecret: secretsmanager.ISecret;
  /** Grants the probe read access to the Limio secret (and its key). */
  readonly secrets: BridgeSecrets;
}

/**
 * The probe Lambda on an EventBridge schedule (every minute): probes Limio while the breaker is open and closes it
 * through half-open. It reuses the sync Lambda's Limio client and secret; only it may touch the sync event source
 * mapping (the sync instances write the breaker, the probe applies it), which also keeps the mapping out of the
 * sync function's own dependencies.
 */
export class BreakerProbe extends Construct {
  readonly probeFunction: nodejs.NodejsFunction;
  readonly probeSchedule: events.Rule;

  constructor(scope: Construct, id: string, props: BreakerProbeProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, breakerTable, syncEventSourceMapping, limioSecret } = props;
    this.probeFunction = bridgeFunction(
      this,
      'Probe',
      {
        entry: 'functions/breaker/handler.ts',
        description:
          'zuora-limio-sync: circuit breaker probe; checks Limio while the breaker is open and pauses or resumes the sync event source',
        timeout: Duration.seconds(PROBE_TIMEOUT_SECONDS),
        environment: {
          BREAKER_TABLE_NAME: breakerTable.tableName,
          SYNC_EVENT_SOURCE_MAPPING_ID: syncEventSourceMapping.eventSourceMappingId,
          // Restored when the breaker closes (half-open runs at the smallest cap Lambda allows, 2).
          SYNC_MAX_CONCURRENCY: String(settings.syncInvocationConcurrency),
          LIMIO_BASE_URL: settings.limioBaseUrl,
          LIMIO_SECRET_ID: limioSecret.secretArn,
          LIMIO_TIMEOUT_MS: String(Math.min(settings.limioTimeoutMs, PROBE_LIMIO_TIMEOUT_MS)),
          ...(settings.probeSubscriptionId === undefined
            ? {}
            : { PROBE_SUBSCRIPTION_ID: settings.probeSubscriptionId }),
          ...sharedEnvironment(settings),
        },
      },
      settings,
    );
    const role = this.probeFunction.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteBreakerState',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [breakerTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PauseResumeSyncEventSource',
        // This one mapping, nothing else of Lambda's.
        actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
        resources: [syncEventSourceMapping.eventSourceMappingArn],
      }),
    );
    props.secrets.grantRead(role, 'ReadLimioSecret', limioSecret);
    this.probeSchedule = new events.Rule(this, 'ProbeSchedule', {
      description: 'zuora-limio-sync: runs the circuit breaker probe every minute',
      schedule: events.Schedule.rate(Duration.seconds(BREAKER_DEFAULTS.probeIntervalSeconds)),
      targets: [
        new targets.LambdaFunction(this.probeFunction, {
          // The next run is a minute away: a stale or retried run would only repeat it.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
  }
}
