import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { loadFanOutConfig, type FanOutConfig } from '../../functions/fanout/config';
import { readDeadLetterReason, type DeadLetterReason } from '../../functions/shared/dead-letter';
import { createAccountQueue, createQueuePair, type QueuePair } from '../../local/sqs-emulator';
import type { ZuoraSandbox } from '../../local/zuora-sandbox';
import { toRecord } from '../sync/harness';

// What the fan-out's tests share: its queues on the SQS emulator, its config against the Zuora sandbox, and
// delivering and draining messages as the event source and an operator would.

export interface FanOutQueues extends QueuePair {
  readonly accountQueueUrl: string;
}

export async function newFanOutQueues(sqs: SQSClient): Promise<FanOutQueues> {
  const name = `fanout-${randomUUID().slice(0, 8)}`;
  const pair = await createQueuePair(sqs, { mainQueueName: name, deadLetterQueueName: `${name}-dlq` });
  const accountQueueUrl = await createAccountQueue(sqs, {
    deadLetterQueueUrl: pair.deadLetterQueueUrl,
    accountQueueName: `${name}-accounts`,
  });
  return { ...pair, accountQueueUrl };
}

export function fanOutConfig(
  sandbox: ZuoraSandbox,
  queues: FanOutQueues,
  env: Record<string, string> = {},
): FanOutConfig {
  return loadFanOutConfig({
    ACCOUNT_QUEUE_URL: queues.accountQueueUrl,
    QUEUE_URL: queues.mainQueueUrl,
    DLQ_URL: queues.deadLetterQueueUrl,
    ZUORA_BASE_URL: sandbox.baseUrl,
    ZUORA_CLIENT_ID: sandbox.clientId,
    ZUORA_CLIENT_SECRET: sandbox.clientSecret,
    ZUORA_TIMEOUT_MS: '5000',
    BACKOFF_BASE_SECONDS: '1',
    BACKOFF_MAX_SECONDS: '2',
    ...env,
  });
}

/** Sends the bodies to the queue and receives them back as the event source would hand them to the Lambda. */
export async function deliver(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<SQSEvent> {
  for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  return receiveEvent(sqs, queueUrl, bodies.length);
}

/** Up to `count` messages now on the queue (each left in flight, as the event source leaves them), as an event. */
export async function receiveEvent(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  waitTimeSeconds = 1,
): Promise<SQSEvent> {
  const received: Message[] = [];
  for (let round = 0; round < 20 && received.length < count; round++) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - received.length),
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
      }),
    );
    received.push(...(answer.Messages ?? []));
  }
  return { Records: received.map((message) => toRecord(message, queueUrl)) };
}

/** The event source's part after an invocation: deletes what the handler did not report as failed. */
export async function deleteHandled(
  sqs: SQSClient,
  queueUrl: string,
  event: SQSEvent,
  failed: ReadonlySet<string>,
): Promise<void> {
  for (const record of event.Records) {
    if (!failed.has(record.messageId))
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
  }
}

export interface Received {
  readonly body: string;
  readonly reason: Partial<DeadLetterReason>;
}

/** Everything on a queue (received and deleted) until it comes back empty. */
export async function drainAll(sqs: SQSClient, queueUrl: string): Promise<Received[]> {
  const all: Received[] = [];
  for (;;) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) return all;
    for (const message of messages) {
      all.push({ body: message.Body!, reason: readDeadLetterReason(message.MessageAttributes) });
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  }
}
