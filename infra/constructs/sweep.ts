import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { sweepEnvironment, SWEEP_TIMEOUT_SECONDS, type BridgeSettings, type SweepSettings } from '../settings';
import { bridgeFunction, sharedEnvironment } from './bridge-function';
import { markQueuedStatement } from './ledger';
import { keepParentLogicalIds } from './logical-ids';
import type { BridgeSecrets } from './secrets';

/** Lambda's longest maximum event age for asynchronous invocations. */
const MAX_ASYNC_EVENT_AGE_SECONDS = 6 * 60 * 60;

export interface ReconciliationSweepProps {
  readonly settings: BridgeSettings;
  readonly sweep: SweepSettings;
  /** Where missed changes are queued. */
  readonly mainQueue: sqs.IQueue;
  /** The queues' customer managed key, if any. */
  readonly queueEncryptionKey?: kms.IKey;
  /** Read to skip what was synced since; holds the sweep's watermark item. */
  readonly ledgerTable: dynamodb.ITable;
  readonly zuoraSecret: secretsmanager.ISecret;
  /** Grants the sweep read access to the Zuora secret (and its key). */
  readonly secrets: BridgeSecrets;
}

/**
 * The reconciliation sweep on an EventBridge schedule: one run at a time (reserved concurrency 1), never retried
 * (the next run reads from the watermark), and never on the callout path: it only reads Zuora and the ledger and
 * sends to the main queue.
 */
export class ReconciliationSweep extends Construct {
  readonly sweepFunction: nodejs.NodejsFunction;
  readonly sweepSchedule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconciliationSweepProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, sweep, mainQueue, ledgerTable, zuoraSecret } = props;
    const interval = Duration.seconds(sweep.intervalSeconds);
    // A run that waited longer than an interval (throttled behind a slow one) is superseded by the next.
    const maxEventAge = Duration.seconds(Math.min(sweep.intervalSeconds, MAX_ASYNC_EVENT_AGE_SECONDS));
    this.sweepFunction = bridgeFunction(
      this,
      'Sweep',
      {
        entry: 'functions/sweep/handler.ts',
        description:
          'zuora-limio-sync: reconciliation sweep; reads what Zuora changed and queues the subscriptions with no sync since',
        timeout: Duration.seconds(SWEEP_TIMEOUT_SECONDS),
        environment: {
          QUEUE_URL: mainQueue.queueUrl,
          LEDGER_TABLE_NAME: ledgerTable.tableName,
          ZUORA_SECRET_ID: zuoraSecret.secretArn,
          ...sweepEnvironment(sweep),
          ...sharedEnvironment(settings),
        },
        reservedConcurrentExecutions: 1,
        retryAttempts: 0,
        maxEventAge,
      },
      settings,
    );
    const role = this.sweepFunction.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueueMissedChanges',
        actions: ['sqs:SendMessage'],
        resources: [mainQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadLedger',
        actions: ['dynamodb:BatchGetItem'],
        resources: [ledgerTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteSweepWatermark',
        // Its one watermark item, nothing a sync wrote.
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [ledgerTable.tableArn],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [sweep.watermarkKey] } },
      }),
    );
    // What it queues, so the next sweep finds those changes pending rather than missing. No Deny of '#' keys here:
    // the sweep writes its watermark; markQueuedStatement leaves those keys out on its own.
    role.addToPrincipalPolicy(markQueuedStatement(ledgerTable));
    props.secrets.grantRead(role, 'ReadZuoraSecret', zuoraSecret);
    props.queueEncryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    this.sweepSchedule = new events.Rule(this, 'SweepSchedule', {
      description: `zuora-limio-sync: runs the reconciliation sweep every ${sweep.intervalSeconds / 60} minutes`,
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(this.sweepFunction, { retryAttempts: 0, maxEventAge })],
    });
  }
}
