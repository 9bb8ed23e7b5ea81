import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULTS, mainQueueVisibilityTimeoutSeconds, redriveMaxReceiveCount } from '../../functions/shared/defaults';
import { keepParentLogicalIds } from './logical-ids';

export interface BridgeQueuesProps {
  /** The sync Lambda's timeout: the main queue's visibility timeout follows it. */
  readonly syncTimeoutSeconds: number;
  /** MAX_ATTEMPTS: the redrive count is one above it. */
  readonly maxAttempts: number;
  /** Customer managed key of both queues; default SSE-SQS. */
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
}

/** The main queue of subscription ids to sync, and its dead-letter queue. */
export class BridgeQueues extends Construct {
  readonly mainQueue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: BridgeQueuesProps) {
    super(scope, id);
    keepParentLogicalIds(this);
    const { removalPolicy } = props;
    const encryption =
      props.encryptionKey === undefined
        ? { encryption: sqs.QueueEncryption.SQS_MANAGED }
        : { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey };
    const retentionPeriod = Duration.seconds(DEFAULTS.retentionSeconds);
    // Retained by default: the DLQ holds what could not be synced, with the reasons, and the main queue what waits.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy,
    });
    this.mainQueue = new sqs.Queue(this, 'MainQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod,
      removalPolicy,
      visibilityTimeout: Duration.seconds(mainQueueVisibilityTimeoutSeconds(props.syncTimeoutSeconds)),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: redriveMaxReceiveCount(props.maxAttempts) },
    });
  }
}
