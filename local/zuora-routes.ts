import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, send } from './sandbox-http';
import { parseZoql } from './zoql';
import { zoqlRows, type Cursor, type ZuoraTenant } from './zuora-tenant';

/**
 * The Zuora sandbox's HTTP routes, faithful to ../shared/zuora-api.md: the OAuth client-credentials token at
 * /oauth/token, ZOQL over POST /v1/action/query and /v1/action/queryMore (pages of at most pageSize records,
 * `size` the whole result's count, a queryLocator while `done` is false), and the faults the tenant is set to
 * inject (forced answers first, then random 429s and 500s, then latency).
 */

/** Zuora expires queryMore cursors after 15 minutes without use. */
const QUERY_LOCATOR_IDLE_MS = 15 * 60 * 1000;

export async function handleZuoraRequest(
  tenant: ZuoraTenant,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
  const body = await readBody(request);
  if (request.method !== 'POST') return send(response, 405, { message: `use POST for ${path}` });
  if (tenant.refusing) return send(response, 400, zuoraFault('INVALID_VALUE', 'the local Zuora sandbox is stopping'));
  if (path === '/oauth/token') return handleToken(tenant, request, response, body);
  if (path === '/v1/action/query' || path === '/v1/action/queryMore') {
    if (path === '/v1/action/query') tenant.stats.queryRequests += 1;
    else tenant.stats.queryMoreRequests += 1;
    return handleApi(tenant, request, response, path, body);
  }
  send(response, 404, { message: `no route for ${request.method} ${path}` });
}

function handleToken(tenant: ZuoraTenant, request: IncomingMessage, response: ServerResponse, body: string): void {
  tenant.stats.tokenRequests += 1;
  if (answerForcedFault(tenant, response, 'token')) return;
  if (request.headers.authorization !== undefined) {
    return send(response, 400, {
      error: 'invalid_request',
      error_description: 'send no Authorization header to the token endpoint',
    });
  }
  if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return send(response, 400, {
      error: 'invalid_request',
      error_description: 'expected application/x-www-form-urlencoded',
    });
  }
  const form = new URLSearchParams(body);
  if (form.get('grant_type') !== 'client_credentials') return send(response, 400, { error: 'unsupported_grant_type' });
  if (form.get('client_id') !== tenant.clientId || form.get('client_secret') !== tenant.clientSecret) {
    return send(response, 401, { error: 'invalid_client', error_description: 'Bad client credentials' });
  }
  const accessToken = randomBytes(32).toString('hex');
  tenant.tokens.set(accessToken, tenant.now() + tenant.faults.tokenTtlSeconds * 1000);
  tenant.issued.push(accessToken);
  send(response, 200, {
    access_token: accessToken,
    token_type: 'bearer',
    expires_in: tenant.faults.tokenTtlSeconds,
    scope: 'entity.sandbox platform.write service.usage.delete tenant.sandbox user.sandbox',
    jti: randomBytes(16).toString('hex'),
  });
}

async function handleApi(
  tenant: ZuoraTenant,
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  body: string,
): Promise<void> {
  const { faults, stats, now } = tenant;
  if (!isAuthorised(tenant, request.headers.authorization))
    return send(response, 401, { message: 'Authentication error' });
  if (tenant.entityId !== undefined && request.headers['zuora-entity-ids'] !== tenant.entityId) {
    return send(
      response,
      400,
      zuoraFault('INVALID_VALUE', 'the token is valid for several entities: send Zuora-Entity-Ids'),
    );
  }
  if (answerForcedFault(tenant, response, 'api')) return;
  const draw = tenant.random();
  if (draw < faults.rate429) {
    stats.injected429 += 1;
    return send(response, 429, { message: 'Too many requests' }, { 'retry-after': String(faults.retryAfterSeconds) });
  }
  if (draw < faults.rate429 + faults.rate500) {
    stats.injected500 += 1;
    return send(response, 500, zuoraFault('UNKNOWN_ERROR', 'internal error (injected by the sandbox)'));
  }
  if (faults.latencyMs > 0) {
    await new Promise<void>((resolve) => {
      const endWait = () => {
        clearTimeout(timer);
        tenant.latencyWaits.delete(endWait);
        resolve();
      };
      const timer = setTimeout(endWait, faults.latencyMs);
      tenant.latencyWaits.add(endWait);
    });
    if (tenant.refusing) return send(response, 400, zuoraFault('INVALID_VALUE', 'the local Zuora sandbox is stopping'));
  }
  const json = parseJson(body);
  if (!isRecord(json)) return send(response, 400, { message: 'the request body must be a JSON object' });
  if (path === '/v1/action/query') {
    if (typeof json.queryString !== 'string')
      return send(response, 400, zuoraFault('MALFORMED_QUERY', 'queryString is required'));
    const parsed = parseZoql(json.queryString, tenant.tenantOffsetMinutes);
    if (!parsed.ok) return send(response, 400, zuoraFault('MALFORMED_QUERY', parsed.reason));
    const records = zoqlRows(tenant, parsed.query.object)
      .filter((row) => parsed.query.matches(row))
      .map((row) => parsed.query.project(row, tenant.tenantOffsetMinutes));
    const cursor: Cursor = { records, id: randomBytes(16).toString('hex'), lastUsedMs: now() };
    return sendPage(tenant, response, cursor, 0);
  }
  const locator = typeof json.queryLocator === 'string' ? /^([0-9a-f]{32})-(\d+)$/.exec(json.queryLocator) : null;
  const cursor = locator ? tenant.cursors.get(locator[1]) : undefined;
  if (!locator || !cursor || now() - cursor.lastUsedMs > QUERY_LOCATOR_IDLE_MS) {
    return send(response, 400, zuoraFault('INVALID_VALUE', 'invalid query locator'));
  }
  cursor.lastUsedMs = now();
  sendPage(tenant, response, cursor, Number(locator[2]));
}

function sendPage(tenant: ZuoraTenant, response: ServerResponse, cursor: Cursor, offset: number): void {
  const records = cursor.records.slice(offset, offset + tenant.pageSize);
  const next = offset + records.length;
  const done = next >= cursor.records.length;
  if (done) tenant.cursors.delete(cursor.id);
  else tenant.cursors.set(cursor.id, cursor);
  tenant.stats.recordsServed += records.length;
  send(response, 200, {
    records,
    size: cursor.records.length,
    done,
    ...(!done && { queryLocator: `${cursor.id}-${next}` }),
  });
}

function answerForcedFault(tenant: ZuoraTenant, response: ServerResponse, endpoint: 'api' | 'token'): boolean {
  const next = tenant.forced[endpoint].shift();
  if (next === undefined) return false;
  if (next.status === 429) {
    tenant.stats.injected429 += 1;
    send(
      response,
      429,
      { message: 'Too many requests' },
      next.retryAfter === undefined ? {} : { 'retry-after': next.retryAfter },
    );
  } else {
    tenant.stats.injected500 += 1;
    send(response, next.status, zuoraFault('UNKNOWN_ERROR', `injected ${next.status}`));
  }
  return true;
}

function isAuthorised(tenant: ZuoraTenant, header: string | undefined): boolean {
  const match = /^Bearer (\S+)$/i.exec(header ?? '');
  if (!match) return false;
  const expiresAt = tenant.tokens.get(match[1]);
  return expiresAt !== undefined && expiresAt > tenant.now();
}

/** Zuora's error body. */
function zuoraFault(code: string, message: string): unknown {
  return {
    faultcode: `fns:${code}`,
    faultstring: message,
    detail: { MalformedQueryFault: { FaultCode: code, FaultMessage: message } },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
