import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientCredentialsConfig } from '../shared/client-credentials';
import { credentialsSourceOf, type ClientCredentials, type CredentialsSource } from '../shared/credentials-source';
import { describeFetchError } from '../shared/fetch-error';
import {
  describeAnswer,
  errorDetail,
  isRecord,
  parseJson,
  parseQueryPage,
  parseRetryAfterMs,
  type QueryPage,
  type ZuoraAnswer,
  ZuoraApiError,
  type ZuoraErrorKind,
  type ZuoraRecord,
} from './zuora-answers';

/**
 * The few Zuora REST calls the reconciliation sweep needs: an OAuth client-credentials token and ZOQL
 * query/queryMore. Zuora limits requests per tenant and the token endpoint per IP address, so this client makes
 * one request at a time, reuses its token until shortly before it expires, and retries 429 (after Retry-After),
 * 5xx and network failures a bounded number of times. It never logs; what it reports (errors, request events)
 * names paths and statuses, never a token or a secret.
 */

/** Told of every HTTP request the client makes (metrics, the benchmark's request count, progress). */
export interface ZuoraRequestEvent {
  readonly path: string;
  /** HTTP status, or what happened instead of an answer. */
  readonly status: number | 'network-error' | 'timeout';
  /** 1 for the first try of a call, then 2, 3, ... for its retries. */
  readonly attempt: number;
  readonly durationMs: number;
}

