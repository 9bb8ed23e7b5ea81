/**
 * The retry table: what one answer (or non-answer) from Limio's sync endpoint means for the message.
 * Pure, so every row is tested without a network.
 */

/** What came back from one sync request, reduced to what the table needs. */
export type LimioAnswer =
  | { readonly kind: 'response'; readonly status: number; readonly body: unknown; readonly retryAfter?: string | null }
  | { readonly kind: 'timeout'; readonly timeoutMs: number }
  | { readonly kind: 'network-error'; readonly message: string };

export type SyncOutcome =
  | { readonly class: 'synced'; readonly httpStatus: number; readonly limioId?: string; readonly owner?: string }
  /** 401 on a token not yet refreshed: fetch a new token and try once more at once. */
  | { readonly class: 'refresh'; readonly httpStatus: 401; readonly error: string }
  | {
      readonly class: 'retryable';
      readonly httpStatus?: number;
      readonly error: string;
      readonly retryAfterSeconds?: number;
      /** No token could be had (token endpoint down, slow or refusing the credentials): the breaker counts these apart. */
      readonly tokenUnavailable?: boolean;
    }
  | { readonly class: 'terminal'; readonly httpStatus: number; readonly error: string };

export interface ClassifyContext {
  /** The request already carried a token fetched after a 401: a second 401 is not the token's fault. */
  readonly tokenRefreshed: boolean;
  /** For Retry-After given as an HTTP date. */
  readonly nowMs: number;
}

/**
 * 4xx statuses retried as Limio-side failures rather than dead-lettered. 408/425/429 say "not now": the request
 * can succeed unchanged later. 403/409/423 are more likely Limio's side than one subscription's (a permission
 * taken from the API client, a WAF rule, a lock or conflict on Limio's side): if every sync gets one, retrying
 * makes them count toward the breaker, which opens and holds the messages, instead of dead-lettering them all.
 * A 403/409/423 that really belongs to one subscription is dead-lettered as exhausted once its budget is spent.
 */
const RETRYABLE_CLIENT_STATUSES = new Set([403, 408, 409, 423, 425, 429]);

export function classifySyncOutcome(answer: LimioAnswer, context: ClassifyContext): SyncOutcome {
  if (answer.kind === 'timeout')
    return { class: 'retryable', error: `Limio did not answer within ${answer.timeoutMs} ms` };
  if (answer.kind === 'network-error') return { class: 'retryable', error: `network error: ${answer.message}` };

  const { status, body } = answer;
  const message = limioMessage(body);
  if (status >= 200 && status < 300) {
    if (isRecord(body) && body.success === true) {
      return {
        class: 'synced',
        httpStatus: status,
        ...(typeof body.id === 'string' && { limioId: body.id }),
        ...(typeof body.owner === 'string' && { owner: body.owner }),
      };
    }
    return {
      class: 'retryable',
      httpStatus: status,
      error: `Limio answered ${status} without success: true${message ? `: ${message}` : ''}`,
    };
  }
  if (status === 401) {
    const error = `Limio refused the bearer token (401)${message ? `: ${message}` : ''}`;
    return context.tokenRefreshed
      ? { class: 'retryable', httpStatus: 401, error: `${error}, even a fresh one` }
      : { class: 'refresh', httpStatus: 401, error };
  }
  const retryAfterSeconds = parseRetryAfter(answer.retryAfter, context.nowMs);
  const describe = `Limio answered ${status}${message ? `: ${message}` : ''}`;
  if (status >= 500 || RETRYABLE_CLIENT_STATUSES.has(status)) {
    return {
      class: 'retryable',
      httpStatus: status,
      error: describe,
      ...(retryAfterSeconds !== undefined && { retryAfterSeconds }),
    };
  }
  if (status >= 400) return { class: 'terminal', httpStatus: status, error: describe };
  // 1xx/3xx: not Limio's contract (redirects are not followed, so the token never leaves the tenant).
  return { class: 'retryable', httpStatus: status, error: `unexpected answer from Limio: ${describe}` };
}

/** Retry-After as delay-seconds or an HTTP date; undefined when absent or unreadable. Never negative. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** Limio's error text ({message}) or a short rendering of whatever else came back. */
function limioMessage(body: unknown): string {
  if (isRecord(body) && typeof body.message === 'string') return oneLine(body.message);
  if (typeof body === 'string') return oneLine(body);
  return '';
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
