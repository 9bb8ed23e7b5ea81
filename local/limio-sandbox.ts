import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { capacityVerdict, checkCapacity } from './limio-capacity';
import { withFaultDefaults, type LimioFaults } from './limio-faults';
import { readBody, send, serveSandbox } from './sandbox-http';

/**
 * A stand-in for a Limio tenant, faithful to limio-zuora-sync.openapi.json and Limio's OAuth facts: the
 * client-credentials token endpoint at the host root and the Zuora sync endpoint under /api. Used by the tests,
 * `npm start`, the benchmarks and the chaos runs; it counts what it sees so they can check the bridge's manners
 * (token reuse, concurrency) at the server rather than trusting the client.
 */

export interface LimioSandboxOptions extends LimioFaults {
  /** 0 / undefined = ephemeral. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Generated when absent. */
  clientId?: string;
  clientSecret?: string;
  /** Injectable for deterministic tests (default Math.random). */
  random?: () => number;
  /** Sync calls in flight it serves at its latency (limio-capacity.ts); undefined = unlimited. */
  capacity?: number;
}

/** The load model it serves by now: capacity (undefined = unlimited) and the latency of a call within it. */
export interface LimioServiceModel {
  readonly capacity: number | undefined;
  readonly latencyMs: number;
}

interface LimioSandboxStats {
  tokenRequests: number;
  syncCalls: number;
  syncCallsById: Map<string, number>;
  inFlight: number;
  maxInFlight: number;
  synced: Set<string>;
  /** TCP connections accepted (beyond the shared contract: shows whether clients keep connections alive). */
  connections: number;
  /** Sync calls refused with 502 because they arrived beyond the capacity model's limit (never an injected 502). */
  overloadRefused: number;
}

export interface LimioSandbox {
  /** http://127.0.0.1:PORT (token at /oauth2/token, sync at /api/plugins/zuora/sync/subscription/{id}). */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly stats: LimioSandboxStats;
  /** Changes the faults named, keeping the others (notFoundIds is replaced as a whole). */
  setFaults(faults: LimioFaults): void;
  /** The faults it injects by now. */
  currentFaults(): Required<LimioFaults>;
  /** From the next call that arrives on (calls in flight keep their answer); undefined = unlimited. */
  setCapacity(capacity: number | undefined): void;
  serviceModel(): LimioServiceModel;
  /** Every later sync of this subscription gets this answer (default body: Limio's own shape for the status). */
  respondWith(subscriptionId: string, status: number, body?: unknown): void;
  /** Every issued token answers 401 from now on. */
  revokeTokens(): void;
  /** Every access token issued so far (beyond the shared contract: lets tests prove no token reaches a log). */
  issuedTokens(): string[];
  /** latencyMs: from the call's arrival to its answer, as Limio's own access log would time it. */
  onSync?: (event: { subscriptionId: string; status: number; latencyMs: number }) => void;
  /** Closes every connection, hanging ones included. */
  stop(): Promise<void>;
}

const TOKEN_PATH = '/oauth2/token';
const SYNC_PATH_PREFIX = '/api/plugins/zuora/sync/subscription/';

interface CannedAnswer {
  status: number;
  body?: unknown;
}

const DOWN_BODY = { message: 'Service Unavailable: Limio is down (the sandbox\'s "down" fault)' };
/** Limio's answer for a subscription it does not know; the body names the fault that made it, for dlq list. */
const NOT_FOUND: CannedAnswer = {
  status: 404,
  body: { message: "Not Found: no such subscription in Limio (the sandbox's notFoundIds fault)" },
};

