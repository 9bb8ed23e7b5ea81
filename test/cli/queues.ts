import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { deadLetterAttributes, type DeadLetterReason } from '../../functions/shared/dead-letter';
import { createSyncRequest, serializeSyncRequest, type SyncRequestInput } from '../../functions/shared/queue-message';
import { createQueuePair, type QueuePair } from '../../local/sqs-emulator';

let queueCounter = 0;

/** A fresh main queue + DLQ pair per test, so tests sharing one emulator cannot see each other's messages. */
export function freshQueues(sqs: SQSClient, label: string): Promise<QueuePair> {
  queueCounter++;
  return createQueuePair(sqs, {
    mainQueueName: `${label}-${queueCounter}`,
    deadLetterQueueName: `${label}-${queueCounter}-dlq`,
  });
}

/** Puts a dead letter as the sync Lambda does: the original body plus the reason attributes (none = SQS redrive). */
export async function putDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  letter: { request?: SyncRequestInput; body?: string; reason?: DeadLetterReason },
): Promise<void> {
  const body = letter.body ?? serializeSyncRequest(createSyncRequest(letter.request!));
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      ...(letter.reason && { MessageAttributes: deadLetterAttributes(letter.reason) }),
    }),
  );
}

export function reason(
  failureClass: DeadLetterReason['failureClass'],
  httpStatus: number | undefined,
  failedAt: Date | string = new Date(),
): DeadLetterReason {
  return {
    failureClass,
    ...(httpStatus !== undefined && { httpStatus }),
    error: httpStatus ? `Limio answered ${httpStatus}` : 'not a sync request',
    failedAt: typeof failedAt === 'string' ? failedAt : failedAt.toISOString(),
    attempts: failureClass === 'exhausted' ? 8 : 1,
  };
}

/** Fills a DLQ with every kind of dead letter the bridge produces (the first failed at hourAgo). */
export async function putMixedDeadLetters(sqs: SQSClient, dlq: string, hourAgo: Date): Promise<void> {
  await putDeadLetter(sqs, dlq, {
    request: {
      subscriptionId: 'A-S00000001',
      source: 'notification',
      receivedAt: '2026-11-24T10:00:00.000Z',
      zuoraRequestId: 'req-1',
      zuoraNotificationId: 'note-1',
    },
    reason: reason('exhausted', 502, hourAgo),
  });
  await putDeadLetter(sqs, dlq, {
    request: { subscriptionId: 'A-S00000002', source: 'workflow' },
    reason: reason('terminal', 404),
  });
  await putDeadLetter(sqs, dlq, {
    request: { subscriptionId: 'A-S00000003', source: 'callout', replayCount: 2 },
    reason: reason('exhausted', 502),
  });
  // Moved by SQS's own redrive (maxReceiveCount): no reason attributes at all.
  await putDeadLetter(sqs, dlq, { request: { subscriptionId: 'A-S00000004', source: 'notification' } });
  await putDeadLetter(sqs, dlq, { body: 'this is not json', reason: reason('poison', undefined) });
}

export interface Depth {
  visible: number;
  inFlight: number;
}

export async function depth(sqs: SQSClient, queueUrl: string): Promise<Depth> {
  const attributes = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes!;
  return {
    visible: Number(attributes.ApproximateNumberOfMessages),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Receives every visible message (hiding them for a minute) to look at what a queue holds. */
export async function takeAll(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!page.Messages?.length) return messages;
    messages.push(...page.Messages);
  }
}

export function bodies(messages: readonly Message[]): Record<string, unknown>[] {
  return messages.map((message) => JSON.parse(message.Body!) as Record<string, unknown>);
}

/** Captures what the CLI writes. */
export function captureIo(
  env: Record<string, string | undefined> = {},
  stdinText = '',
  stderrIsTerminal = false,
  stdoutIsTerminal = false,
) {
  const out: string[] = [];
  const err: string[] = [];
  const { Readable } = require('node:stream') as typeof import('node:stream');
  return {
    io: {
      stdout: { write: (text: string) => out.push(text), isTTY: stdoutIsTerminal },
      stderr: { write: (text: string) => err.push(text), isTTY: stderrIsTerminal },
      stdin: Readable.from([stdinText]),
      env,
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}
