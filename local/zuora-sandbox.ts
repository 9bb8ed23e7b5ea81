import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A stand-in for a Zuora tenant's REST API, as far as the reconciliation sweep uses it, faithful to
 * ../shared/zuora-api.md: the OAuth client-credentials token at /oauth/token, ZOQL over POST /v1/action/query
 * and /v1/action/queryMore (pages of at most 2000 records, `size` the whole result's count, a queryLocator
 * while `done` is false), UpdatedDate returned in the tenant's time zone with its offset, a new version (record)
 * per change of a subscription, lower-case keywords only, and 429/500 on demand. It counts what it serves so
 * tests and benchmarks can check the sweep's manners (token reuse, one request at a time, pages) at the server.
 */

export interface ZuoraFaults {
  /** 0..1 share of query/queryMore calls answered 429 with Retry-After. */
  rate429?: number;
  /** 0..1 share answered 500. */
  rate500?: number;
  /** Retry-After of injected 429s (default 1). */
  retryAfterSeconds?: number;
  /** Added to every query/queryMore answer (default 0). */
  latencyMs?: number;
  /** expires_in of issued tokens (default 3599, as Zuora). */
  tokenTtlSeconds?: number;
}

export interface ZuoraSandboxOptions extends ZuoraFaults {
  /** 0 / undefined = ephemeral. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Generated when absent. */
  clientId?: string;
  clientSecret?: string;
  /** Records per query/queryMore page: 1..2000 (default 2000, Zuora's maximum). */
  pageSize?: number;
  /** The tenant's time zone as minutes east of UTC (default -480: Pacific standard time, -08:00). */
  tenantOffsetMinutes?: number;
  /** When set, every API call must carry `Zuora-Entity-Ids: {entityId}` (a multi-entity token). */
  entityId?: string;
  /** Injectable for deterministic tests (defaults Math.random and Date.now). */
  random?: () => number;
  now?: () => number;
}

export interface ZuoraSandboxStats {
  tokenRequests: number;
  queryRequests: number;
  queryMoreRequests: number;
  /** Answers of 429 and 500 the sandbox injected (random or failNext). */
  injected429: number;
  injected500: number;
  /** Records returned over all pages. */
  recordsServed: number;
  inFlight: number;
  maxInFlight: number;
  connections: number;
}

/** One version of a subscription: Zuora makes a new record (new Id, same Name) for each amendment or order. */
export interface SubscriptionVersion {
  readonly id: string;
  readonly name: string;
  /** Whole seconds, ms since the epoch, like Zuora's UpdatedDate. */
  readonly updatedMs: number;
}

export interface ZuoraSandbox {
  /** http://127.0.0.1:PORT: the tenant's REST root. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly stats: ZuoraSandboxStats;
  setFaults(faults: ZuoraFaults): void;
  setPageSize(pageSize: number): void;
  /** The next `count` API calls (or token requests) get this status, whatever the random faults say. */
  failNext(status: 429 | 500 | 503, options?: { count?: number; retryAfter?: string; endpoint?: 'api' | 'token' }): void;
  /**
   * Changes a subscription in Zuora without any callout: a new version with UpdatedDate `at` (default now),
   * the way an amendment, an order or a workflow would. Creates the subscription when the name is new.
   */
  touch(name: string, at?: Date | number): SubscriptionVersion;
  versions(): readonly SubscriptionVersion[];
  /** Every issued token answers 401 from now on. */
  revokeTokens(): void;
  /** Every access token issued so far (lets tests prove no token reaches a log). */
  issuedTokens(): string[];
  /**
   * From now on every request (one waiting out its latency included) is answered 400 at once, which a Zuora
   * client does not retry: a sweep under way ends within a request instead of retrying against a closed port
   * for its whole backoff. The local runtime calls it before it stops the sweep.
   */
  refuseAll(): void;
  stop(): Promise<void>;
}

export const ZUORA_MAX_PAGE_SIZE = 2000;
/** Zuora expires queryMore cursors after 15 minutes without use. */
const QUERY_LOCATOR_IDLE_MS = 15 * 60 * 1000;
const MAX_REQUEST_BODY_BYTES = 64 * 1024;

