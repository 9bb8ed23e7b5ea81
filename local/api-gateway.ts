import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';

/**
 * API Gateway's two API kinds (`rest`: REST API, payload 1.0, as deployed by default; `http`: HTTP API, payload
 * 2.0) and what building either's event shares: the request as the gateway received it, its URL and header
 * pairs, maps keyed by names the client chose, and the event as the Lambda runtime delivers it.
 */
export const API_KINDS = ['rest', 'http'] as const;
export type ApiKind = (typeof API_KINDS)[number];

export type ApiGatewayEvent = APIGatewayProxyEvent | APIGatewayProxyEventV2;

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

export function splitUrl(url: string): { path: string; rawQuery: string } {
  const question = url.indexOf('?');
  return question < 0
    ? { path: url, rawQuery: '' }
    : { path: url.slice(0, question), rawQuery: url.slice(question + 1) };
}

export function headerPairs(rawHeaders: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i], rawHeaders[i + 1]]);
  return pairs;
}

export function queryPairs(rawQuery: string): Array<[string, string]> {
  return rawQuery === '' ? [] : [...new URLSearchParams(rawQuery).entries()];
}

/**
 * A map keyed by names the client chose: without a prototype, a header or parameter called "constructor",
 * "toString" or "__proto__" is a key like any other instead of an inherited function or a prototype setter.
 */
export function namedByClient<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/**
 * The event as the Lambda runtime hands it to the handler: JSON.parse of what API Gateway sent. That turns the
 * prototype-less maps into ordinary objects in which every name the client sent, "__proto__" included, is an
 * own property, exactly as in AWS.
 */
export function asDeliveredToLambda<T>(event: T): T {
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
