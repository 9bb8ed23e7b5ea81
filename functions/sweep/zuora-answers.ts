/**
 * What Zuora's REST answers mean, apart from how they are fetched (zuora-client.ts): the errors a call ends
 * with, a query page's shape, Retry-After, and Zuora's own error text. Pure, so each is tested without a server.
 */

/** Why a call failed for good, so the sweep's alarm text can point at the right thing. */
export type ZuoraErrorKind =
  /** The token endpoint refused the client credentials, or Zuora refused a fresh token (401/403). */
  | 'credentials'
  /** 429 after every attempt, or a Retry-After longer than the client may wait. */
  | 'rate-limited'
  /** 5xx, network failures or timeouts after every attempt. */
  | 'unavailable'
  /** Any other 4xx, e.g. a malformed query or an expired queryLocator. */
  | 'refused'
  /** A 2xx answer that is not the documented shape. */
  | 'protocol'
  /** The caller's deadline came before an answer (or before the next retry could start). */
  | 'deadline';

export class ZuoraApiError extends Error {
  override readonly name = 'ZuoraApiError';
  constructor(
    message: string,
    readonly kind: ZuoraErrorKind,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

export type ZuoraRecord = Readonly<Record<string, unknown>>;

/** Zuora's error text is copied into errors and logs; this keeps one line readable. */
const MAX_ERROR_DETAIL_LENGTH = 300;

/** What came back from one request, or what happened instead. */
export type ZuoraAnswer =
  | { readonly kind: 'response'; readonly status: number; readonly body: unknown; readonly retryAfter: string | null }
  | { readonly kind: 'network-error'; readonly message: string }
  | { readonly kind: 'timeout' };

export interface QueryPage {
  readonly records: readonly ZuoraRecord[];
  readonly done: boolean;
  readonly queryLocator?: string;
}

/** `{records, size, done, queryLocator}`; `size` is the whole result's count, not the page's. */
export function parseQueryPage(body: unknown): QueryPage {
  if (!isRecord(body))
    throw new ZuoraApiError('Zuora answered a query with something other than a JSON object', 'protocol');
  const { records, done, queryLocator } = body;
  if (typeof done !== 'boolean') throw new ZuoraApiError('Zuora answered a query without a boolean "done"', 'protocol');
  // An empty result may leave records out, like any null field.
  if (records !== undefined && !(Array.isArray(records) && records.every(isRecord))) {
    throw new ZuoraApiError('Zuora answered a query with "records" that is not a list of objects', 'protocol');
  }
  if (!done && (typeof queryLocator !== 'string' || queryLocator === '')) {
    throw new ZuoraApiError('Zuora answered a query with done=false but no queryLocator', 'protocol');
  }
  return {
    records: (records as ZuoraRecord[] | undefined) ?? [],
    done,
    ...(!done && { queryLocator: queryLocator as string }),
  };
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfterMs(value: string | null, nowMs: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export function describeAnswer(answer: ZuoraAnswer, timeoutMs: number): string {
  if (answer.kind === 'timeout') return `no answer within ${timeoutMs} ms`;
  if (answer.kind === 'network-error') return answer.message;
  return `HTTP ${answer.status}${errorDetail(answer.body)}`;
}

/** Zuora's own error text from the shapes its APIs use, clipped to one line. */
export function errorDetail(body: unknown): string {
  if (!isRecord(body)) return '';
  const candidates: unknown[] = [
    body.faultstring,
    Array.isArray(body.Errors) && isRecord(body.Errors[0]) ? body.Errors[0].Message : undefined,
    Array.isArray(body.reasons) && isRecord(body.reasons[0]) ? body.reasons[0].message : undefined,
    body.message,
    body.error_description,
    body.error,
  ];
  const text = candidates.find(
    (candidate): candidate is string => typeof candidate === 'string' && candidate.trim() !== '',
  );
  if (text === undefined) return '';
  const line = text.replace(/\s+/g, ' ').trim();
  return `: ${line.length > MAX_ERROR_DETAIL_LENGTH ? `${line.slice(0, MAX_ERROR_DETAIL_LENGTH)}…` : line}`;
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
