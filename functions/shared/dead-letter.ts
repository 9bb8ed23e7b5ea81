import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * Why a message is in the DLQ, carried as SQS message attributes next to the untouched original body, so an
 * operator (or `zuora-limio-sync dlq list`) can read the DLQ without digging through logs.
 *
 * - `terminal`: Limio refused this subscription (a 4xx other than 401, 403, 408, 409, 423, 425, 429): retrying cannot help.
 * - `poison`: the message itself is unreadable (not JSON, unknown version, invalid subscription id).
 * - `exhausted`: a retryable failure that kept failing until the retry budget was spent.
 */
export const FAILURE_CLASSES = ['terminal', 'poison', 'exhausted'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export interface DeadLetterReason {
  readonly failureClass: FailureClass;
  /** Limio's HTTP status, when there was an answer. */
  readonly httpStatus?: number;
  /** One line saying what went wrong; never a token, secret or header. */
  readonly error: string;
  readonly failedAt: string;
  readonly attempts: number;
}

/** SQS allows 256 KiB per message in all; an error line this long is already unreadable. */
export const MAX_ERROR_LENGTH = 1000;

export function deadLetterAttributes(reason: DeadLetterReason): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {
    failureClass: { DataType: 'String', StringValue: reason.failureClass },
    error: { DataType: 'String', StringValue: clipError(reason.error) },
    failedAt: { DataType: 'String', StringValue: reason.failedAt },
    attempts: { DataType: 'Number', StringValue: String(reason.attempts) },
  };
  if (reason.httpStatus !== undefined) {
    attributes.httpStatus = { DataType: 'Number', StringValue: String(reason.httpStatus) };
  }
  // Every value, not only the error: one refused character makes SQS refuse the whole send, and the message
  // would then stay on the main queue instead of reaching the DLQ.
  for (const attribute of Object.values(attributes))
    attribute.StringValue = sqsAttributeText(attribute.StringValue ?? '');
  return attributes;
}

/**
 * Characters SQS refuses in a message attribute value (the message-body set allows only #x9 | #xA | #xD |
 * #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF). With the `u` flag an unpaired surrogate is one code point in
 * #xD800-#xDFFF, so it is caught too.
 */
const OUTSIDE_SQS_CHARACTERS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Replaces each character SQS would refuse with U+FFFD, so the text (Limio's, say) can never fail a send. */
export function sqsAttributeText(text: string): string {
  return text.replace(OUTSIDE_SQS_CHARACTERS, '\uFFFD');
}

/** Reads the attributes back; a message put in the DLQ by SQS's own redrive carries none of them. */
export function readDeadLetterReason(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Partial<DeadLetterReason> {
  const text = (name: string) => attributes?.[name]?.StringValue;
  const failureClass = text('failureClass');
  const httpStatus = Number(text('httpStatus'));
  const attempts = Number(text('attempts'));
  return {
    ...((FAILURE_CLASSES as readonly string[]).includes(failureClass ?? '') && {
      failureClass: failureClass as FailureClass,
    }),
    ...(Number.isInteger(httpStatus) && text('httpStatus') !== undefined && { httpStatus }),
    ...(text('error') !== undefined && { error: text('error') }),
    ...(text('failedAt') !== undefined && { failedAt: text('failedAt') }),
    ...(Number.isInteger(attempts) && text('attempts') !== undefined && { attempts }),
  };
}

function clipError(error: string): string {
  const oneLine = error.replace(/\s+/g, ' ').trim() || 'unknown error';
  // Clipping may split a surrogate pair; the sanitising that follows turns the half left into U+FFFD.
  return oneLine.length > MAX_ERROR_LENGTH ? `${oneLine.slice(0, MAX_ERROR_LENGTH - 1)}…` : oneLine;
}
