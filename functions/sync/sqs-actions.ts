import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { deadLetterAttributes, type DeadLetterReason } from '../shared/dead-letter';

/** Puts the original body, untouched, on the DLQ with why it died; the caller then lets the original go. */
export async function sendToDeadLetterQueue(sqs: SQSClient, deadLetterQueueUrl: string, body: string, reason: DeadLetterReason): Promise<void> {
  await sqs.send(
    new SendMessageCommand({ QueueUrl: deadLetterQueueUrl, MessageBody: body, MessageAttributes: deadLetterAttributes(reason) }),
  );
}

/** Backoff: the message stays invisible this long after the invocation reports it failed. */
export async function delayRedelivery(sqs: SQSClient, queueUrl: string, receiptHandle: string, visibilitySeconds: number): Promise<void> {
  await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilitySeconds }));
}
