import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import { breakerStatus, closeBreaker, openBreaker } from '../functions/breaker/operator';
import type { BreakerSettings } from '../functions/breaker/settings';
import {
  isJsonContentType,
  MAX_CONTROL_BODY_BYTES,
  readJsonObject,
  refusedAsCrossSite,
  sendJson as send,
} from './control-request';

/**
 * The CLI's `--local` reaches the runtime's circuit breaker (in its DynamoDB emulator) over this small endpoint on
 * the runtime's own HTTP server (127.0.0.1 only):
 *   GET  /_local/breaker                       -> the breaker's status
 *   POST /_local/breaker/open  {"reason": "…"} -> held open by hand, then the status
 *   POST /_local/breaker/close {"reason"?: "…"} -> closed, then the status
 * The same operator functions as the CLI's AWS path (functions/breaker/operator.ts) do the work. Cross-site
 * requests are refused as control-request.ts explains.
 */
export const LOCAL_BREAKER_PATH = '/_local/breaker';

export interface LocalBreakerControlOptions {
  readonly store: BreakerStore;
  readonly settings?: BreakerSettings;
  /** After a change by hand: the runtime runs its probe at once, so the poller follows before the answer. */
  readonly onChange?: () => Promise<unknown> | void;
}

/** Handles the request if it is for the breaker endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalBreakerRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalBreakerControlOptions,
): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_BREAKER_PATH && !path.startsWith(`${LOCAL_BREAKER_PATH}/`)) return false;
  void answer(request, response, path.slice(LOCAL_BREAKER_PATH.length), options).catch((error: unknown) => {
    send(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  action: string,
  options: LocalBreakerControlOptions,
): Promise<void> {
  const { store, settings } = options;
  if (refusedAsCrossSite(request, response, 'control the local breaker')) return;
  if (action === '' && request.method === 'GET') return send(response, 200, await breakerStatus(store));
  if ((action === '/open' || action === '/close') && request.method === 'POST') {
    if (!isJsonContentType(request.headers['content-type'])) {
      return send(response, 415, { message: 'expected Content-Type: application/json' });
    }
    const body = await readJsonObject(request);
    if (body === undefined)
      return send(response, 400, { message: `expected a JSON object of at most ${MAX_CONTROL_BODY_BYTES} bytes` });
    const reason = typeof body.reason === 'string' ? body.reason : undefined;
    if (action === '/open') {
      if (!reason?.trim()) return send(response, 400, { message: 'a reason is required to open the breaker by hand' });
      await openBreaker(store, reason, { ...(settings && { settings }) });
    } else {
      await closeBreaker(store, { ...(settings && { settings }), ...(reason !== undefined && { reason }) });
    }
    await options.onChange?.();
    return send(response, 200, await breakerStatus(store));
  }
  send(response, action === '' || action === '/open' || action === '/close' ? 405 : 404, {
    message: `use GET ${LOCAL_BREAKER_PATH}, POST ${LOCAL_BREAKER_PATH}/open or POST ${LOCAL_BREAKER_PATH}/close`,
  });
}
