import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { cdkLogicalId } from '../../../infra/constructs/logical-ids';
import { BridgeQueues } from '../../../infra/constructs/queues';
import {
  DEFAULTS,
  mainQueueVisibilityTimeoutSeconds,
  redriveMaxReceiveCount,
} from '../../../functions/shared/defaults';
import {
  unbundledApp,
  constructInOwnStack,
  ownStackBridge,
  functionNamed,
  roleStatements,
  defaultBridgeFixture,
  type Resources,
} from '../fixtures';

/** The main queue and its DLQ (constructs/queues.ts). */

describe('default bridge (REST API, Basic, new secrets, alarm email)', () => {
  let template: Template;
  let mainQueueId: string;
  let deadLetterQueueId: string;

  beforeAll(() => {
    ({ template, mainQueueId, deadLetterQueueId } = defaultBridgeFixture());
  });

  describe('queues', () => {
    it('encrypt both queues (SSE-SQS) and keep messages 14 days', () => {
      for (const id of [mainQueueId, deadLetterQueueId]) {
        expect(template.toJSON().Resources[id].Properties).toMatchObject({
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 14 * 24 * 60 * 60,
        });
      }
    });

    it('refuse any request without TLS on both queues', () => {
      for (const id of [mainQueueId, deadLetterQueueId]) {
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                Resource: { 'Fn::GetAtt': [id, 'Arn'] },
              }),
            ]),
          },
        });
      }
    });

    it('give the main queue a visibility timeout of 6x the sync timeout and redrive one receive after the MAX_ATTEMPTS safety net', () => {
      expect(template.toJSON().Resources[mainQueueId].Properties).toMatchObject({
        VisibilityTimeout: mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterQueueId, 'Arn'] },
          maxReceiveCount: redriveMaxReceiveCount(DEFAULTS.maxAttempts),
        },
      });
      expect(mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds)).toBe(180);
      // The time budget decides; SQS's own redrive only backs up the sync Lambda's hard cap of 400 receives.
      expect(redriveMaxReceiveCount(DEFAULTS.maxAttempts)).toBe(401);
    });
  });
});

describe("the construct in a user's own stack (KMS key, own topic, HMAC)", () => {
  let own: ReturnType<typeof constructInOwnStack>;

  beforeAll(() => {
    own = ownStackBridge();
  });

  it('encrypts both queues with the customer managed key and grants each function exactly its use of it', () => {
    const { stack, template, key } = own;
    const keyArn = stack.resolve(key.keyArn);
    const keyId = stack.getLogicalId(key.node.defaultChild as never);
    const queues = Object.values(template.findResources('AWS::SQS::Queue')) as Resources[string][];
    expect(queues).toHaveLength(2);
    for (const queue of queues) expect(queue.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    for (const describing of ['authenticates Zuora callouts', 'asks Limio to sync']) {
      const statements = roleStatements(template, functionNamed(template, describing).resource);
      expect(statements).toContainEqual({
        Effect: 'Allow',
        Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
        Resource: keyArn,
      });
    }
  });
});

describe('BridgeQueues on its own', () => {
  it("sizes visibility and redrive from its props, encrypts with the given key, removes as told and keeps its parent's logical ids", () => {
    const stack = new Stack(unbundledApp(), 'Alone');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const queues = new BridgeQueues(stack, 'Queues', {
      syncTimeoutSeconds: 20,
      maxAttempts: 9,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const resources = Template.fromStack(stack).findResources('AWS::SQS::Queue') as Resources;
    const mainId = cdkLogicalId(['MainQueue', 'Resource']);
    const deadLetterId = cdkLogicalId(['DeadLetterQueue', 'Resource']);
    expect(Object.keys(resources).sort()).toEqual([deadLetterId, mainId].sort());
    expect(resources[mainId]).toMatchObject({
      DeletionPolicy: 'Delete',
      Properties: {
        VisibilityTimeout: mainQueueVisibilityTimeoutSeconds(20),
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [deadLetterId, 'Arn'] },
          maxReceiveCount: redriveMaxReceiveCount(9),
        },
        KmsMasterKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as never), 'Arn'] },
      },
    });
    expect(stack.resolve(queues.deadLetterQueue.queueUrl)).toEqual({ Ref: deadLetterId });
  });
});
