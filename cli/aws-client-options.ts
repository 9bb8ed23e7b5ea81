/**
 * The options of every AWS client the CLI makes, in a module of their own so that --help does not load the SDK.
 * The SDK sets no request timeout of its own, so one endpoint that accepts the connection and never answers would
 * hold an operator's command for ever. The Lambdas' clients (BATCH_AWS_CLIENT_OPTIONS: two tries, 1 s to connect, 2 s to answer) race a batch or a deadline; an operator only waits, and a slow answer
 * beats a failed command, so each try gets more room and there is one more (it rides out a throttled call): a
 * stalled endpoint fails the command in about 3 × 5 s. A long-poll receive waits longer on purpose and widens its
 * own call's timeout (longPollRequestTimeout).
 */
export const CLI_AWS_CLIENT_OPTIONS = {
  maxAttempts: 3,
  // Without throwOnRequestTimeout the SDK (@smithy/node-http-handler 4.x) only logs a warning when
  // requestTimeout passes and goes on waiting.
  requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;

/** A receive that long-polls for waitTimeSeconds is answered only after them: its timeout counts from their end. */
export function longPollRequestTimeout(waitTimeSeconds: number): { requestTimeout: number } {
  return { requestTimeout: waitTimeSeconds * 1000 + CLI_AWS_CLIENT_OPTIONS.requestHandler.requestTimeout };
}
