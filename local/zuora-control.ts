import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType, MAX_CONTROL_BODY_BYTES, readJsonObject, refusedAsCrossSite, sendJson } from './control-request';
import type { ZuoraSandbox } from './zuora-sandbox';

/**
 * Changes subscriptions in the local Zuora sandbox WITHOUT a callout, the way a disabled workflow or a lost
 * notification leaves a change in Zuora that the bridge never hears of; the next sweep after it settles finds it:
 *   POST /_local/zuora/touch {"subscriptions": ["A-S00000271", …]} -> a new version of each, UpdatedDate now
 * Served on the runtime's own HTTP server (127.0.0.1 only); cross-site requests are refused as
 * control-request.ts explains.
 */
export const LOCAL_ZUORA_PATH = '/_local/zuora';
export const LOCAL_ZUORA_TOUCH_PATH = `${LOCAL_ZUORA_PATH}/touch`;

/** Names per request: enough for a demonstration, small enough for the body limit. */
export const MAX_TOUCHED_SUBSCRIPTIONS = 100;
const MAX_NAME_LENGTH = 100;

export interface LocalZuoraControlOptions {
  /** Absent when the runtime sweeps a real tenant (ZUORA_BASE_URL): nothing local to change then. */
  readonly sandbox?: ZuoraSandbox;
  /** The sandbox's time zone, for the answer's UpdatedDate (as Zuora shows it). */
  readonly describeUpdatedDate?: (updatedMs: number) => string;
  /** Each subscription touched, for the runtime's output. */
  readonly onTouched?: (names: readonly string[]) => void;
}

/** Handles the request if it is for the Zuora control endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalZuoraRequest(request: IncomingMessage, response: ServerResponse, options: LocalZuoraControlOptions): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_ZUORA_PATH && !path.startsWith(`${LOCAL_ZUORA_PATH}/`)) return false;
  void answer(request, response, path, options).catch((error: unknown) => {
    sendJson(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(request: IncomingMessage, response: ServerResponse, path: string, options: LocalZuoraControlOptions): Promise<void> {
  if (refusedAsCrossSite(request, response, 'change the local Zuora sandbox')) return;
  if (path !== LOCAL_ZUORA_TOUCH_PATH) return sendJson(response, 404, { message: `use POST ${LOCAL_ZUORA_TOUCH_PATH}` });
  if (request.method !== 'POST') return sendJson(response, 405, { message: `use POST ${LOCAL_ZUORA_TOUCH_PATH}` });
  if (!isJsonContentType(request.headers['content-type'])) return sendJson(response, 415, { message: 'expected Content-Type: application/json' });
  const { sandbox } = options;
  if (sandbox === undefined) {
    return sendJson(response, 409, { message: 'this runtime sweeps the Zuora tenant at ZUORA_BASE_URL, not the local sandbox: change the subscription in that tenant' });
  }
  const body = await readJsonObject(request);
  const names = touchRequestNames(body);
  if (typeof names === 'string') return sendJson(response, 400, { message: names });
  const touched = names.map((name) => sandbox.touch(name));
  options.onTouched?.(names);
  sendJson(response, 200, {
    touched: touched.map((version) => ({
      subscription: version.name,
      updatedDate: options.describeUpdatedDate?.(version.updatedMs) ?? new Date(version.updatedMs).toISOString(),
    })),
  });
}

/** The subscription names of a touch request, or what is wrong with it. */
export function touchRequestNames(body: Record<string, unknown> | undefined): string[] | string {
  const usage = `expected {"subscriptions": ["A-S00000271", …]}: 1 to ${MAX_TOUCHED_SUBSCRIPTIONS} names of at most ${MAX_NAME_LENGTH} characters, in at most ${MAX_CONTROL_BODY_BYTES} bytes`;
  const list = body?.subscriptions;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TOUCHED_SUBSCRIPTIONS) return usage;
  const names = list.map((name) => (typeof name === 'string' ? name.trim() : ''));
  if (names.some((name) => name === '' || name.length > MAX_NAME_LENGTH)) return usage;
  return [...new Set(names)];
}