export interface ZuoraClientOptions {
  /** The tenant's REST root without a trailing slash, e.g. https://rest.apisandbox.zuora.com. */
  readonly baseUrl: string;
  readonly credentials: CredentialsSource;
  /** Multi-entity tenants: sent as Zuora-Entity-Ids on every call but the token request. */
  readonly entityId?: string;
  /** One HTTP request, body included (default 60 s: a query over a large tenant can take a while). */
  readonly requestTimeoutMs?: number;
  /** Tries of one call, the first included (default 5). */
  readonly maxAttempts?: number;
  /** Backoff before retry n is base * 2^(n-1), capped, with jitter (defaults 1 s and 30 s). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** A 429 whose Retry-After asks for longer than this is not waited for: the call fails (default 60 s). */
  readonly maxRetryAfterMs?: number;
  /** Fetch a new token this long before the current one expires (at most half its life; default 60 s). */
  readonly tokenExpiryMarginSeconds?: number;
  readonly onRequest?: (event: ZuoraRequestEvent) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export interface ZuoraQueryOptions {
  /** No request or retry wait runs past this time (ms since the epoch): the invocation's own deadline. */
  readonly deadlineMs?: number;
}

const ZUORA_CLIENT_DEFAULTS = {
  requestTimeoutMs: 60_000,
  maxAttempts: 5,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  maxRetryAfterMs: 60_000,
  tokenExpiryMarginSeconds: 60,
} as const;

const ZUORA_TOKEN_PATH = '/oauth/token';
const ZUORA_QUERY_PATH = '/v1/action/query';
const ZUORA_QUERY_MORE_PATH = '/v1/action/queryMore';

/** When the token endpoint forgets expires_in, assume a short life rather than forever. */
const FALLBACK_TOKEN_LIFETIME_SECONDS = 300;
interface CachedToken {
  readonly value: string;
  readonly refreshAtMs: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ZuoraClient {
  private cachedToken: CachedToken | undefined;
  /** The tail of the one-at-a-time chain every request joins. */
  private queue: Promise<void> = Promise.resolve();
  private readonly settings: Required<Omit<ZuoraClientOptions, 'entityId' | 'onRequest'>> &
    Pick<ZuoraClientOptions, 'entityId' | 'onRequest'>;

  constructor(options: ZuoraClientOptions) {
    this.settings = {
      ...ZUORA_CLIENT_DEFAULTS,
      now: Date.now,
      sleep: defaultSleep,
      random: Math.random,
      ...definedOnly(options),
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    } as ZuoraClient['settings'];
    if (!(this.settings.maxAttempts >= 1)) throw new RangeError('maxAttempts must be at least 1');
  }

  /**
   * The records of one ZOQL query, page by page (query, then queryMore until `done`). Pages come as they are
   * read, so a caller can report progress; ZOQL has no ordering, so only the whole sequence says anything
   * about a time range.
   */
  async *query(queryString: string, options: ZuoraQueryOptions = {}): AsyncGenerator<readonly ZuoraRecord[]> {
    let page = await this.queryPage({ queryString }, options);
    yield page.records;
    const seenLocators = new Set<string>();
    while (!page.done) {
      const locator = page.queryLocator!;
      // A locator that comes back again would page forever.
      if (seenLocators.has(locator)) throw new ZuoraApiError('Zuora returned the same queryLocator twice', 'protocol');
      seenLocators.add(locator);
      page = await this.queryPage({ queryLocator: locator }, options);
      yield page.records;
    }
  }

  /**
   * One page: the first of a query, or the next one after a queryLocator. For a caller that must stop between
   * pages and resume in another invocation (the fan-out), which a generator cannot outlive.
   */
  async queryPage(
    from: { readonly queryString: string } | { readonly queryLocator: string },
    options: ZuoraQueryOptions = {},
  ): Promise<QueryPage> {
    const path = 'queryString' in from ? ZUORA_QUERY_PATH : ZUORA_QUERY_MORE_PATH;
    return parseQueryPage(await this.call(path, from, options.deadlineMs));
  }

  /** One API call (JSON in, JSON out) with the token, the retries and the one-at-a-time rule. */
  async call(path: string, body: unknown, deadlineMs?: number): Promise<unknown> {
    return this.exclusive(() => this.callWithRetries(path, body, deadlineMs));
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.queue.then(task);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  private async callWithRetries(path: string, body: unknown, deadlineMs: number | undefined): Promise<unknown> {
    let refreshedAfter401 = false;
    for (let attempt = 1; ; attempt++) {
      const token = await this.token(deadlineMs);
      const answer = await this.send(path, attempt, deadlineMs, {
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          ...(this.settings.entityId !== undefined && { 'zuora-entity-ids': this.settings.entityId }),
        },
        body: JSON.stringify(body),
      });
      if (answer.kind === 'response' && answer.status >= 200 && answer.status < 300) return answer.body;
      if (answer.kind === 'response' && answer.status === 401 && !refreshedAfter401) {
        // An expired or revoked token: one fresh token, without counting it as a retry.
        refreshedAfter401 = true;
        if (this.cachedToken?.value === token) this.cachedToken = undefined;
        attempt -= 1;
        continue;
      }
      if (answer.kind === 'response' && (answer.status === 401 || answer.status === 403)) {
        throw new ZuoraApiError(
          `Zuora refused the API call ${path} with a fresh token (${answer.status}${errorDetail(answer.body)})`,
          'credentials',
          answer.status,
        );
      }
      await this.waitBeforeRetry(path, answer, attempt, deadlineMs);
    }
  }

  /** Throws when the answer is final or no retry may start; otherwise sleeps for the backoff. */
  private async waitBeforeRetry(
    path: string,
    answer: ZuoraAnswer,
    attempt: number,
    deadlineMs: number | undefined,
  ): Promise<void> {
    const description = describeAnswer(answer, this.settings.requestTimeoutMs);
    if (answer.kind === 'response' && answer.status !== 429 && answer.status < 500) {
      throw new ZuoraApiError(
        `Zuora answered ${path} with ${answer.status}${errorDetail(answer.body)}`,
        'refused',
        answer.status,
      );
    }
    const kind: ZuoraErrorKind = answer.kind === 'response' && answer.status === 429 ? 'rate-limited' : 'unavailable';
    const status = answer.kind === 'response' ? answer.status : undefined;
    if (attempt >= this.settings.maxAttempts) {
      throw new ZuoraApiError(`Zuora ${path} failed after ${attempt} attempts: ${description}`, kind, status);
    }
    let waitMs = this.backoffMs(attempt);
    if (answer.kind === 'response' && answer.status === 429) {
      const retryAfterMs = parseRetryAfterMs(answer.retryAfter, this.settings.now());
      if (retryAfterMs !== undefined && retryAfterMs > this.settings.maxRetryAfterMs) {
        throw new ZuoraApiError(
          `Zuora ${path} answered 429 with Retry-After ${Math.ceil(retryAfterMs / 1000)} s, longer than the ${this.settings.maxRetryAfterMs / 1000} s this sweep waits`,
          'rate-limited',
          429,
        );
      }
      if (retryAfterMs !== undefined) waitMs = retryAfterMs;
    }
    if (deadlineMs !== undefined && this.settings.now() + waitMs >= deadlineMs) {
      throw new ZuoraApiError(
        `Zuora ${path}: no time left for another attempt before the deadline (last: ${description})`,
        'deadline',
        status,
      );
    }
    await this.settings.sleep(waitMs);
  }

  /** Exponential with jitter between half and all of the step, so a retry never comes at once. */
  private backoffMs(attempt: number): number {
    const step = Math.min(this.settings.backoffMaxMs, this.settings.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(step * (0.5 + this.settings.random() / 2));
  }

  private async token(deadlineMs: number | undefined): Promise<string> {
    if (this.cachedToken && this.settings.now() < this.cachedToken.refreshAtMs) return this.cachedToken.value;
    let credentials = await this.settings.credentials.read();
    let refused = await this.requestToken(credentials, deadlineMs);
    if (refused !== undefined && this.settings.credentials.canRefresh) {
      // Refused credentials usually mean the secret was rotated: read it again, once.
      credentials = await this.settings.credentials.read({ refresh: true });
      refused = await this.requestToken(credentials, deadlineMs);
    }
    if (refused !== undefined) {
      throw new ZuoraApiError(
        `the Zuora token endpoint refused the client credentials (${refused})`,
        'credentials',
        refused,
      );
    }
    return this.cachedToken!.value;
  }

  /** Caches the token and returns undefined, or returns the status with which the credentials were refused. */
  private async requestToken(
    credentials: ClientCredentials,
    deadlineMs: number | undefined,
  ): Promise<number | undefined> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send(ZUORA_TOKEN_PATH, attempt, deadlineMs, {
        // Zuora wants no other authentication on this call.
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
          grant_type: 'client_credentials',
        }).toString(),
      });
      if (answer.kind === 'response') {
        const { status, body } = answer;
        if (status === 401 || (status === 400 && isRecord(body) && body.error === 'invalid_client')) return status;
        if (status === 200) {
          if (!isRecord(body) || typeof body.access_token !== 'string' || body.access_token === '') {
            throw new ZuoraApiError('the Zuora token endpoint answered 200 without an access_token', 'protocol', 200);
          }
          const lifetimeSeconds =
            typeof body.expires_in === 'number' && body.expires_in > 0
              ? body.expires_in
              : FALLBACK_TOKEN_LIFETIME_SECONDS;
          const marginSeconds = Math.min(this.settings.tokenExpiryMarginSeconds, lifetimeSeconds / 2);
          this.cachedToken = {
            value: body.access_token,
            refreshAtMs: this.settings.now() + (lifetimeSeconds - marginSeconds) * 1000,
          };
          return undefined;
        }
      }
      await this.waitBeforeRetry(ZUORA_TOKEN_PATH, answer, attempt, deadlineMs);
    }
  }

  private async send(
    path: string,
    attempt: number,
    deadlineMs: number | undefined,
    init: { headers: Record<string, string>; body: string },
  ): Promise<ZuoraAnswer> {
    const timeoutMs = this.timeoutFor(path, deadlineMs);
    const started = this.settings.now();
    let answer: ZuoraAnswer;
    try {
      const response = await fetch(`${this.settings.baseUrl}${path}`, {
        method: 'POST',
        headers: { accept: 'application/json', ...init.headers },
        body: init.body,
        // Following a redirect could carry the bearer token or the client secret somewhere else.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.text();
      answer = {
        kind: 'response',
        status: response.status,
        body: parseJson(text),
        retryAfter: response.headers.get('retry-after'),
      };
    } catch (error) {
      answer =
        (error as Error)?.name === 'TimeoutError'
          ? { kind: 'timeout' }
          : { kind: 'network-error', message: describeFetchError(error, timeoutMs) };
    }
    this.settings.onRequest?.({
      path,
      status: answer.kind === 'response' ? answer.status : answer.kind,
      attempt,
      durationMs: this.settings.now() - started,
    });
    return answer;
  }

  private timeoutFor(path: string, deadlineMs: number | undefined): number {
    if (deadlineMs === undefined) return this.settings.requestTimeoutMs;
    const leftMs = deadlineMs - this.settings.now();
    if (leftMs <= 0)
      throw new ZuoraApiError(`Zuora ${path}: the deadline passed before the request could start`, 'deadline');
    return Math.min(this.settings.requestTimeoutMs, leftMs);
  }
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/** The client for a loaded sweep configuration: Secrets Manager credentials in AWS, plain variables locally. */
export function createZuoraClient(
  config: {
    readonly zuoraBaseUrl: string;
    readonly credentials: ClientCredentialsConfig;
    readonly entityId?: string;
    readonly zuoraTimeoutMs: number;
  },
  options: Omit<ZuoraClientOptions, 'baseUrl' | 'credentials' | 'entityId' | 'requestTimeoutMs'> & {
    readonly secretsManager?: SecretsManagerClient;
  } = {},
): ZuoraClient {
  const { secretsManager, ...rest } = options;
  return new ZuoraClient({
    ...rest,
    baseUrl: config.zuoraBaseUrl,
    credentials: credentialsSourceOf(config.credentials, 'Zuora', secretsManager),
    ...(config.entityId !== undefined && { entityId: config.entityId }),
    requestTimeoutMs: config.zuoraTimeoutMs,
  });
}
