import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import type { SyncHandler } from '../../functions/sync/sync-handler';
import { createLambdaContext } from '../../local/lambda-context';
import { toRecord } from './harness';

/**
 * A small stand-in for Lambda's SQS event source, for the ledger tests and measure-ledger.ts: `pollers` loops
 * receive batches of up to `batchSize` messages, invoke the handler with a real deadline, and delete what it did
 * not report as failed, until every message sent through it is gone.
 */

export function lambdaContext(timeoutMs = 30_000): Context {
  return createLambdaContext('zuora-limio-sync-sync', timeoutMs);
}

export async function sendAll(sqs: SQSClient, queueUrl: string, bodies: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const body of bodies)
    ids.push((await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }))).MessageId!);
  return ids;
}

export interface PollResult {
  /** Message ids deleted after the handler was done with them. */
  readonly done: ReadonlySet<string>;
  readonly invocations: number;
}

export async function pollUntilDone(
  sqs: SQSClient,
  queueUrl: string,
  handler: SyncHandler,
  messageIds: readonly string[],
  options: { pollers?: number; batchSize?: number; deadlineMs?: number } = {},
): Promise<PollResult> {
  const done = new Set<string>();
  const stopAt = Date.now() + (options.deadlineMs ?? 30_000);
  let invocations = 0;
  const finished = () => messageIds.every((id) => done.has(id)) || Date.now() > stopAt;
  const poller = async () => {
    while (!finished()) {
      const answer = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize ?? 2,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'ApproximateFirstReceiveTimestamp'],
        }),
      );
      const messages = answer.Messages ?? [];
      if (messages.length === 0) continue;
      invocations += 1;
      const event = { Records: messages.map((message) => toRecord(message, queueUrl)) };
      const response = await handler(event, lambdaContext());
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      const handled = event.Records.filter((record) => !failed.has(record.messageId));
      if (handled.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: handled.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
          }),
        );
      }
      for (const record of handled) done.add(record.messageId);
    }
  };
  await Promise.all(Array.from({ length: options.pollers ?? 2 }, poller));
  return { done, invocations };
}
