import type { APIGatewayProxyResult } from 'aws-lambda';

/**
 * What Zuora is told. Zuora treats any 2xx as delivered and, when "parse response content" is on, reads
 * `success` from a 200 JSON body; a retriable template retries anything else. So:
 *   200  every id is on its queue (accounts on the fan-out queue) -> done
 *   202  the subscriptions are queued; the account keys were ignored (no fan-out queue: no Zuora connection) -> done
 *   400  no id / invalid id / unreadable body           -> fix the template; a retry sends the same thing
 *   401  no credentials (Basic: with the challenge)     -> Zuora's non-preemptive Basic now sends them
 *   403  wrong credentials or signature                 -> fix the settings
 *   405  method other than GET / POST
 *   413  body over CALLOUT_MAX_BODY_BYTES, or more ids than CALLOUT_MAX_IDS
 *   415  content type that is not JSON, form or XML
 *   422  only account keys, and no fan-out queue: this stack cannot turn an account into its subscriptions
 *   503  not (all) queued, or the credentials could not be read -> retry later; nothing was lost
 * Bodies are tiny (Zuora keeps at most 60 KB of a response) and never echo the request.
 */
export function acceptedResponse(
  ids: readonly string[],
  requestId: string,
  accountKeys: readonly string[] = [],
): APIGatewayProxyResult {
  return json(200, {
    success: true,
    accepted: ids,
    ...(accountKeys.length > 0 && { acceptedAccounts: accountKeys }),
    requestId,
  });
}

/** Still a success for Zuora (a retry could not queue the accounts either), but it says what was left out and why. */
export function acceptedWithoutAccountsResponse(
  ids: readonly string[],
  ignoredAccountKeys: readonly string[],
  why: string,
  requestId: string,
): APIGatewayProxyResult {
  return json(202, { success: true, accepted: ids, ignoredAccounts: ignoredAccountKeys, warning: why, requestId });
}

export function refusedResponse(
  statusCode: number,
  error: string,
  requestId: string,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return json(statusCode, { success: false, error, requestId }, headers);
}

export function basicChallenge(realm: string): Record<string, string> {
  return { 'WWW-Authenticate': `Basic realm="${realm}", charset="UTF-8"` };
}

function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
