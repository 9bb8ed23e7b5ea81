import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import { breakerStatus, closeBreaker, openBreaker } from '../functions/breaker/operator';
import type { BreakerSettings } from '../functions/breaker/settings';

/**
 * The local runtime keeps the circuit breaker in memory, inside the `npm start` process, so the CLI's `--local`
 * reaches it over this small endpoint on the runtime's own HTTP server (127.0.0.1 only):
 *   GET  /_local/breaker                       -> the breaker's status
 *   POST /_local/breaker/open  {"reason": "…"} -> held open by hand, then the status
 *   POST /_local/breaker/close {"reason"?: "…"} -> closed, then the status
 * The same operator functions as the CLI's AWS path (functions/breaker/operator.ts) do the work.
 *
 * It has no authentication (it listens on 127.0.0.1 only), so it must not be reachable from a web page open in a
 * browser on the same machine (cross-site request forgery): a browser names the page's site in an Origin header
 * on every cross-origin request, and cannot send `Content-Type: application/json` cross-origin without a CORS
 * preflight this server never grants. So a request with an Origin header is refused, and so is a POST of any
 * other content type. The CLI sends neither an Origin nor anything but JSON.
 */
export const LOCAL_BREAKER_PATH = '/_local/breaker';

export interface LocalBreakerControlOptions {
  readonly store: BreakerStore;
  readonly settings?: BreakerSettings;
  /** After a change by hand: the runtime runs its probe at once, so the poller follows before the answer. */
  readonly onChange?: () => Promise<unknown> | void;
}

const MAX_BODY_BYTES = 4 * 1024;

/** Handles the request if it is for the breaker endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalBreakerRequest(request: IncomingMessage, response: ServerResponse, options: LocalBreakerControlOptions): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_BREAKER_PATH && !path.startsWith(`${LOCAL_BREAKER_PATH}/`)) return false;
  void answer(request, response, path.slice(LOCAL_BREAKER_PATH.length), options).catch((error: unknown) => {
    send(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(request: IncomingMessage, response: ServerResponse, action: string, options: LocalBreakerControlOptions): Promise<void> {
  const { store, settings } = options;
  if (request.headers.origin !== undefined) {
    return send(response, 403, { message: 'refused: requests from a web page (with an Origin header) cannot control the local breaker' });
  }
  if (action === '' && request.method === 'GET') return send(response, 200, await breakerStatus(store));
  if ((action === '/open' || action === '/close') && request.method === 'POST') {
    if (!isJsonContentType(request.headers['content-type'])) {
      return send(response, 415, { message: 'expected Content-Type: application/json' });
    }
    const body = await readJson(request);
    if (body === undefined) return send(response, 400, { message: `expected a JSON object of at most ${MAX_BODY_BYTES} bytes` });
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
  send(response, action === '' || action === '/open' || action === '/close' ? 405 : 404, { message: `use GET ${LOCAL_BREAKER_PATH}, POST ${LOCAL_BREAKER_PATH}/open or POST ${LOCAL_BREAKER_PATH}/close` });
}

/** `application/json`, parameters such as `; charset=utf-8` allowed. */
function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';')[0].trim().toLowerCase() === 'application/json';
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
