import type { ClientCredentials, CredentialsSource } from '../shared/credentials-source';
import { describeFetchError } from '../shared/fetch-error';

/** Why no token could be had; the sync is then retryable (Limio or its credentials will be back). */
class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(
    message: string,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export interface TokenCacheOptions {
  readonly baseUrl: string;
  readonly credentials: CredentialsSource;
  readonly timeoutMs: number;
  /** Refresh this long before `expires_in` runs out (at most half the token's life). */
  readonly expiryMarginSeconds: number;
  readonly now?: () => number;
  /** Told of every request to the token endpoint (the tokenFetches metric). */
  readonly onTokenFetch?: () => void;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAtMs: number;
}

/** When a token endpoint forgets expires_in, assume a short life rather than forever. */
const FALLBACK_TOKEN_LIFETIME_SECONDS = 300;

/**
 * Limio's client-credentials bearer token, cached for as long as it lives (across invocations: one instance
 * per container) and fetched by one request however many syncs want it at the same moment.
 */
export class LimioTokenCache {
  private cached: CachedToken | undefined;
  private pending: Promise<string> | undefined;
  private readonly now: () => number;

  constructor(private readonly options: TokenCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A valid token; `signal` lets one caller stop waiting without cancelling the fetch others share. */
  async token(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAtMs) return this.cached.value;
    this.pending ??= this.fetchToken().finally(() => {
      this.pending = undefined;
    });
    return signal ? abortable(this.pending, signal) : this.pending;
  }

  /** Limio refused this token: forget it, unless a newer one has replaced it meanwhile. */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    let credentials = await this.options.credentials.read();
    let answer = await this.requestToken(credentials);
    if (answer.refused && this.options.credentials.canRefresh) {
      // Refused credentials usually mean the secret was rotated: read it again, once.
      credentials = await this.options.credentials.read({ refresh: true });
      answer = await this.requestToken(credentials);
    }
    if (answer.refused) {
      throw new TokenError(`the Limio token endpoint refused the client credentials (${answer.status})`, answer.status);
    }
    return answer.token!;
  }

  private async requestToken(
    credentials: ClientCredentials,
  ): Promise<{ refused: boolean; status: number; token?: string }> {
    this.options.onTokenFetch?.();
    let response: Response;
    let body: unknown;
    try {
      response = await fetch(`${this.options.baseUrl}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: credentials.clientId,
          client_secret: credentials.clientSecret,
        }).toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      body = await response.json().catch(() => undefined);
    } catch (error) {
      throw new TokenError(
        `the Limio token endpoint could not be reached: ${describeFetchError(error, this.options.timeoutMs)}`,
      );
    }
    // 400 invalid_client is what RFC 6749 prescribes, 401 what Limio answers: both mean "not these credentials".
    const refused =
      response.status === 401 || (response.status === 400 && isRecord(body) && body.error === 'invalid_client');
    if (refused) return { refused, status: response.status };
    if (
      response.status !== 200 ||
      !isRecord(body) ||
      typeof body.access_token !== 'string' ||
      body.access_token === ''
    ) {
      throw new TokenError(
        `the Limio token endpoint answered ${response.status} without an access_token`,
        response.status,
      );
    }
    const lifetimeSeconds =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : FALLBACK_TOKEN_LIFETIME_SECONDS;
    const margin = Math.min(this.options.expiryMarginSeconds, lifetimeSeconds / 2);
    this.cached = { value: body.access_token, refreshAtMs: this.now() + (lifetimeSeconds - margin) * 1000 };
    return { refused: false, status: 200, token: body.access_token };
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
