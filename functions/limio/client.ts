import { describeFetchError } from '../shared/fetch-error';
import { classifySyncOutcome, type LimioAnswer, type SyncOutcome } from './classify-outcome';
import type { LimioTokenCache } from './token-cache';

export interface LimioClientOptions {
  readonly baseUrl: string;
  readonly tokens: LimioTokenCache;
  /** One budget for everything one sync may wait on: token, request, the retry after a 401, the body. */
  readonly timeoutMs: number;
  readonly now?: () => number;
}

export interface SyncResult {
  readonly outcome: SyncOutcome;
  readonly latencyMs: number;
}

export const SYNC_PATH = '/api/plugins/zuora/sync/subscription/';

/**
 * Asks Limio to pull one subscription from Zuora. Node's fetch (undici) keeps connections alive by default, so
 * consecutive syncs from a warm container reuse their TLS connection.
 */
export class LimioClient {
  private readonly now: () => number;

  constructor(private readonly options: LimioClientOptions) {
    this.now = options.now ?? Date.now;
  }

  async sync(subscriptionId: string): Promise<SyncResult> {
    const started = performance.now();
    // A single deadline, so a hung Limio cannot hold a concurrency slot past LIMIO_TIMEOUT_MS.
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    let outcome = await this.attempt(subscriptionId, signal, false);
    if (outcome.class === 'refresh') outcome = await this.attempt(subscriptionId, signal, true);
    return { outcome, latencyMs: Math.round(performance.now() - started) };
  }

  private async attempt(subscriptionId: string, signal: AbortSignal, tokenRefreshed: boolean): Promise<SyncOutcome> {
    let token: string;
    try {
      token = await this.options.tokens.token(signal);
    } catch (error) {
      return {
        class: 'retryable',
        error: `no Limio token: ${describeFetchError(error, this.options.timeoutMs)}`,
        tokenUnavailable: true,
      };
    }
    const answer = await this.post(subscriptionId, token, signal);
    const outcome = classifySyncOutcome(answer, { tokenRefreshed, nowMs: this.now() });
    if (outcome.class === 'refresh') this.options.tokens.invalidate(token);
    return outcome;
  }

  private async post(subscriptionId: string, token: string, signal: AbortSignal): Promise<LimioAnswer> {
    try {
      const response = await fetch(`${this.options.baseUrl}${SYNC_PATH}${encodeURIComponent(subscriptionId)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
        // Following a redirect could carry the bearer token somewhere else.
        redirect: 'manual',
        signal,
      });
      const text = await response.text();
      return {
        kind: 'response',
        status: response.status,
        body: parseJson(text),
        retryAfter: response.headers.get('retry-after'),
      };
    } catch (error) {
      if ((error as Error)?.name === 'TimeoutError') return { kind: 'timeout', timeoutMs: this.options.timeoutMs };
      return { kind: 'network-error', message: describeFetchError(error, this.options.timeoutMs) };
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
