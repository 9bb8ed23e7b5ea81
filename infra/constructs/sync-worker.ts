import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { syncConcurrencyEnvironment, type BridgeSettings } from '../settings';
import { bridgeFunction, retryEnvironment, sharedEnvironment } from './bridge-function';
import { denyNonSubscriptionItemsStatement } from './ledger';
import { keepParentLogicalIds } from './logical-ids';
import type { BridgeSecrets } from './secrets';

export { LEDGER_KEY_NOT_A_SUBSCRIPTION } from './ledger';

export interface SyncWorkerProps {
  readonly settings: BridgeSettings;
  readonly mainQueue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** The queues' customer managed key, if any: the worker gets exactly the key use its queue work needs. */
  readonly queueEncryptionKey?: kms.IKey;
  readonly limioSecret: secretsmanager.ISecret;
  /** Grants the worker read access to the Limio secret (and its key). */
  readonly secrets: BridgeSecrets;
  readonly breakerTable: dynamodb.ITable;
  readonly ledgerTable: dynamodb.ITable;
}

/**
 * The sync Lambda and its SQS event source: asks Limio to sync each queued subscription, retries through SQS,
 * dead-letters with the reason. The mapping's `Enabled` is left unset: the breaker probe pauses and resumes it at
 * run time.
 */
export class SyncWorker extends Construct {
  readonly syncFunction: nodejs.NodejsFunction;
  /** `eventSourceMappingId` is the UUID Lambda's UpdateEventSourceMapping takes. */
  readonly syncEventSourceMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: SyncWorkerProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, mainQueue, deadLetterQueue, limioSecret, breakerTable, ledgerTable } = props;
    this.syncFunction = bridgeFunction(
      this,
      'Sync',
      {
        entry: 'functions/sync/handler.ts',
        description:
          'zuora-limio-sync: asks Limio to sync each queued subscription; retries via SQS, dead-letters with the reason',
        timeout: Duration.seconds(settings.syncTimeoutSeconds),
        environment: {
          QUEUE_URL: mainQueue.queueUrl,
          DLQ_URL: deadLetterQueue.queueUrl,
          LIMIO_BASE_URL: settings.limioBaseUrl,
          LIMIO_SECRET_ID: limioSecret.secretArn,
          ...syncConcurrencyEnvironment(settings),
          BREAKER_TABLE_NAME: breakerTable.tableName,
          ...retryEnvironment(settings),
          LIMIO_TIMEOUT_MS: String(settings.limioTimeoutMs),
          LEDGER_TABLE_NAME: ledgerTable.tableName,
          SYNC_COOLDOWN_SECONDS: String(settings.syncCooldownSeconds),
          SYNC_CLOCK_MARGIN_SECONDS: String(settings.syncClockMarginSeconds),
          ...sharedEnvironment(settings),
        },
      },
      settings,
    );
    const role = this.syncFunction.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeMainQueue',
        // Receive/Delete/GetQueueAttributes for the event source mapping; ChangeMessageVisibility for backoff.
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        resources: [mainQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RequeueSlotWaits',
        // A message that waited for a Limio slot goes back as a fresh copy, so its waits never reach SQS's redrive.
        actions: ['sqs:SendMessage'],
        resources: [mainQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetter',
        actions: ['sqs:SendMessage'],
        resources: [deadLetterQueue.queueArn],
      }),
    );
    props.secrets.grantRead(role, 'ReadLimioSecret', limioSecret);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteBreakerState',
        // Read the breaker before a batch; one atomic counter update per batch, and the conditional write that trips it.
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [breakerTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadWriteLedger',
        // One batched read per batch; the claim before a Limio call and the outcome after it are conditional updates.
        actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
        resources: [ledgerTable.tableArn],
      }),
    );
    role.addToPrincipalPolicy(denyNonSubscriptionItemsStatement(ledgerTable));
    // SSE-KMS: sending needs a data key, receiving needs to decrypt it.
    props.queueEncryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.syncEventSourceMapping = new lambda.EventSourceMapping(this, 'SyncEventSource', {
      target: this.syncFunction,
      eventSourceArn: mainQueue.queueArn,
      batchSize: settings.batchSize,
      maxBatchingWindow: Duration.seconds(settings.batchingWindowSeconds),
      reportBatchItemFailures: true,
      // The ceiling: at most maxConcurrency x SYNC_CONCURRENCY calls reach Limio at once (with SYNC_ADAPTIVE, the
      // limit each invocation adapts stays below it; without, it is the fixed cap).
      maxConcurrency: settings.syncInvocationConcurrency,
    });
    // Lambda checks the role's SQS permissions when the mapping is created: create the policy first.
    this.syncEventSourceMapping.node.addDependency(role);
  }
}