export async function startLimioSandbox(options: LimioSandboxOptions = {}): Promise<LimioSandbox> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? `sandbox-client-${randomBytes(6).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(24).toString('base64url');
  const random = options.random ?? Math.random;
  let faults: Required<LimioFaults> = withFaultDefaults(options);
  let capacity = checkCapacity(options.capacity);

  /** Token -> expiry (ms since epoch). Revoking clears it, so every earlier token is unknown from then on. */
  const tokens = new Map<string, number>();
  const issued: string[] = [];
  const cannedAnswers = new Map<string, CannedAnswer>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  const stats: LimioSandboxStats = {
    tokenRequests: 0,
    syncCalls: 0,
    syncCallsById: new Map(),
    inFlight: 0,
    maxInFlight: 0,
    synced: new Set(),
    connections: 0,
    overloadRefused: 0,
  };

  const sandbox: { -readonly [K in keyof LimioSandbox]: LimioSandbox[K] } = {
    baseUrl: '',
    clientId,
    clientSecret,
    stats,
    setFaults(next) {
      faults = withFaultDefaults({ ...faults, ...next });
    },
    currentFaults() {
      return { ...faults, notFoundIds: [...faults.notFoundIds] };
    },
    setCapacity(next) {
      capacity = checkCapacity(next);
    },
    serviceModel() {
      return { capacity, latencyMs: faults.latencyMs };
    },
    respondWith(subscriptionId, status, body) {
      cannedAnswers.set(subscriptionId, { status, body });
    },
    revokeTokens() {
      tokens.clear();
    },
    issuedTokens() {
      return [...issued];
    },
    onSync: undefined,
    stop: async () => undefined,
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { message: `sandbox error: ${(error as Error).message}` });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
    if (path === TOKEN_PATH) return handleToken(request, response);
    if (path.startsWith(SYNC_PATH_PREFIX)) return handleSync(request, response, path.slice(SYNC_PATH_PREFIX.length));
    request.resume();
    send(response, 404, { message: `no route for ${request.method} ${path}` });
  }

  async function handleToken(request: IncomingMessage, response: ServerResponse): Promise<void> {
    stats.tokenRequests += 1;
    const body = await readBody(request);
    if (faults.down) return send(response, 503, DOWN_BODY);
    if (request.method !== 'POST') return send(response, 405, { message: 'use POST' });
    if (!(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      return send(response, 400, {
        error: 'invalid_request',
        error_description: 'expected application/x-www-form-urlencoded',
      });
    }
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      return send(response, 400, { error: 'unsupported_grant_type' });
    }
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return send(response, 401, { error: 'invalid_client' });
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, Date.now() + faults.tokenTtlSeconds * 1000);
    issued.push(accessToken);
    send(response, 200, {
      access_token: accessToken,
      id_token: randomBytes(32).toString('base64url'),
      token_type: 'Bearer',
      expires_in: faults.tokenTtlSeconds,
    });
  }

  async function handleSync(request: IncomingMessage, response: ServerResponse, encodedId: string): Promise<void> {
    const arrivedAt = performance.now();
    stats.syncCalls += 1;
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    // Judged on arrival, before the body is read: calls arriving together each see the ones ahead of them.
    const verdict = capacityVerdict(stats.inFlight, capacity, faults.latencyMs);
    // 'close' fires once whether we answered or the client gave up, so in-flight never drifts.
    response.once('close', () => {
      stats.inFlight -= 1;
    });
    let subscriptionId: string;
    try {
      subscriptionId = decodeURIComponent(encodedId);
    } catch {
      subscriptionId = encodedId;
    }
    stats.syncCallsById.set(subscriptionId, (stats.syncCallsById.get(subscriptionId) ?? 0) + 1);
    await readBody(request);

    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      if (status === 200 && isRecord(body) && body.success === true) stats.synced.add(subscriptionId);
      send(response, status, body, headers);
      sandbox.onSync?.({ subscriptionId, status, latencyMs: performance.now() - arrivedAt });
    };

    // In front of authentication, as a load balancer answers for a service that is out.
    if (faults.down) return answer(503, DOWN_BODY);
    if (request.method !== 'POST') return answer(405, { message: 'use POST' });
    if (!isAuthorised(request.headers.authorization)) {
      return answer(401, { message: 'Unauthorized: the bearer token is missing, invalid or expired' });
    }

    if (verdict.kind === 'refuse') {
      stats.overloadRefused += 1;
      return answer(502, {
        message: "Bad Gateway: Limio is over capacity, too many requests in flight (the sandbox's capacity model)",
      });
    }

    // A canned answer is deterministic: random faults do not apply to that subscription.
    const canned =
      cannedAnswers.get(subscriptionId) ?? (faults.notFoundIds.includes(subscriptionId) ? NOT_FOUND : undefined);
    const draw = canned ? 1 : random();
    if (draw < faults.hangRate) return; // never answered: the client's timeout or stop() ends it
    if (verdict.afterMs > 0) await sleep(verdict.afterMs);
    if (response.destroyed) return;

    if (canned) {
      const headers: Record<string, string> =
        canned.status === 429 ? { 'retry-after': String(faults.retryAfterSeconds) } : {};
      return answer(canned.status, canned.body ?? defaultBody(canned.status, subscriptionId), headers);
    }
    if (draw < faults.hangRate + faults.rate429) {
      return answer(429, { message: 'Too Many Requests' }, { 'retry-after': String(faults.retryAfterSeconds) });
    }
    if (draw < faults.hangRate + faults.rate429 + faults.rate502) {
      return answer(502, { message: 'Bad Gateway: the upstream Zuora call failed (injected by the sandbox)' });
    }
    answer(200, defaultBody(200, subscriptionId));
  }

  function isAuthorised(header: string | undefined): boolean {
    const match = /^Bearer (\S+)$/.exec(header ?? '');
    if (!match) return false;
    const expiresAt = tokens.get(match[1]);
    return expiresAt !== undefined && expiresAt > Date.now();
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pendingTimers.delete(timer);
        resolve();
      }, ms);
      pendingTimers.add(timer);
    });
  }

  const served = await serveSandbox(server, { port: options.port, host, name: 'Limio sandbox', stats });
  sandbox.baseUrl = served.baseUrl;
  sandbox.stop = async () => {
    for (const timer of pendingTimers) clearTimeout(timer);
    pendingTimers.clear();
    await served.stop();
  };
  return sandbox;
}

/** Limio's answer shapes: 200 {success, id, owner} with ids stable per subscription, errors {message}. */
function defaultBody(status: number, subscriptionId: string): unknown {
  if (status === 200) {
    const digest = createHash('sha256').update(subscriptionId).digest('hex');
    return { success: true, id: `sub-${digest.slice(0, 20)}`, owner: `identity-${digest.slice(20, 40)}` };
  }
  return { message: `Limio sandbox answered ${status} for ${subscriptionId}` };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** `tsx local/limio-sandbox.ts` runs a sandbox on its own (port LIMIO_SANDBOX_PORT or 4010). */
if (require.main === module) {
  const port = Number(process.env.LIMIO_SANDBOX_PORT ?? 4010);
  startLimioSandbox({ port, clientId: process.env.LIMIO_CLIENT_ID, clientSecret: process.env.LIMIO_CLIENT_SECRET })
    .then((sandbox) => {
      process.stdout.write(
        `Limio sandbox at ${sandbox.baseUrl} (LIMIO_CLIENT_ID=${sandbox.clientId}; the client secret is the one you set or was generated)\n`,
      );
      const stop = () => void sandbox.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    });
}
