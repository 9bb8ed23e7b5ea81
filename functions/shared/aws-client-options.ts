/**
 * Options for the AWS clients the sync Lambda calls while a batch is under way (SQS for backoffs and the DLQ,
 * DynamoDB for the breaker, read inside a Limio concurrency slot, Secrets Manager through Powertools for the
 * Limio secret), also used by the probe Lambda (DynamoDB, Lambda) so one stalled call cannot eat its one-minute
 * slot, and by the sweep Lambda (SQS, DynamoDB, Secrets Manager) so one cannot hold a run past its deadline and
 * its watermark write. The SDK sets no request timeout of its own: one stalled call would hold the invocation
 * until Lambda kills it, and the whole batch, synced messages included, would come back. Two tries of at most ~3 s each stay well below LIMIO_TIMEOUT_MS (8 s) and the
 * function timeout (30 s); every caller already copes with a failed call (the breaker fails open, a failed
 * backoff leaves the queue's own visibility timeout).
 */
export const BATCH_AWS_CLIENT_OPTIONS = {
  maxAttempts: 2,
  // Without throwOnRequestTimeout the SDK (@smithy/node-http-handler 4.x) only logs a warning when
  // requestTimeout passes and goes on waiting.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
} as const;
