import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { createLambdaContext } from './lambda-context';

/**
 * Turns node:http requests into the events API Gateway hands a Lambda proxy integration, and the Lambda's
 * result back into an HTTP response, with the deployed gateway's quirks kept on purpose: a local run must
 * fail where AWS fails (a form body arriving base64-encoded, a Lambda's WWW-Authenticate being renamed), not
 * work better than production.
 *
 * - `rest`: REST API, payload 1.0 (the default, as deployed). Headers keep their case, repeated ones sit in
 *   multiValueHeaders, the body stays text (no binary media types are configured). In Basic mode a request
 *   without an Authorization header never reaches the Lambda: the gateway answers it with its own 401 and
 *   `WWW-Authenticate`, which is what lets Zuora's non-preemptive Basic auth work.
 * - `http`: HTTP API, payload 2.0. Header names lower-cased, repeated headers joined with commas, cookies
 *   split out, and the body base64-encoded for every content type except text/*, JSON, XML and JavaScript.
 *   An HTTP API cannot send a challenge, so none is sent here either.
 */
export const API_KINDS = ['rest', 'http'] as const;
export type ApiKind = (typeof API_KINDS)[number];

/** API Gateway's payload limit for both API kinds. */
export const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

/** The callout Lambda, however its factory types it: the adapter checks the result as API Gateway does. */
export type ProxyHandler = (event: ApiGatewayEvent, context: Context) => Promise<unknown>;

export interface ApiGatewayAdapterOptions {
  kind: ApiKind;
  handler: ProxyHandler;
  /** The one route the API has, e.g. /zuora/callout. */
  path: string;
  methods?: readonly string[];
  /**
   * REST only: the realm of the gateway response that challenges a request without credentials. Set it when
   * the callout auth mode is Basic, as the deployed stack does.
   */
  basicChallengeRealm?: string;
  maxBodyBytes?: number;
  /** Lambda timeout: past it the gateway answers as if the integration failed. */
  functionTimeoutMs?: number;
  functionName?: string;
  stage?: string;
  /** Told about a handler that threw or answered something API Gateway would reject. */
  onIntegrationError?: (error: unknown) => void;
}

export interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Types that reach an HTTP API Lambda as plain text; everything else arrives base64-encoded. */
export function isTextContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  return (
    mediaType.startsWith('text/') ||
    ['application/json', 'application/xml', 'application/javascript'].includes(mediaType)
  );
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

export interface IncomingRequest {
  method: string;
  /** Path and query as sent, e.g. /zuora/callout?subscriptionNumber=A-S1. */
  url: string;
  /** Alternating names and values with their original case, as node's rawHeaders. */
  rawHeaders: readonly string[];
  body: Buffer;
  sourceIp: string;
  requestId: string;
  receivedAt: Date;
}

/** Builds the event of the given payload version from one request. Pure, so it is tested without a server. */
export function toApiGatewayEvent(kind: ApiKind, request: IncomingRequest, options: { path: string; stage?: string }): ApiGatewayEvent {
  return kind === 'rest' ? toRestEvent(request, options) : toHttpApiEvent(request, options);
}

function splitUrl(url: string): { path: string; rawQuery: string } {
  const question = url.indexOf('?');
  return question < 0 ? { path: url, rawQuery: '' } : { path: url.slice(0, question), rawQuery: url.slice(question + 1) };
}

function headerPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  return pairs;
}

function queryPairs(rawQuery: string): Array<[string, string]> {
  return rawQuery === '' ? [] : [...new URLSearchParams(rawQuery).entries()];
}

/**
 * A map keyed by names the client chose: without a prototype, a header or parameter called "constructor",
 * "toString" or "__proto__" is a key like any other instead of an inherited function or a prototype setter.
 */
function namedByClient<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * The event as the Lambda runtime hands it to the handler: JSON.parse of what API Gateway sent. That turns the
 * prototype-less maps into ordinary objects in which every name the client sent, "__proto__" included, is an
 * own property, exactly as in AWS.
 */
function asDeliveredToLambda<T>(event: T): T {
  return JSON.parse(JSON.stringify(event)) as T;
}

/** API Gateway's $context.requestTime format: 25/Nov/2026:18:12:45 +0000. */
export function gatewayTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}

function toRestEvent(request: IncomingRequest, options: { path: string; stage?: string }): APIGatewayProxyEvent {
  const { path, rawQuery } = splitUrl(request.url);
  const headers = namedByClient<string>();
  const multiValueHeaders = namedByClient<string[]>();
  for (const [name, value] of headerPairs(request.rawHeaders)) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query = queryPairs(rawQuery);
  const queryStringParameters = namedByClient<string>();
  const multiValueQueryStringParameters = namedByClient<string[]>();
  for (const [name, value] of query) {
    queryStringParameters[name] = value;
    (multiValueQueryStringParameters[name] ??= []).push(value);
  }
  // The stage the CDK construct deploys the REST API to.
  const stage = options.stage ?? 'live';
  const userAgent = headers[Object.keys(headers).find((name) => name.toLowerCase() === 'user-agent') ?? ''] ?? null;
  return asDeliveredToLambda<APIGatewayProxyEvent>({
    resource: options.path,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters: query.length > 0 ? queryStringParameters : null,
    multiValueQueryStringParameters: query.length > 0 ? multiValueQueryStringParameters : null,
    pathParameters: null,
    stageVariables: null,
    // No binary media types are configured on the deployed API, so every body reaches the Lambda as text.
    body: request.body.length > 0 ? request.body.toString('utf8') : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      domainName: 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: request.requestId,
      httpMethod: request.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
      path: `/${stage}${path}`,
      protocol: 'HTTP/1.1',
      requestId: request.requestId,
      requestTime: gatewayTime(request.receivedAt),
      requestTimeEpoch: request.receivedAt.getTime(),
      resourceId: 'local',
      resourcePath: options.path,
      stage,
    },
  });
}

