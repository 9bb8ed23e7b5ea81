import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, mainQueueVisibilityTimeoutSeconds, redriveMaxReceiveCount } from '../../functions/shared/defaults';
import {
  FAN_OUT_TIMEOUT_SECONDS,
  zuoraConnectionEnvironment,
  type BridgeSettings,
  type FanOutSettings,
  type SweepSettings,
} from '../settings';
import { bridgeFunction, retryEnvironment, sharedEnvironment } from './bridge-function';
import { keepParentLogicalIds } from './logical-ids';
import type { BridgeSecrets } from './secrets';
import { denyNonSubscriptionItemsStatement, markQueuedStatement } from './ledger';

export interface AccountFanOutProps {
  readonly settings: BridgeSettings;
  readonly fanOut: FanOutSettings;
  /** The stack's Zuora connection: the sweep's tenant, entity and secret. */
  readonly zuoraConnection: Pick<SweepSettings, 'zuoraBaseUrl' | 'zuoraEntityId'>;
  readonly zuoraSecret: secretsmanager.ISecret;
  /** Where the account's subscriptions are queued. */
  readonly mainQueue: sqs.IQueue;
  /** The main queue's DLQ: the account queue is redriven to it too, so operators have one DLQ. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The queues' customer managed key, if any: the account queue is encrypted as the main queue is. */
  readonly queueEncryptionKey?: kms.IKey;
  /** Marked lastQueuedAt for each subscription queued. */
  readonly ledgerTable: dynamodb.ITable;
  /** Grants the fan-out read access to the Zuora secret (and its key). */
  readonly secrets: BridgeSecrets;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Account callouts' path to Limio: the account queue the callout Lambda writes account messages to, and the
 * fan-out Lambda that turns each account into its subscriptions through Zuora and queues them on the main queue.
 * Present only with a Zuora connection: without one nothing can resolve an account.
 */
export class AccountFanOut extends Construct {
  readonly accountQueue: sqs.Queue;
  readonly fanOutFunction: nodejs.NodejsFunction;
  readonly fanOutEventSourceMapping: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: AccountFanOutProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { settings, fanOut, mainQueue, deadLetterQueue, ledgerTable, zuoraSecret } = props;
    const encryption =
      props.queueEncryptionKey === undefined
        ? { encryption: sqs.QueueEncryption.SQS_MANAGED }
        : { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.queueEncryptionKey };
    // Retained by default like the main queue: it holds account changes not yet fanned out.
    this.accountQueue = new sqs.Queue(this, 'AccountQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(DEFAULTS.retentionSeconds),
      removalPolicy: props.removalPolicy,
      // AWS's advice for an SQS event source (6x the timeout): a message is not received again while an
      // invocation, or its retries after a throttle, may still hold it.
      visibilityTimeout: Duration.seconds(mainQueueVisibilityTimeoutSeconds(FAN_OUT_TIMEOUT_SECONDS)),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: redriveMaxReceiveCount(settings.maxAttempts) },
    });
    this.fanOutFunction = bridgeFunction(
      this,
      'FanOut',
      {
        entry: 'functions/fanout/handler.ts',
        description:
          "zuora-limio-sync: fans each account callout out to the account's subscriptions in Zuora and queues them",
        timeout: Duration.seconds(FAN_OUT_TIMEOUT_SECONDS),
        environment: {
          ACCOUNT_QUEUE_URL: this.accountQueue.queueUrl,
          QUEUE_URL: mainQueue.queueUrl,
          DLQ_URL: deadLetterQueue.queueUrl,
          ZUORA_SECRET_ID: zuoraSecret.secretArn,
          ...zuoraConnectionEnvironment(props.zuoraConnection),
          LEDGER_TABLE_NAME: ledgerTable.tableName,
          ...(settings.accountNumberPattern !== undefined && { ACCOUNT_NUMBER_PATTERN: settings.accountNumberPattern }),
          ...retryEnvironment(settings),
          ...sharedEnvironment(settings),
        },
      },
      settings,
    );
    const role = this.fanOutFunction.role!;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeAccountQueue',
        // Receive/Delete/GetQueueAttributes for the event source mapping; ChangeMessageVisibility for backoff.
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
        resources: [this.accountQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueueContinuations',
        // An account whose pages outlast the invocation goes on from its query locator in a message of its own.
        actions: ['sqs:SendMessage'],
        resources: [this.accountQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'QueueAccountSubscriptions',
        actions: ['sqs:SendMessage'],
        resources: [mainQueue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeadLetter',
        // An unknown account, or one whose Zuora errors outlast the retry budget, with its reason.
        actions: ['sqs:SendMessage'],
        resources: [deadLetterQueue.queueArn],
      }),
    );
    props.secrets.grantRead(role, 'ReadZuoraSecret', zuoraSecret);
    // It only marks lastQueuedAt, as the callout Lambda and the sweep do: the same narrow grant and the same Deny of
    // '#' items (the sweep's watermark) as theirs.
    role.addToPrincipalPolicy(markQueuedStatement(ledgerTable));
    role.addToPrincipalPolicy(denyNonSubscriptionItemsStatement(ledgerTable));
    // SSE-KMS: sending needs a data key, receiving needs to decrypt it.
    props.queueEncryptionKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');

    this.fanOutEventSourceMapping = new lambda.EventSourceMapping(this, 'FanOutEventSource', {
      target: this.fanOutFunction,
      eventSourceArn: this.accountQueue.queueArn,
      batchSize: fanOut.batchSize,
      reportBatchItemFailures: true,
      // Bounds the Zuora requests the fan-out makes at once (the tenant's 40 are shared with every integration).
      maxConcurrency: fanOut.maxConcurrency,
    });
    // Lambda checks the role's SQS permissions when the mapping is created: create the policy first.
    this.fanOutEventSourceMapping.node.addDependency(role);
  }
}
