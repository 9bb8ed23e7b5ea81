import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context } from 'aws-lambda';
import { headerPairs, splitUrl, type ApiGatewayEvent, type ApiKind, type IncomingRequest } from './api-gateway';
import {
  basicChallenge,
  fromLambdaResult,
  integrationFailure,
  payloadTooLarge,
  routeNotFound,
  type GatewayResponse,
} from './gateway-response';
import { toHttpApiEvent } from './http-api-event';
import { createLambdaContext } from './lambda-context';
import { toRestEvent } from './rest-api-event';

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
 *
 * The events are built in local/rest-api-event.ts and local/http-api-event.ts; the gateway's own answers and
 * how it passes the Lambda's result on are in local/gateway-response.ts.
 */

// The kinds are the adapter's vocabulary for its callers (the CLI's tests among them).
export type { ApiKind } from './api-gateway';

/** API Gateway's payload limit for both API kinds. */
const API_GATEWAY_MAX_BODY_BYTES = 10 * 1024 * 1024;

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

/** Builds the event of the given payload version from one request. Pure, so it is tested without a server. */
export function toApiGatewayEvent(
  kind: ApiKind,
  request: IncomingRequest,
  options: { path: string; stage?: string },
): ApiGatewayEvent {
  return kind === 'rest' ? toRestEvent(request, options) : toHttpApiEvent(request, options);
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
async function answer(options: ApiGatewayAdapterOptions, request: IncomingRequest): Promise<GatewayResponse> {
  const { kind } = options;
  const { path } = splitUrl(request.url);
  const methods = options.methods ?? ['GET', 'POST'];
  if (path !== options.path || !methods.includes(request.method)) return routeNotFound(kind);
  if (kind === 'rest' && options.basicChallengeRealm !== undefined && !hasHeader(request.rawHeaders, 'authorization')) {
    return basicChallenge(options.basicChallengeRealm);
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
export function createApiGatewayListener(
  options: ApiGatewayAdapterOptions,
): (request: IncomingMessage, response: ServerResponse) => void {
  const maxBodyBytes = options.maxBodyBytes ?? API_GATEWAY_MAX_BODY_BYTES;
  return (request, response) => {
    const requestId = randomUUID();
    const requestIdHeader = options.kind === 'rest' ? 'x-amzn-RequestId' : 'apigw-requestid';
    const send = (reply: GatewayResponse) => {
      response.writeHead(reply.statusCode, {
        ...reply.headers,
        [requestIdHeader]: requestId,
        'content-length': String(reply.body.length),
      });
      response.end(reply.body);
    };
    void (async () => {
      const receivedAt = new Date();
      const body = await readBody(request, maxBodyBytes);
      if (body === 'too-large') {
        send(payloadTooLarge());
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