function toHttpApiEvent(request: IncomingRequest, options: { path: string; stage?: string }): APIGatewayProxyEventV2 {
  const { path, rawQuery } = splitUrl(request.url);
  const headers = namedByClient<string>();
  const cookies: string[] = [];
  for (const [rawName, value] of headerPairs(request.rawHeaders)) {
    const name = rawName.toLowerCase();
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((cookie) => cookie.trim()).filter((cookie) => cookie !== ''));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  const queryStringParameters = namedByClient<string>();
  for (const [name, value] of queryPairs(rawQuery)) {
    queryStringParameters[name] = queryStringParameters[name] === undefined ? value : `${queryStringParameters[name]},${value}`;
  }
  const routeKey = `${request.method} ${options.path}`;
  const hasBody = request.body.length > 0;
  const asText = isTextContentType(headers['content-type']);
  return asDeliveredToLambda<APIGatewayProxyEventV2>({
    version: '2.0',
    routeKey,
    rawPath: path,
    rawQueryString: rawQuery,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(Object.keys(queryStringParameters).length > 0 && { queryStringParameters }),
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: request.method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: request.requestId,
      routeKey,
      stage: options.stage ?? '$default',
      time: gatewayTime(request.receivedAt),
      timeEpoch: request.receivedAt.getTime(),
    },
    ...(hasBody && { body: asText ? request.body.toString('utf8') : request.body.toString('base64') }),
    isBase64Encoded: hasBody && !asText,
  });
}

function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): GatewayResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** What the gateway itself answers when the integration fails, per API kind. */
function integrationFailure(kind: ApiKind): GatewayResponse {
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
    if (typeof result === 'string') return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(result) };
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
  if (structured.body !== undefined && structured.body !== null && typeof structured.body !== 'string') return undefined;
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

function hasHeader(rawHeaders: readonly string[], wanted: string): boolean {
  return headerPairs(rawHeaders).some(([name]) => name.toLowerCase() === wanted);
}

function sourceIpOf(request: IncomingMessage): string {
  const address = request.socket.remoteAddress ?? '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}

/** Reads the body up to the limit; past it, drains the rest so the client can still read the 413. */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) tooLarge = true;
    if (!tooLarge) chunks.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

/** The gateway's decision for one request, before any HTTP is written. */
export async function answer(options: ApiGatewayAdapterOptions, request: IncomingRequest): Promise<GatewayResponse> {
  const { kind } = options;
  const { path } = splitUrl(request.url);
  const methods = options.methods ?? ['GET', 'POST'];
  if (path !== options.path || !methods.includes(request.method)) {
    // What each kind answers for a route it does not have.
    return kind === 'rest' ? jsonResponse(403, { message: 'Missing Authentication Token' }) : jsonResponse(404, { message: 'Not Found' });
  }
  if (kind === 'rest' && options.basicChallengeRealm !== undefined && !hasHeader(request.rawHeaders, 'authorization')) {
    // The deployed REST API's BasicChallenge gateway response (infra/zuora-limio-sync.ts): the Lambda is not called.
    return jsonResponse(
      401,
      { success: false, message: 'authentication required' },
      { 'WWW-Authenticate': `Basic realm="${options.basicChallengeRealm}"` },
    );
  }
  const event = toApiGatewayEvent(kind, request, { path: options.path, stage: options.stage });
  const timeoutMs = options.functionTimeoutMs ?? 30_000;
  const context = createLambdaContext(options.functionName ?? 'callout', timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`callout handler timed out after ${timeoutMs} ms`)), timeoutMs);
    });
    const result = await Promise.race([options.handler(event, context), timedOut]);
    const response = fromLambdaResult(kind, result);
    if (response === undefined) {
      options.onIntegrationError?.(new Error('malformed Lambda proxy response'));
      return integrationFailure(kind);
    }
    return response;
  } catch (error) {
    options.onIntegrationError?.(error);
    return integrationFailure(kind);
  } finally {
    clearTimeout(timer);
  }
}

/** A node:http request listener that plays API Gateway in front of the handler. */
export function createApiGatewayListener(options: ApiGatewayAdapterOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  return (request, response) => {
    const requestId = randomUUID();
    const requestIdHeader = options.kind === 'rest' ? 'x-amzn-RequestId' : 'apigw-requestid';
    const send = (reply: GatewayResponse) => {
      response.writeHead(reply.statusCode, { ...reply.headers, [requestIdHeader]: requestId, 'content-length': String(reply.body.length) });
      response.end(reply.body);
    };
    void (async () => {
      const receivedAt = new Date();
      const body = await readBody(request, maxBodyBytes);
      if (body === 'too-large') {
        send(jsonResponse(413, { message: 'Request Entity Too Large' }));
        return;
      }
      send(
        await answer(options, {
          method: request.method ?? 'GET',
          url: request.url ?? '/',
          rawHeaders: request.rawHeaders,
          body,
          sourceIp: sourceIpOf(request),
          requestId,
          receivedAt,
        }),
      );
    })().catch((error: unknown) => {
      options.onIntegrationError?.(error);
      if (!response.headersSent) send(integrationFailure(options.kind));
      else response.destroy();
    });
  };
}
