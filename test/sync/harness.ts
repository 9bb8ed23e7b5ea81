import { randomUUID } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { readDeadLetterReason, type DeadLetterReason } from '../../functions/shared/dead-letter';
import { createSyncRequest, serializeSyncRequest } from '../../functions/shared/queue-message';
import { loadSyncConfig, type SyncConfig } from '../../functions/sync/config';
import type { LimioSandbox } from '../../local/limio-sandbox';
import { createQueuePair, startSqsEmulator, type QueuePair, type SqsEmulator } from '../../local/sqs-emulator';

/** Shared plumbing of the sync integration tests: real queues on the emulator, real Limio sandbox over HTTP. */

export const LIMIO_SECRET_ID = 'zuora-limio-sync/limio';

export function syncConfig(sandbox: LimioSandbox, queues: QueuePair, env: Record<string, string> = {}): SyncConfig {
  return loadSyncConfig({
    QUEUE_URL: queues.mainQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    LIMIO_BASE_URL: sandbox.baseUrl,
    LIMIO_SECRET_ID,
    ...env,
  });
}

/** Secrets Manager is the one AWS service mocked: it answers with the sandbox's credentials unless told otherwise. */
export function mockLimioSecret(sandbox: LimioSandbox) {
  const mock = mockClient(SecretsManagerClient);
  mock.on(GetSecretValueCommand, { SecretId: LIMIO_SECRET_ID }).resolves({
    SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }),
  });
  return {
    mock,
    client: new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    }),
    reads: () => mock.commandCalls(GetSecretValueCommand).length,
  };
}

export async function newQueuePair(sqs: SQSClient, visibilityTimeoutSeconds?: number): Promise<QueuePair> {
  const name = `sync-${randomUUID().slice(0, 8)}`;
  return createQueuePair(sqs, { mainQueueName: name, deadLetterQueueName: `${name}-dlq`, visibilityTimeoutSeconds });
}

export function body(subscriptionId: string, extra: { zuoraRequestId?: string } = {}): string {
  return serializeSyncRequest(createSyncRequest({ subscriptionId, source: 'test', ...extra }));
}

/**
 * Puts bodies on the main queue and receives them back, so each record has a real receipt handle, as Lambda's
 * event source would deliver them. `receiveCounts` pretends a message has been received that often before.
 */
export async function deliver(
  sqs: SQSClient,
  queueUrl: string,
  bodies: string[],
  receiveCounts: Record<number, number> = {},
): Promise<SQSEvent> {
  const sentIds: string[] = [];
  for (const messageBody of bodies) {
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: messageBody }));
    sentIds.push(sent.MessageId!);
  }
  const received = new Map<string, Message>();
  for (let round = 0; round < 20 && received.size < bodies.length; round++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
      }),
    );
    for (const message of answer.Messages ?? []) received.set(message.MessageId!, message);
  }
  if (received.size !== bodies.length) throw new Error(`received ${received.size} of ${bodies.length} messages`);
  return { Records: sentIds.map((id, index) => toRecord(received.get(id)!, queueUrl, receiveCounts[index])) };
}

export function toRecord(message: Message, queueUrl: string, receiveCount?: number): SQSRecord {
  return {
    messageId: message.MessageId!,
    receiptHandle: message.ReceiptHandle!,
    body: message.Body!,
    attributes: {
      ApproximateReceiveCount: String(receiveCount ?? message.Attributes?.ApproximateReceiveCount ?? '1'),
      SentTimestamp: message.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueUrl.split('/').pop()}`,
    awsRegion: 'us-east-1',
  };
}

export interface DeadLetter {
  readonly body: string;
  readonly reason: Partial<DeadLetterReason>;
}

/** Everything on a queue right now (received and deleted), waiting briefly for stragglers. */
export async function drain(
  sqs: SQSClient,
  queueUrl: string,
  expected: number,
  waitTimeSeconds = 1,
): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  for (let round = 0; round < 10; round++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitTimeSeconds,
        MessageAttributeNames: ['All'],
      }),
    );
    for (const message of answer.Messages ?? []) {
      letters.push({ body: message.Body!, reason: readDeadLetterReason(message.MessageAttributes) });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
    if ((answer.Messages ?? []).length === 0 && letters.length >= expected) break;
  }
  return letters;
}

/**
 * An SQS emulator whose 12-hour visibility ceiling (counted from each receive, as SQS does) is lowered to
 * `ceilingSeconds` through its test-only FAUXQS_VISIBILITY_CEILING_SECONDS, or left at SQS's 43,200 s when
 * undefined; the emulator takes the variable from this process's environment when it starts.
 */
export async function startSqsEmulatorWithVisibilityCeiling(ceilingSeconds: number | undefined): Promise<SqsEmulator> {
  const before = process.env.FAUXQS_VISIBILITY_CEILING_SECONDS;
  if (ceilingSeconds === undefined) delete process.env.FAUXQS_VISIBILITY_CEILING_SECONDS;
  else process.env.FAUXQS_VISIBILITY_CEILING_SECONDS = String(ceilingSeconds);
  try {
    return await startSqsEmulator();
  } finally {
    if (before === undefined) delete process.env.FAUXQS_VISIBILITY_CEILING_SECONDS;
    else process.env.FAUXQS_VISIBILITY_CEILING_SECONDS = before;
  }
}
