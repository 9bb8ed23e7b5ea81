import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * One shape for a callout, whichever API Gateway flavour delivered it. The deployed front door is a REST API
 * (payload 1.0) because Basic's 401 challenge needs a gateway response; an HTTP API (payload 2.0) variant and
 * the local adapter deliver 2.0 events. Everything after this module sees only a CalloutRequest.
 */
export interface CalloutRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  readonly path: string;
  /** Lower-cased names; repeated headers joined with "," as API Gateway does. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * Lower-cased names of headers the event shows arrived more than once (a REST API's multiValueHeaders, or
   * names differing only in case). An HTTP API joins repeats with "," and leaves no other trace: the
   * verifier reads a comma where a credential cannot hold one as a repeat.
   */
  readonly repeatedHeaders: ReadonlySet<string>;
  /** Every value of every query parameter, repeats kept. */
  readonly query: Readonly<Record<string, readonly string[]>>;
  /** The exact bytes Zuora sent (decoded from base64 when API Gateway encoded them). */
  readonly body: Buffer;
  /** API Gateway's own request id, for correlating a Zuora retry with our logs. */
  readonly requestId: string;
}

export type CalloutEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

function isHttpApiEvent(event: CalloutEvent): event is APIGatewayProxyEventV2 {
  return (event as APIGatewayProxyEventV2).version === '2.0';
}

export function normaliseEvent(event: CalloutEvent): CalloutRequest {
  return isHttpApiEvent(event) ? fromHttpApi(event) : fromRestApi(event);
}

function fromHttpApi(event: APIGatewayProxyEventV2): CalloutRequest {
  const repeatedHeaders = new Set<string>();
  return {
    method: (event.requestContext?.http?.method ?? 'GET').toUpperCase(),
    path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
    headers: lowerCaseHeaders(event.headers ?? {}, repeatedHeaders),
    repeatedHeaders,
    // rawQueryString keeps repeated parameters apart; queryStringParameters has already joined them with ",".
    query:
      event.rawQueryString !== undefined
        ? parseQueryString(event.rawQueryString)
        : fromSingleValues(event.queryStringParameters ?? {}),
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: event.requestContext?.requestId ?? '',
  };
}

function fromRestApi(event: APIGatewayProxyEvent): CalloutRequest {
  const repeatedHeaders = new Set<string>();
  const headers = lowerCaseHeaders(event.headers ?? {}, repeatedHeaders);
  // multiValueHeaders holds every value, so it replaces what the single-value map kept (the last one).
  const multiValues = emptyRecord<string[]>();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    if (values && values.length > 0) (multiValues[name.toLowerCase()] ??= []).push(...values);
  }
  for (const [name, values] of Object.entries(multiValues)) {
    headers[name] = values.join(',');
    if (values.length > 1) repeatedHeaders.add(name);
  }
  const query = fromSingleValues(event.queryStringParameters ?? {});
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values && values.length > 0) query[name] = [...values];
  }
  return {
    method: (event.httpMethod ?? event.requestContext?.httpMethod ?? 'GET').toUpperCase(),
    path: event.path ?? event.requestContext?.path ?? '/',
    headers,
    repeatedHeaders,
    query,
    body: decodeBody(event.body, event.isBase64Encoded),
    requestId: event.requestContext?.requestId ?? '',
  };
}

/**
 * Records keyed by what the caller sent have no prototype: a header or parameter called "constructor" or
 * "toString" is then just a name.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function lowerCaseHeaders(headers: Record<string, string | undefined>, repeated: Set<string>): Record<string, string> {
  const result = emptyRecord<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    if (Object.hasOwn(result, key)) repeated.add(key);
    result[key] = Object.hasOwn(result, key) ? `${result[key]},${value}` : value;
  }
  return result;
}

function fromSingleValues(parameters: Record<string, string | undefined>): Record<string, string[]> {
  const result = emptyRecord<string[]>();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined) result[name] = [value];
  }
  return result;
}

function parseQueryString(raw: string): Record<string, string[]> {
  const result = emptyRecord<string[]>();
  for (const [name, value] of new URLSearchParams(raw)) {
    (result[name] ??= []).push(value);
  }
  return result;
}

function decodeBody(body: string | null | undefined, isBase64Encoded: boolean | undefined): Buffer {
  if (body === null || body === undefined) return Buffer.alloc(0);
  return isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
}

/** Media type without parameters, lower-cased ("application/json; charset=utf-8" -> "application/json"). */
export function mediaType(request: CalloutRequest): string | undefined {
  const raw = request.headers['content-type'];
  if (raw === undefined) return undefined;
  const type = raw.split(';')[0]!.trim().toLowerCase();
  return type === '' ? undefined : type;
}
