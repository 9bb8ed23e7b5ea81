import type { RetrySettings } from '../breaker/settings';
import type { FailureClass } from '../shared/dead-letter';
import { ZuoraApiError } from '../sweep/zuora-answers';
import { decideRetry, type RetryDecision } from '../sync/retry-budget';

/**
 * What becomes of an account message whose fan-out failed. Zuora's 429s, 5xx, timeouts and refused credentials
 * (a secret being rotated or fixed) and a queue that did not take the messages are passing: the message backs
 * off by its visibility within the retry budget, as the sync Lambda's do, and is dead-lettered as exhausted once
 * it is spent. A query Zuora refuses outright (a 4xx) or answers in a shape it does not document cannot come out
 * differently next time: terminal. Pure: the clock and the randomness are the caller's.
 */

/** The subscription messages (or the continuation) could not all be put on their queue. */
export class FanOutQueueError extends Error {
  override readonly name = 'FanOutQueueError';
}

export interface FanOutFailure {
  readonly kind: 'passing' | 'terminal';
  readonly error: string;
  readonly httpStatus?: number;
  /** Zuora's failure (counted in FanOutZuoraRetries when it is retried), not the queue's. */
  readonly fromZuora: boolean;
}

export function classifyFanOutError(error: unknown): FanOutFailure {
  const text = error instanceof Error ? error.message : String(error);
  if (error instanceof ZuoraApiError) {
    const httpStatus = error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {};
    const kind = error.kind === 'refused' || error.kind === 'protocol' ? 'terminal' : 'passing';
    return { kind, error: `Zuora: ${text}`, ...httpStatus, fromZuora: true };
  }
  // The queue, or a fault of our own: neither is the message's, so it gets the budget's chances.
  return { kind: 'passing', error: text, fromZuora: false };
}

export interface FanOutRetryInput {
  readonly failure: FanOutFailure;
  readonly receiveCount: number;
  /** When the budget started (budgetStart of the message). */
  readonly receivedAt: number;
  readonly sentAt?: number;
  readonly now: number;
  readonly settings: RetrySettings;
  readonly random?: () => number;
}

export function decideFanOutRetry(input: FanOutRetryInput): RetryDecision {
  const { failure } = input;
  return decideRetry({
    failure:
      failure.kind === 'terminal'
        ? { kind: 'terminal', error: failure.error }
        : { kind: 'limio', error: failure.error },
    receiveCount: input.receiveCount,
    receivedAt: input.receivedAt,
    ...(input.sentAt !== undefined && { sentAt: input.sentAt }),
    now: input.now,
    // Limio's breaker has nothing to say about Zuora: no open time is left out of this budget.
    openIntervals: [],
    settings: input.settings,
    ...(input.random !== undefined && { random: input.random }),
  });
}

/** The DLQ's reason for an account that Zuora does not know: retrying cannot find it. */
export const UNKNOWN_ACCOUNT_CLASS: FailureClass = 'terminal';
