import { GetQueueAttributesCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { restoreVisibility } from './dead-letters';

export interface QueueStatus {
  readonly queue: 'main' | 'dlq';
  readonly url: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
  /**
   * Age of the oldest message found, in ms, or undefined when not measured. It comes from a sample of at
   * most `sampled` messages, so it is a lower bound ("at least this old"), not CloudWatch's exact metric.
   */
  readonly oldestAgeMs?: number;
  readonly sampled: number;
  /** How the age was obtained, or why it was not. */
  readonly ageNote: string;
}

export interface StatusOptions {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /**
   * Also peek at the main queue. Off by default: a peek is a receive, and on the main queue every receive counts
   * towards a message's attempts (ApproximateReceiveCount) and its redrive to the DLQ.
   */
  readonly peekMain?: boolean;
  readonly now?: () => number;
}

const CLOUDWATCH_NOTE = 'not measured: see CloudWatch ApproximateAgeOfOldestMessage (or --peek-main)';

export async function queueStatus(sqs: SQSClient, options: StatusOptions): Promise<QueueStatus[]> {
  const now = options.now ?? Date.now;
  return Promise.all([
    oneQueue(sqs, 'main', options.mainQueueUrl, options.peekMain ?? false, now),
    // Peeking at the DLQ is harmless: nothing consumes it and it has no redrive of its own.
    oneQueue(sqs, 'dlq', options.deadLetterQueueUrl, true, now),
  ]);
}

async function oneQueue(sqs: SQSClient, queue: 'main' | 'dlq', url: string, peek: boolean, now: () => number): Promise<QueueStatus> {
  const attributes =
    (
      await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
        }),
      )
    ).Attributes ?? {};
  const depth = {
    visible: Number(attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
  if (!peek) return { queue, url, ...depth, sampled: 0, ageNote: CLOUDWATCH_NOTE };
  if (depth.visible === 0) return { queue, url, ...depth, sampled: 0, ageNote: depth.inFlight + depth.delayed > 0 ? 'no visible message to peek at' : 'empty' };
  // Made visible again right away. (A receive with VisibilityTimeout 0 would do in AWS, but the emulator takes
  // 0 as "use the queue's default", so the explicit restore keeps both right.)
  const peeked = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['SentTimestamp'] }),
  );
  await restoreVisibility(sqs, url, (peeked.Messages ?? []).map((message) => message.ReceiptHandle ?? '').filter(Boolean));
  const sent = (peeked.Messages ?? []).map((message) => Number(message.Attributes?.SentTimestamp)).filter((time) => time > 0);
  if (sent.length === 0) return { queue, url, ...depth, sampled: 0, ageNote: 'peek returned no message' };
  return {
    queue,
    url,
    ...depth,
    oldestAgeMs: now() - Math.min(...sent),
    sampled: sent.length,
    ageNote: `oldest of a ${sent.length}-message sample (a lower bound)`,
  };
}