interface Cursor {
  readonly records: readonly Record<string, string>[];
  readonly id: string;
  lastUsedMs: number;
}

export async function startZuoraSandbox(options: ZuoraSandboxOptions = {}): Promise<ZuoraSandbox> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? `zuora-sandbox-${randomBytes(6).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const tenantOffsetMinutes = options.tenantOffsetMinutes ?? -480;
  let faults = withFaultDefaults(options);
  let pageSize = checkedPageSize(options.pageSize ?? ZUORA_MAX_PAGE_SIZE);

  const tokens = new Map<string, number>();
  const issued: string[] = [];
  const versions: SubscriptionVersion[] = [];
  const cursors = new Map<string, Cursor>();
  const forced: Record<'api' | 'token', { status: number; retryAfter?: string }[]> = { api: [], token: [] };
  const sockets = new Set<Socket>();
  let refusing = false;
  const latencyWaits = new Set<() => void>();
  const stats: ZuoraSandboxStats = {
    tokenRequests: 0,
    queryRequests: 0,
    queryMoreRequests: 0,
    injected429: 0,
    injected500: 0,
    recordsServed: 0,
    inFlight: 0,
    maxInFlight: 0,
    connections: 0,
  };

  const sandbox: { -readonly [K in keyof ZuoraSandbox]: ZuoraSandbox[K] } = {
    baseUrl: '',
    clientId,
    clientSecret,
    stats,
    setFaults(next) {
      faults = withFaultDefaults({ ...faults, ...next });
    },
    setPageSize(next) {
      pageSize = checkedPageSize(next);
    },
    failNext(status, { count = 1, retryAfter, endpoint = 'api' } = {}) {
      for (let i = 0; i < count; i++) forced[endpoint].push({ status, ...(retryAfter !== undefined && { retryAfter }) });
    },
    touch(name, at) {
      const atMs = at === undefined ? now() : typeof at === 'number' ? at : at.getTime();
      const version = { id: randomBytes(16).toString('hex'), name, updatedMs: Math.floor(atMs / 1000) * 1000 };
      versions.push(version);
      return version;
    },
    versions: () => [...versions],
    revokeTokens() {
      tokens.clear();
    },
    issuedTokens: () => [...issued],
    refuseAll() {
      refusing = true;
      for (const endWait of latencyWaits) endWait();
    },
    stop: async () => undefined,
  };

  const server = createServer((request, response) => {
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    response.once('close', () => {
      stats.inFlight -= 1;
    });
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { message: `sandbox error: ${(error as Error).message}` });
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    stats.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
    const body = await readBody(request);
    if (request.method !== 'POST') return send(response, 405, { message: `use POST for ${path}` });
    if (refusing) return send(response, 400, fault('INVALID_VALUE', 'the local Zuora sandbox is stopping'));
    if (path === '/oauth/token') return handleToken(request, response, body);
    if (path === '/v1/action/query' || path === '/v1/action/queryMore') {
      if (path === '/v1/action/query') stats.queryRequests += 1;
      else stats.queryMoreRequests += 1;
      return handleApi(request, response, path, body);
    }
    send(response, 404, { message: `no route for ${request.method} ${path}` });
  }

  function handleToken(request: IncomingMessage, response: ServerResponse, body: string): void {
    stats.tokenRequests += 1;
    if (answerForcedFault(response, 'token')) return;
    if (request.headers.authorization !== undefined) {
      return send(response, 400, { error: 'invalid_request', error_description: 'send no Authorization header to the token endpoint' });
    }
    if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return send(response, 400, { error: 'invalid_request', error_description: 'expected application/x-www-form-urlencoded' });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') return send(response, 400, { error: 'unsupported_grant_type' });
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return send(response, 401, { error: 'invalid_client', error_description: 'Bad client credentials' });
    }
    const accessToken = randomBytes(32).toString('hex');
    tokens.set(accessToken, now() + faults.tokenTtlSeconds * 1000);
    issued.push(accessToken);
    send(response, 200, {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: faults.tokenTtlSeconds,
      scope: 'entity.sandbox platform.write service.usage.delete tenant.sandbox user.sandbox',
      jti: randomBytes(16).toString('hex'),
    });
  }

  async function handleApi(request: IncomingMessage, response: ServerResponse, path: string, body: string): Promise<void> {
    if (!isAuthorised(request.headers.authorization)) return send(response, 401, { message: 'Authentication error' });
    if (options.entityId !== undefined && request.headers['zuora-entity-ids'] !== options.entityId) {
      return send(response, 400, fault('INVALID_VALUE', 'the token is valid for several entities: send Zuora-Entity-Ids'));
    }
    if (answerForcedFault(response, 'api')) return;
    const draw = random();
    if (draw < faults.rate429) {
      stats.injected429 += 1;
      return send(response, 429, { message: 'Too many requests' }, { 'retry-after': String(faults.retryAfterSeconds) });
    }
    if (draw < faults.rate429 + faults.rate500) {
      stats.injected500 += 1;
      return send(response, 500, fault('UNKNOWN_ERROR', 'internal error (injected by the sandbox)'));
    }
    if (faults.latencyMs > 0) {
      await new Promise<void>((resolve) => {
        const endWait = () => {
          clearTimeout(timer);
          latencyWaits.delete(endWait);
          resolve();
        };
        const timer = setTimeout(endWait, faults.latencyMs);
        latencyWaits.add(endWait);
      });
      if (refusing) return send(response, 400, fault('INVALID_VALUE', 'the local Zuora sandbox is stopping'));
    }
    const json = parseJson(body);
    if (!isRecord(json)) return send(response, 400, { message: 'the request body must be a JSON object' });
    if (path === '/v1/action/query') {
      if (typeof json.queryString !== 'string') return send(response, 400, fault('MALFORMED_QUERY', 'queryString is required'));
      const parsed = parseZoql(json.queryString, tenantOffsetMinutes);
      if (!parsed.ok) return send(response, 400, fault('MALFORMED_QUERY', parsed.reason));
      const records = versions.filter((version) => parsed.query.matches(version.updatedMs)).map((version) => parsed.query.project(version, tenantOffsetMinutes));
      const cursor: Cursor = { records, id: randomBytes(16).toString('hex'), lastUsedMs: now() };
      return sendPage(response, cursor, 0);
    }
    const locator = typeof json.queryLocator === 'string' ? /^([0-9a-f]{32})-(\d+)$/.exec(json.queryLocator) : null;
    const cursor = locator ? cursors.get(locator[1]) : undefined;
    if (!locator || !cursor || now() - cursor.lastUsedMs > QUERY_LOCATOR_IDLE_MS) {
      return send(response, 400, fault('INVALID_VALUE', 'invalid query locator'));
    }
    cursor.lastUsedMs = now();
    sendPage(response, cursor, Number(locator[2]));
  }

  function sendPage(response: ServerResponse, cursor: Cursor, offset: number): void {
    const records = cursor.records.slice(offset, offset + pageSize);
    const next = offset + records.length;
    const done = next >= cursor.records.length;
    if (done) cursors.delete(cursor.id);
    else cursors.set(cursor.id, cursor);
    stats.recordsServed += records.length;
    send(response, 200, { records, size: cursor.records.length, done, ...(!done && { queryLocator: `${cursor.id}-${next}` }) });
  }

  function answerForcedFault(response: ServerResponse, endpoint: 'api' | 'token'): boolean {
    const next = forced[endpoint].shift();
    if (next === undefined) return false;
    if (next.status === 429) {
      stats.injected429 += 1;
      send(response, 429, { message: 'Too many requests' }, next.retryAfter === undefined ? {} : { 'retry-after': next.retryAfter });
    } else {
      stats.injected500 += 1;
      send(response, next.status, fault('UNKNOWN_ERROR', `injected ${next.status}`));
    }
    return true;
  }

  function isAuthorised(header: string | undefined): boolean {
    const match = /^Bearer (\S+)$/i.exec(header ?? '');
    if (!match) return false;
    const expiresAt = tokens.get(match[1]);
    return expiresAt !== undefined && expiresAt > now();
  }

  server.listen(options.port ?? 0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('Zuora sandbox did not get a TCP port');
  sandbox.baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  sandbox.stop = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  return sandbox;
}

// ---------------------------------------------------------------------------------------------------------------
// The ZOQL subset: `select <fields> from Subscription where UpdatedDate <op> '<datetime>' [and ...]`.

export interface ZoqlQuery {
  readonly fields: readonly string[];
  matches(updatedMs: number): boolean;
  project(version: SubscriptionVersion, tenantOffsetMinutes: number): Record<string, string>;
}

export type ParsedZoql = { ok: true; query: ZoqlQuery } | { ok: false; reason: string };

const FIELDS: Record<string, string> = { id: 'Id', name: 'Name', updateddate: 'UpdatedDate' };
const COMPARISONS: Record<string, (left: number, right: number) => boolean> = {
  '>=': (l, r) => l >= r,
  '>': (l, r) => l > r,
  '<=': (l, r) => l <= r,
  '<': (l, r) => l < r,
  '=': (l, r) => l === r,
  '!=': (l, r) => l !== r,
};

/**
 * Parses the one query form the sweep sends, the way Zuora would judge it: keywords in lower case only (an
 * upper-case SELECT is malformed), field and object names in any case, datetimes with an offset or, without
 * one, read in the tenant's time zone. Anything beyond the subset is refused rather than half-understood.
 */
export function parseZoql(queryString: string, tenantOffsetMinutes = -480): ParsedZoql {
  const tokens = tokenize(queryString);
  if (!tokens.ok) return tokens;
  const list = tokens.tokens;
  let position = 0;
  const peek = () => list[position];
  const keyword = (word: string): string | undefined => {
    const token = peek();
    if (token === undefined || token.toLowerCase() !== word) return `expected "${word}" at token ${position + 1}`;
    if (token !== word) return `keyword "${token}" must be lower case`;
    position += 1;
    return undefined;
  };

  const problem = keyword('select');
  if (problem) return { ok: false, reason: problem };
  const fields: string[] = [];
  for (;;) {
    const token = peek();
    const field = token === undefined ? undefined : FIELDS[token.toLowerCase()];
    if (field === undefined) return { ok: false, reason: `invalid field for query: Subscription.${token ?? ''}` };
    fields.push(field);
    position += 1;
    if (peek() !== ',') break;
    position += 1;
  }
  const fromProblem = keyword('from');
  if (fromProblem) return { ok: false, reason: fromProblem };
  if (peek()?.toLowerCase() !== 'subscription') return { ok: false, reason: `this sandbox knows only the Subscription object, got "${peek() ?? ''}"` };
  position += 1;

  const conditions: ((updatedMs: number) => boolean)[] = [];
  if (peek() !== undefined) {
    const whereProblem = keyword('where');
    if (whereProblem) return { ok: false, reason: whereProblem };
    for (;;) {
      const field = peek();
      if (field?.toLowerCase() !== 'updateddate') return { ok: false, reason: `this sandbox filters on UpdatedDate only, got "${field ?? ''}"` };
      position += 1;
      const operator = peek();
      const compare = operator === undefined ? undefined : COMPARISONS[operator];
      if (compare === undefined) return { ok: false, reason: `expected a comparison after UpdatedDate, got "${operator ?? ''}"` };
      position += 1;
      const literal = peek();
      if (literal === undefined || !literal.startsWith("'")) return { ok: false, reason: 'expected a quoted datetime' };
      const valueMs = parseZoqlDateTime(literal.slice(1, -1), tenantOffsetMinutes);
      if (valueMs === undefined) return { ok: false, reason: `invalid datetime ${literal}` };
      position += 1;
      conditions.push((updatedMs) => compare(updatedMs, valueMs));
      if (peek() === undefined) break;
      if (peek()?.toLowerCase() === 'or') return { ok: false, reason: 'this sandbox supports "and" only' };
      const andProblem = keyword('and');
      if (andProblem) return { ok: false, reason: andProblem };
    }
  }
  if (position !== list.length) return { ok: false, reason: `unexpected "${list[position]}"` };
  return {
    ok: true,
    query: {
      fields,
      matches: (updatedMs) => conditions.every((condition) => condition(updatedMs)),
      project: (version, offsetMinutes) => {
        const values: Record<string, string> = { Id: version.id, Name: version.name, UpdatedDate: tenantDateTime(version.updatedMs, offsetMinutes) };
        return Object.fromEntries(fields.map((field) => [field, values[field]!]));
      },
    },
  };
}

function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; reason: string } {
  const tokens: string[] = [];
  const pattern = /\s*(?:([A-Za-z_][A-Za-z0-9_]*)|(,)|(>=|<=|!=|=|<|>)|('[^']*'))/y;
  const trimmed = text.trim();
  while (pattern.lastIndex < trimmed.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(trimmed);
    if (match === null) return { ok: false, reason: `unexpected text at character ${at + 1}: "${trimmed.slice(at, at + 20).trim()}"` };
    tokens.push(match[1] ?? match[2] ?? match[3] ?? match[4]!);
  }
  return { ok: true, tokens };
}

const ZOQL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})?$/;

/** A filter value with its own offset, or without one read in the tenant's zone (as Zuora does). */
export function parseZoqlDateTime(value: string, tenantOffsetMinutes: number): number | undefined {
  const match = ZOQL_DATE_TIME.exec(value);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number((fraction ?? '0').padEnd(3, '0')));
  if (Number.isNaN(local) || new Date(local).getUTCDate() !== Number(d)) return undefined;
  let offsetMinutes = tenantOffsetMinutes;
  if (zone === 'Z') offsetMinutes = 0;
  else if (zone !== undefined) offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return local - offsetMinutes * 60 * 1000;
}

/** `2026-11-24T10:03:12.000-08:00`: how Zuora returns datetimes, in the tenant's zone with its offset. */
export function tenantDateTime(ms: number, offsetMinutes: number): string {
  const local = new Date(ms + offsetMinutes * 60 * 1000).toISOString().slice(0, 23);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const absolute = Math.abs(offsetMinutes);
  return `${local}${sign}${String(Math.floor(absolute / 60)).padStart(2, '0')}:${String(absolute % 60).padStart(2, '0')}`;
}

function fault(code: string, message: string): unknown {
  return { faultcode: `fns:${code}`, faultstring: message, detail: { MalformedQueryFault: { FaultCode: code, FaultMessage: message } } };
}

function withFaultDefaults(faults: ZuoraFaults): Required<ZuoraFaults> {
  const share = (name: string, value: number | undefined) => {
    const result = value ?? 0;
    if (!(result >= 0 && result <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${result}`);
    return result;
  };
  const result = {
    rate429: share('rate429', faults.rate429),
    rate500: share('rate500', faults.rate500),
    retryAfterSeconds: faults.retryAfterSeconds ?? 1,
    latencyMs: Math.max(0, faults.latencyMs ?? 0),
    tokenTtlSeconds: faults.tokenTtlSeconds ?? 3599,
  };
  if (result.rate429 + result.rate500 > 1) throw new RangeError('rate429 + rate500 must not exceed 1');
  return result;
}

function checkedPageSize(pageSize: number): number {
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= ZUORA_MAX_PAGE_SIZE)) {
    throw new RangeError(`pageSize must be a whole number from 1 to ${ZUORA_MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  return pageSize;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (response.destroyed || response.headersSent) return;
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_REQUEST_BODY_BYTES) chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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

/** `tsx local/zuora-sandbox.ts` runs a sandbox on its own (port ZUORA_SANDBOX_PORT or 4020). */
if (require.main === module) {
  const port = Number(process.env.ZUORA_SANDBOX_PORT ?? 4020);
  startZuoraSandbox({ port, clientId: process.env.ZUORA_CLIENT_ID, clientSecret: process.env.ZUORA_CLIENT_SECRET })
    .then((sandbox) => {
      process.stdout.write(`Zuora sandbox at ${sandbox.baseUrl} (ZUORA_CLIENT_ID=${sandbox.clientId}; the client secret is the one you set or was generated)\n`);
      const stop = () => void sandbox.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    });
}
