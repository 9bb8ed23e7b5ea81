import { randomUUID } from 'node:crypto';
import type { CalloutAuth } from '../../functions/callout/auth-config';
import { computeSignature, formatSignatureHeader, renderSignedData, timestampHeaders } from '../../functions/callout/hmac';

export interface CalloutOptions {
  readonly url: string;
  readonly auth: CalloutAuth;
  readonly subscriptionIds: readonly string[];
  /** Extra headers, e.g. ones a signed-data template names. */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Basic only. Without it the callout is sent as Zuora does by default: first without credentials, expecting
   * the 401 challenge, then with them. With it, credentials go with the first request (Zuora's "Enable
   * Preemptive Authentication").
   */
  readonly preemptive?: boolean;
  readonly now?: () => Date;
  readonly fetch?: typeof fetch;
}

export interface CalloutResult {
  readonly url: string;
  readonly mode: CalloutAuth['mode'];
  /** HTTP status of the authenticated callout. */
  readonly status: number;
  /** 2xx with `success: true`, as Zuora's "parse response content" judges it. */
  readonly accepted: boolean;
  /** The response body (JSON when it is JSON), clipped. */
  readonly response: unknown;
  /** Names (never values) of the headers sent with the authenticated callout. */
  readonly headersSent: string[];
  /** The non-preemptive Basic handshake, when it was tried. */
  readonly challenge?: { readonly status: number; readonly wwwAuthenticate?: string; readonly ok: boolean };
  readonly zuoraRequestId: string;
}

/**
 * Sends one callout shaped like Zuora's, authenticated the way the callout Lambda is configured to check, and
 * reports how it was answered. HMAC signatures are made with the callout Lambda's own functions, so the two
 * sides cannot disagree about what is signed.
 */
export async function sendTestCallout(options: CalloutOptions): Promise<CalloutResult> {
  const send = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  const url = new URL(options.url);
  const body = JSON.stringify({
    eventType: 'ZuoraLimioSyncTestCallout',
    subscriptions: options.subscriptionIds.map((subscriptionNumber) => ({ subscriptionNumber })),
  });
  const zuoraRequestId = `zls-cli-${randomUUID()}`;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'zuora-request-id': zuoraRequestId,
    ...lowerCaseKeys(options.headers ?? {}),
  };

  let challenge: CalloutResult['challenge'];
  if (options.auth.mode === 'basic' && !options.preemptive) {
    const first = await send(url, { method: 'POST', headers, body });
    const wwwAuthenticate = first.headers.get('www-authenticate') ?? undefined;
    await first.arrayBuffer();
    challenge = { status: first.status, ...(wwwAuthenticate && { wwwAuthenticate }), ok: first.status === 401 && /^\s*basic\b/i.test(wwwAuthenticate ?? '') };
  }

  const authenticated = { ...headers, ...authHeaders(options.auth, { method: 'POST', url, headers, body, now: now() }) };
  const response = await send(url, { method: 'POST', headers: authenticated, body });
  const text = (await response.text()).slice(0, 2000);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a gateway error page, say): reported as text.
  }
  const accepted = response.ok && typeof parsed === 'object' && parsed !== null && (parsed as { success?: unknown }).success === true;
  return {
    url: options.url,
    mode: options.auth.mode,
    status: response.status,
    accepted,
    response: parsed,
    headersSent: Object.keys(authenticated).sort(),
    ...(challenge && { challenge }),
    zuoraRequestId,
  };
}

interface OutgoingRequest {
  readonly method: string;
  readonly url: URL;
  /** Lower-cased names. */
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly now: Date;
}

/** The headers that authenticate the request; a timestamp header the HMAC template signs is added when absent. */
export function authHeaders(auth: CalloutAuth, request: OutgoingRequest): Record<string, string> {
  switch (auth.mode) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`, 'utf8').toString('base64')}` };
    case 'header':
      return { [auth.headerName.toLowerCase()]: auth.value };
    case 'hmac': {
      const added: Record<string, string> = {};
      for (const name of timestampHeaders(auth.signedData)) {
        if (request.headers[name.toLowerCase()] === undefined) added[name.toLowerCase()] = String(Math.floor(request.now.getTime() / 1000));
      }
      const query: Record<string, string[]> = {};
      for (const [name, value] of request.url.searchParams) (query[name] ??= []).push(value);
      const data = renderSignedData(auth.signedData, {
        method: request.method,
        path: request.url.pathname,
        headers: { ...request.headers, ...added },
        query,
        body: request.body,
      });
      const signature = computeSignature(auth.algorithm, auth.key, data, 'hex');
      return { ...added, [auth.headerName.toLowerCase()]: formatSignatureHeader(auth.prefix, signature) };
    }
  }
}

function lowerCaseKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
