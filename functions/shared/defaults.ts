/**
 * Defaults shared by the Lambdas, the CDK construct and the local runtime, so the queue topology and the
 * retry budget are the same wherever the bridge runs. Each can be overridden (environment / construct props).
 */
export const DEFAULTS = {
  /** Distinct subscriptions synced at once by one sync Lambda invocation. */
  syncConcurrency: 5,
  /** The adaptive limit's floor per container: 50 containers at it put 2.5 Limio calls in flight. */
  syncAdaptiveMinLimit: 0.05,
  /**
   * Hard cap on receives of one message, a safety net only: the retry budget by time (24 h, outage time not
   * counted; functions/breaker/settings.ts) decides when a Limio-side failure is dead-lettered. Full-jitter
   * backoff at the 15-minute cap takes about 200 receives to spend 24 h; 400 leaves room for the receives while
   * the breaker flips, and SQS's redrive (401) stays within its limit of 1000.
   */
  maxAttempts: 400,
  /** Limio request timeout; far below the sync function timeout so a hung call cannot eat the invocation. */
  limioTimeoutMs: 8_000,
  /** Sync Lambda timeout. The main queue's visibility timeout is 6x this, as AWS recommends. */
  syncFunctionTimeoutSeconds: 30,
  /** SQS event source: messages per batch and how long to gather them. */
  syncBatchSize: 10,
  /**
   * 0: Lambda invokes as soon as messages arrive (near real time; a burst that is already queued still comes in
   * batches of up to syncBatchSize). CALLOUT_DELAY_SECONDS is the debounce for bursts that arrive over time.
   */
  syncBatchingWindowSeconds: 0,
  /** Backoff between retries of one message (ChangeMessageVisibility), exponential with full jitter. */
  backoffBaseSeconds: 10,
  backoffMaxSeconds: 900,
  /** Refresh the cached Limio token this long before it expires. */
  tokenExpiryMarginSeconds: 60,
  /** Callout limits. */
  calloutMaxIds: 100,
  calloutMaxBodyBytes: 256 * 1024,
  /**
   * Upper bound of CALLOUT_MAX_BODY_BYTES. A synchronous Lambda invocation takes at most 6 MiB of event, and an
   * HTTP API hands a form body to the Lambda base64-encoded (4/3 of its size) beside the headers: 4 MiB of body
   * is 5.33 MiB encoded, which leaves room for the rest of the event. A larger body would make API Gateway
   * answer 5xx (Zuora retries it uselessly) instead of the callout's own 413.
   */
  calloutMaxBodyBytesLimit: 4 * 1024 * 1024,
  calloutDelaySeconds: 0,
  /** Queue names of the local runtime; the CDK stack lets CloudFormation name them. */
  mainQueueName: 'zuora-limio-sync',
  deadLetterQueueName: 'zuora-limio-sync-dlq',
  /** The fan-out queue: account messages (ACCOUNT_QUEUE_URL), redriven to the same DLQ. */
  accountQueueName: 'zuora-limio-sync-accounts',
  /** 14 days: the SQS maximum, so nothing expires while an outage or an operator is dealt with. */
  retentionSeconds: 14 * 24 * 60 * 60,
  /**
   * A message this close to the end of its retention (by its SQS SentTimestamp) is dead-lettered as exhausted
   * when next received, whatever its budget, rather than left to be deleted by SQS. More than the longest hold
   * or backoff (12 h), so it is received at least once inside this margin.
   */
  retentionMarginSeconds: 24 * 60 * 60,
} as const;

/**
 * The longest retry budget the queue can keep: its last retry comes back (up to BACKOFF_MAX_SECONDS later) and
 * is dead-lettered before the retention margin begins. Shared by the sync Lambda and the CDK settings.
 */
export function maxRetryBudgetSeconds(backoffMaxSeconds: number): number {
  return DEFAULTS.retentionSeconds - DEFAULTS.retentionMarginSeconds - backoffMaxSeconds;
}

/** The main queue's visibility timeout must outlast any invocation that holds a batch. */
export function mainQueueVisibilityTimeoutSeconds(syncFunctionTimeoutSeconds: number): number {
  return syncFunctionTimeoutSeconds * 6;
}

/** SQS's own redrive is a safety net one receive beyond the sync Lambda's own last attempt. */
export function redriveMaxReceiveCount(maxAttempts: number): number {
  return maxAttempts + 1;
}
