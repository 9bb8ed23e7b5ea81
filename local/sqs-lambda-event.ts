import { createHash } from 'node:crypto';
import { DeleteMessageBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/**
 * Lambda's side of an SQS event source mapping, as the local poller plays it: received messages in the shape
 * Lambda hands the handler, the ReportBatchItemFailures rules it applies to the handler's answer, and the
 * deletion of the records that were not reported failed.
 */

/** SQS answers at most this many messages per ReceiveMessage and deletes at most this many per batch call. */
export const SQS_MAX_MESSAGES_PER_CALL = 10;

/**
 * The set of failed message ids from a handler's answer, or undefined when Lambda would fail the whole batch:
 * an item identifier that is empty or names no record of the batch.
 */
export function failedItemIdentifiers(result: unknown, records: readonly SQSRecord[]): Set<string> | undefined {
  if (result === undefined || result === null) return new Set();
  if (typeof result !== 'object') return new Set();
  const failures = (result as { batchItemFailures?: unknown }).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return undefined;
  const ids = new Set(records.map((record) => record.messageId));
  const failed = new Set<string>();
  for (const failure of failures) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return undefined;
    failed.add(id);
  }
  return failed;
}

/** One received message in the shape Lambda puts in SQSEvent.Records. */
export function toSqsRecord(message: Message, eventSourceARN: string, awsRegion: string): SQSRecord {
  const system = message.Attributes ?? {};
  const body = message.Body ?? '';
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    messageAttributes[name] = {
      ...(value.StringValue !== undefined && { stringValue: value.StringValue }),
      ...(value.BinaryValue !== undefined && { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((binary) => Buffer.from(binary).toString('base64')),
      dataType: value.DataType ?? 'String',
    };
  }
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    attributes: {
      ...system,
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
      SentTimestamp: system.SentTimestamp ?? String(Date.now()),
      SenderId: system.SenderId ?? 'AIDALOCAL',
      ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? createHash('md5').update(body).digest('hex'),
    ...(message.MD5OfMessageAttributes !== undefined && { md5OfMessageAttributes: message.MD5OfMessageAttributes }),
    eventSource: 'aws:sqs',
    eventSourceARN,
    awsRegion,
  };
}

/** Deletes the processed records, ten per call; a record that could not be deleted is reported, not retried. */
export async function deleteProcessed(
  client: SQSClient,
  queueUrl: string,
  records: readonly SQSRecord[],
  onError: ((error: unknown) => void) | undefined,
): Promise<number> {
  let deleted = 0;
  for (let start = 0; start < records.length; start += SQS_MAX_MESSAGES_PER_CALL) {
    const chunk = records.slice(start, start + SQS_MAX_MESSAGES_PER_CALL);
    try {
      const answer = await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      deleted += answer.Successful?.length ?? 0;
      for (const failure of answer.Failed ?? []) {
        onError?.(
          new Error(`could not delete a processed message: ${failure.Code ?? ''} ${failure.Message ?? ''}`.trim()),
        );
      }
    } catch (error) {
      onError?.(error);
    }
  }
  return deleted;
}
