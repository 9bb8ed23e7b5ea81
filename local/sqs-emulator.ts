import * as path from 'node:path';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS, mainQueueVisibilityTimeoutSeconds, redriveMaxReceiveCount } from '../functions/shared/defaults';
import { startEmulatorProcess, type EmulatorExitedError } from './emulator-process';

export interface SqsEmulator {
  /** http://127.0.0.1:PORT, the value for AWS_ENDPOINT_URL_SQS. */
  readonly endpoint: string;
  readonly port: number;
  /** An SQS client bound to the emulator (dummy credentials, us-east-1). */
  client(): SQSClient;
  /** Resolves if its process ends other than by stop(): its queues, and the messages on them, are gone. */
  readonly unexpectedExit: Promise<EmulatorExitedError>;
  stop(): Promise<void>;
}

/** Credentials the emulator accepts; SDK clients need some, the emulator checks none. */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const EMULATOR_REGION = 'us-east-1';

/** Starts fauxqs in a child process on 127.0.0.1 (port 0 = any free port). */
export async function startSqsEmulator(options: { port?: number } = {}): Promise<SqsEmulator> {
  const emulator = await startEmulatorProcess('SQS emulator', path.join(__dirname, 'sqs-emulator-server.mjs'), {
    FAUXQS_PORT: String(options.port ?? 0),
  });
  const { port } = emulator;
  const endpoint = `http://127.0.0.1:${port}`;
  const clients: SQSClient[] = [];
  return {
    endpoint,
    port,
    unexpectedExit: emulator.unexpectedExit,
    client() {
      const client = new SQSClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.destroy();
      await emulator.stop();
    },
  };
}

export interface QueuePair {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export interface QueueTopology {
  mainQueueName?: string;
  deadLetterQueueName?: string;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
}

/** Creates the main queue and its DLQ with the same redrive policy the CDK stack deploys. */
export async function createQueuePair(client: SQSClient, topology: QueueTopology = {}): Promise<QueuePair> {
  const mainQueueName = topology.mainQueueName ?? DEFAULTS.mainQueueName;
  const deadLetterQueueName = topology.deadLetterQueueName ?? DEFAULTS.deadLetterQueueName;
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: deadLetterQueueName,
      Attributes: { MessageRetentionPeriod: String(DEFAULTS.retentionSeconds) },
    }),
  );
  const dlqAttributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: mainQueueName,
      Attributes: {
        MessageRetentionPeriod: String(DEFAULTS.retentionSeconds),
        VisibilityTimeout: String(
          topology.visibilityTimeoutSeconds ?? mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds),
        ),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes!.QueueArn,
          maxReceiveCount: topology.maxReceiveCount ?? redriveMaxReceiveCount(DEFAULTS.maxAttempts),
        }),
      },
    }),
  );
  return { mainQueueUrl: main.QueueUrl!, deadLetterQueueUrl: dlq.QueueUrl! };
}

export interface AccountQueueTopology {
  /** The DLQ of the main queue: operators have one DLQ for both kinds of message. */
  readonly deadLetterQueueUrl: string;
  readonly accountQueueName?: string;
  readonly visibilityTimeoutSeconds?: number;
  readonly maxReceiveCount?: number;
}

/** Creates the fan-out queue (ACCOUNT_QUEUE_URL) for account messages, redriven to the main queue's DLQ. */
export async function createAccountQueue(client: SQSClient, topology: AccountQueueTopology): Promise<string> {
  const dlqAttributes = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: topology.deadLetterQueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: topology.accountQueueName ?? DEFAULTS.accountQueueName,
      Attributes: {
        MessageRetentionPeriod: String(DEFAULTS.retentionSeconds),
        VisibilityTimeout: String(
          topology.visibilityTimeoutSeconds ?? mainQueueVisibilityTimeoutSeconds(DEFAULTS.syncFunctionTimeoutSeconds),
        ),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqAttributes.Attributes!.QueueArn,
          maxReceiveCount: topology.maxReceiveCount ?? redriveMaxReceiveCount(DEFAULTS.maxAttempts),
        }),
      },
    }),
  );
  return queue.QueueUrl!;
}
