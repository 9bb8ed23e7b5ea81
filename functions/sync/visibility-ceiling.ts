/**
 * SQS keeps a received message invisible for at most 12 hours counted from the ReceiveMessage that returned it:
 * a ChangeMessageVisibility whose timeout plus the time already spent since that receive exceeds 43,200 s is
 * refused (InvalidParameterValue, "Total VisibilityTimeout for the message is beyond the limit"). A refused hold
 * or backoff is not harmless: the message comes back after the queue's visibility timeout, one more receive
 * towards SQS's redrive. So every visibility the sync Lambda asks for is kept within what is left of the 12 hours.
 */

/** SQS's limit on one receive's visibility. */
export const SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60;

/**
 * How much earlier than the invocation's start the event source may have received a message: Lambda gathers a
 * batch for up to its batching window (at most 300 s), and a throttled invocation is retried for as long as the
 * messages stay invisible (the main queue's visibility timeout, 180 s by default). 15 minutes covers both with
 * room and costs a long hold only 2% of its length.
 */
export const VISIBILITY_CEILING_MARGIN_SECONDS = 15 * 60;

/**
 * The longest visibility SQS will take for a message received no later than `receivedAtMs` (the invocation's
 * start): `requestedSeconds`, or less when it would end past 12 hours from the receive, less the margin. Whole
 * seconds, never negative (0 makes the message visible at once, the only thing left to ask for then).
 */
export function withinVisibilityCeiling(
  requestedSeconds: number,
  receivedAtMs: number,
  nowMs: number,
  marginSeconds: number = VISIBILITY_CEILING_MARGIN_SECONDS,
): number {
  const spentSeconds = Math.max(0, nowMs - receivedAtMs) / 1000;
  const ceiling = Math.floor(SQS_MAX_VISIBILITY_SECONDS - marginSeconds - spentSeconds);
  return Math.max(0, Math.min(Math.floor(requestedSeconds), ceiling));
}
