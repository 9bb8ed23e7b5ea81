import { namedByClient, type ApiKind } from './api-gateway';

/**
 * What the gateway sends back: the Lambda's proxy result as API Gateway passes it on (some response headers
 * renamed, a malformed result refused), and the answers the gateway gives itself without calling the Lambda:
 * no such route, the REST API's Basic challenge, a body over the limit, a failed integration.
 */
export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Response headers API Gateway does not pass through from a Lambda but renames (AWS documents the list). */
const REMAPPED_RESPONSE_HEADERS = new Set([
  'authorization',
  'connection',
  'content-md5',
  'expect',
  'host',
  'max-forwards',
  'proxy-authenticate',
  'server',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'via',
  'warn',
  'www-authenticate',
]);

function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): GatewayResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** What the gateway itself answers when the integration fails, per API kind. */
export function integrationFailure(kind: ApiKind): GatewayResponse {
  return kind === 'rest'
    ? jsonResponse(502, { message: 'Internal server error' })
    : jsonResponse(500, { message: 'Internal Server Error' });
}

type HeaderValue = string | number | boolean;

function isHeaderMap(value: unknown): value is Record<string, HeaderValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Maps a Lambda result to the response the gateway sends, or undefined when API Gateway would reject it as
 * a malformed proxy response.
 */
export function fromLambdaResult(kind: ApiKind, result: unknown): GatewayResponse | undefined {
  // Payload 2.0 accepts a bare string or an object without statusCode as a 200 JSON body.
  if (kind === 'http') {
    if (typeof result === 'string')
      return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(result) };
    if (typeof result === 'object' && result !== null && !('statusCode' in result)) {
      return jsonResponse(200, result);
    }
  }
  if (typeof result !== 'object' || result === null) return undefined;
  const structured = result as {
    statusCode?: unknown;
    headers?: unknown;
    multiValueHeaders?: unknown;
    body?: unknown;
    isBase64Encoded?: unknown;
    cookies?: unknown;
  };
  if (typeof structured.statusCode !== 'number' || !Number.isInteger(structured.statusCode)) return undefined;
  if (structured.body !== undefined && structured.body !== null && typeof structured.body !== 'string')
    return undefined;
  const headers = namedByClient<string[]>();
  const add = (name: string, value: HeaderValue) => {
    const lower = name.toLowerCase();
    const finalName = REMAPPED_RESPONSE_HEADERS.has(lower) ? `x-amzn-Remapped-${name}` : name;
    (headers[finalName] ??= []).push(String(value));
  };
  if (structured.headers !== undefined) {
    if (!isHeaderMap(structured.headers)) return undefined;
    for (const [name, value] of Object.entries(structured.headers)) add(name, value);
  }
  if (kind === 'rest' && structured.multiValueHeaders !== undefined) {
    if (!isHeaderMap(structured.multiValueHeaders)) return undefined;
    for (const [name, values] of Object.entries(structured.multiValueHeaders)) {
      if (!Array.isArray(values)) return undefined;
      // A name in both maps: the gateway keeps the multi-value list.
      delete headers[name];
      for (const value of values) add(name, value as HeaderValue);
    }
  }
  if (kind === 'http' && Array.isArray(structured.cookies)) {
    for (const cookie of structured.cookies) (headers['set-cookie'] ??= []).push(String(cookie));
  }
  const text = typeof structured.body === 'string' ? structured.body : '';
  const body = structured.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  const flattened = namedByClient<string | string[]>();
  for (const [name, values] of Object.entries(headers)) flattened[name] = values.length === 1 ? values[0] : values;
  return { statusCode: structured.statusCode, headers: flattened, body };
}

/** What each kind answers for a route it does not have. */
export function routeNotFound(kind: ApiKind): GatewayResponse {
  return kind === 'rest'
    ? jsonResponse(403, { message: 'Missing Authentication Token' })
    : jsonResponse(404, { message: 'Not Found' });
}

/**
 * The deployed REST API's BasicChallenge gateway response (infra/constructs/front-door.ts) to a request without
 * credentials: the Lambda is not called, and Zuora's non-preemptive Basic auth then sends them.
 */
export function basicChallenge(realm: string): GatewayResponse {
  return jsonResponse(
    401,
    { success: false, message: 'authentication required' },
    { 'WWW-Authenticate': `Basic realm="${realm}"` },
  );
}

export function payloadTooLarge(): GatewayResponse {
  return jsonResponse(413, { message: 'Request Entity Too Large' });
}
