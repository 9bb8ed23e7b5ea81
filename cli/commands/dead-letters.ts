import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { longPollRequestTimeout } from '../aws-client-options';
import { readDeadLetterReason, type DeadLetterReason } from '../../functions/shared/dead-letter';
import {
  isAccountRequest,
  parseQueueMessage,
  unreadableBodyReason,
  type AccountRequest,
  type SyncRequest,
} from '../../functions/shared/queue-message';
import { DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../../functions/shared/subscription-id';

/** One DLQ message as the operator sees it: the original request (when readable) and why it died. */
export interface DeadLetter {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  /** The request, when the body is a valid subscription message. */
  readonly request?: SyncRequest;
  /** The account message, when the body is one (the fan-out queue shares this DLQ): replayed to the fan-out queue. */
  readonly account?: AccountRequest;
  /** Why the body is neither kind of message. */
  readonly bodyProblem?: string;
  /** Empty when the message was moved here by SQS's own redrive (maxReceiveCount), which adds no attributes. */
  readonly reason: Partial<DeadLetterReason>;
  /** When the message was first sent (SQS SentTimestamp; a redrive keeps the original time). */
  readonly sentAt?: string;
}

export function readDeadLetter(message: Message, rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE): DeadLetter {
  const body = message.Body ?? '';
  const sentTimestamp = Number(message.Attributes?.SentTimestamp);
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body,
    ...requestOrProblem(body, rule),
    reason: readDeadLetterReason(message.MessageAttributes),
    ...(Number.isFinite(sentTimestamp) && sentTimestamp > 0 && { sentAt: new Date(sentTimestamp).toISOString() }),
  };
}

/**
 * Each letter's body on its own: it is anyone's with sqs:SendMessage, and whatever reading it throws makes that
 * one letter unreadable (listed, never replayed) instead of failing `dlq list`, `dlq replay` and `trace` on the
 * whole DLQ.
 */
function requestOrProblem(
  body: string,
  rule: SubscriptionIdRule,
): { request: SyncRequest } | { account: AccountRequest } | { bodyProblem: string } {
  try {
    // The CLI does not know the stack's ACCOUNT_NUMBER_PATTERN: any path-safe key of at most 64 characters is read
    // here, and the fan-out checks it against the stack's rule again when the letter is replayed.
    const parsed = parseQueueMessage(body, { subscriptionIdRule: rule, accountKeyRule: ANY_PATH_SAFE_ACCOUNT_NUMBER });
    if (!parsed.ok) return { bodyProblem: parsed.reason };
    return isAccountRequest(parsed.message) ? { account: parsed.message } : { request: parsed.message };
  } catch (error) {
    return { bodyProblem: unreadableBodyReason(error) };
  }
}

const ANY_PATH_SAFE_ACCOUNT_NUMBER = { numberPattern: /^/ };

/** When the message failed: its failedAt attribute, or for SQS-redriven messages the time it was first sent. */
export function failedAtOf(letter: DeadLetter): string | undefined {
  return letter.reason.failedAt ?? letter.sentAt;
}

/** SQS's longest visibility timeout (12 hours). */
export const MAX_VISIBILITY_SECONDS = 43_200;

export interface ReceiveOptions {
  readonly queueUrl: string;
  /** How long received messages stay hidden while this command holds them (restored at the end in any case). */
  readonly visibilityTimeoutSeconds: number;
  /** Long-poll wait per receive; with real SQS 1 s makes an empty answer trustworthy. */
  readonly waitTimeSeconds: number;
  readonly maxMessages?: number;
}

// The SDK's command classes are imported where they are sent, so that --help loads no AWS SDK (cli/build.js).
export async function receivePage(sqs: SQSClient, options: ReceiveOptions): Promise<Message[]> {
  const { ReceiveMessageCommand } = await import('@aws-sdk/client-sqs');
  const result = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: Math.min(10, Math.max(1, options.maxMessages ?? 10)),
      VisibilityTimeout: options.visibilityTimeoutSeconds,
      WaitTimeSeconds: options.waitTimeSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
    longPollRequestTimeout(options.waitTimeSeconds),
  );
  return result.Messages ?? [];
}

/**
 * Makes held messages visible again at once (visibility timeout 0) instead of when their timeout runs out.
 * Returns how many could not be restored: those reappear by themselves when their visibility timeout expires.
 */
export async function restoreVisibility(
  sqs: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
): Promise<number> {
  const { ChangeMessageVisibilityBatchCommand } = await import('@aws-sdk/client-sqs');
  let notRestored = 0;
  for (let start = 0; start < receiptHandles.length; start += 10) {
    const chunk = receiptHandles.slice(start, start + 10);
    try {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((receiptHandle, index) => ({
            Id: String(index),
            ReceiptHandle: receiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      notRestored += result.Failed?.length ?? 0;
    } catch {
      notRestored += chunk.length;
    }
  }
  return notRestored;
}

export interface QueueCounts {
  /** ApproximateNumberOfMessages. */
  readonly visible?: number;
  /** ApproximateNumberOfMessagesNotVisible: received by someone (a replay, a list, another reader) and hidden. */
  readonly hidden?: number;
}

/** SQS's approximate counts; what cannot be read is left undefined rather than failing the command. */
export async function approximateCounts(sqs: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  try {
    const result = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const count = (name: 'ApproximateNumberOfMessages' | 'ApproximateNumberOfMessagesNotVisible') => {
      const value = Number(result.Attributes?.[name]);
      return result.Attributes?.[name] !== undefined && Number.isFinite(value) ? value : undefined;
    };
    return { visible: count('ApproximateNumberOfMessages'), hidden: count('ApproximateNumberOfMessagesNotVisible') };
  } catch {
    return {};
  }
}
