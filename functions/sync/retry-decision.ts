import { nextVisibility, type BackoffSettings } from './backoff';

/**
 * What to do with a message whose sync failed in a retryable way, in one pure function so that the retry
 * budget can change (e.g. to a time budget measured from receivedAt, or a circuit breaker) in one place.
 * Today's budget is the receive count: the MAX_ATTEMPTS-th receive is the last one.
 */
export interface RetryInput {
  /** SQS ApproximateReceiveCount of this delivery (1 = first). */
  readonly receiveCount: number;
  readonly maxAttempts: number;
  /** When the bridge first accepted the request (from the message); not used by the count budget. */
  readonly receivedAt: Date;
  readonly now: Date;
  /** Limio's Retry-After, when it gave one. */
  readonly retryAfterSeconds?: number;
}

export type RetryDecision = { readonly action: 'retry'; readonly visibilitySeconds: number } | { readonly action: 'dead-letter' };

export function decideRetry(input: RetryInput, backoff: BackoffSettings, random: () => number = Math.random): RetryDecision {
  if (input.receiveCount >= input.maxAttempts) return { action: 'dead-letter' };
  const jittered = nextVisibility(input.receiveCount, backoff, random);
  // Limio's own Retry-After wins when it asks for longer, but never beyond our cap: a bogus header must not
  // park a message for hours.
  const asked = input.retryAfterSeconds === undefined ? 0 : Math.min(input.retryAfterSeconds, backoff.maxSeconds);
  return { action: 'retry', visibilitySeconds: Math.max(jittered, asked) };
}
