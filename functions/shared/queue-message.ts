import { checkSubscriptionId, DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from './subscription-id';
import { describeUntrusted } from './untrusted-value';

/**
 * The one message that travels on the main queue and the DLQ, written by every producer (callout Lambda,
 * CLI backfill and replay) and read by the sync Lambda. Versioned so that a consumer can refuse what it
 * does not understand instead of guessing.
 */
export const SYNC_REQUEST_VERSION = 1;

export const MESSAGE_SOURCES = ['notification', 'workflow', 'callout', 'backfill', 'replay', 'sweep', 'test'] as const;
export type MessageSource = (typeof MESSAGE_SOURCES)[number];

export interface SyncRequest {
  readonly v: typeof SYNC_REQUEST_VERSION;
  readonly subscriptionId: string;
  readonly source: MessageSource;
  /** ISO-8601 time the bridge first accepted this request; retry budgets are measured from it. */
  readonly receivedAt: string;
  readonly zuoraRequestId?: string;
  readonly zuoraNotificationId?: string;
  /** How many times an operator has put this request back from the DLQ. */
  readonly replayCount?: number;
  /**
   * The `dlq replay` run that last put it back. The sync Lambda dead-letters the body untouched, so a replay can
   * tell a letter it sent that failed again from one that was on the DLQ before it started.
   */
  readonly replayRunId?: string;
  /**
   * The Zuora UpdatedDate (ISO-8601 with its offset) of the change this message announces, when its producer knows
   * it: a callout whose template names it, or the sweep, which read it. A successful sync that serves the message
   * has provably read that change (the ledger's provenThrough).
   */
  readonly zuoraUpdatedAt?: string;
}

export type SyncRequestInput = Omit<SyncRequest, 'v' | 'receivedAt'> & { receivedAt?: string | Date };

export type ParsedSyncRequest = { ok: true; request: SyncRequest } | { ok: false; reason: string };

/** Largest header value we copy into a message; Zuora's ids are far shorter. */
const MAX_CORRELATION_ID_LENGTH = 128;

const REPLAY_RUN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function createSyncRequest(input: SyncRequestInput, rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE): SyncRequest {
  const received = input.receivedAt ?? new Date();
  const candidate = {
    ...input,
    v: SYNC_REQUEST_VERSION,
    receivedAt: received instanceof Date ? received.toISOString() : received,
  };
  const parsed = validateSyncRequest(candidate, rule);
  if (!parsed.ok) throw new Error(`invalid sync request: ${parsed.reason}`);
  return parsed.request;
}

export function serializeSyncRequest(request: SyncRequest): string {
  return JSON.stringify(request);
}

/**
 * The longest refusal: it becomes a log line, the DLQ's `error` attribute and the CLI's `bodyProblem`, and a body is
 * anyone's with sqs:SendMessage (a configured subscription-id pattern, quoted in one, is long too).
 */
export const MAX_REFUSAL_LENGTH = 300;

export function parseSyncRequest(body: string, rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE): ParsedSyncRequest {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
  const parsed = validateSyncRequest(value, rule);
  return parsed.ok || parsed.reason.length <= MAX_REFUSAL_LENGTH ? parsed : { ok: false, reason: `${parsed.reason.slice(0, MAX_REFUSAL_LENGTH - 1)}…` };
}

/**
 * The refusal of a body whose reading threw, whatever it threw: a reader of a queue takes every body from
 * outside, and one that breaks the reader must become that message's refusal, not fail the rest of its batch.
 */
export function unreadableBodyReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  return `message body could not be read (${text.length > 120 ? `${text.slice(0, 119)}…` : text})`;
}

function validateSyncRequest(value: unknown, rule: SubscriptionIdRule): ParsedSyncRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'message body is not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  if (record.v !== SYNC_REQUEST_VERSION) {
    return { ok: false, reason: `unsupported message version ${describeUntrusted(record.v)}; expected ${SYNC_REQUEST_VERSION}` };
  }
  const id = checkSubscriptionId(record.subscriptionId, rule);
  if (!id.ok) return { ok: false, reason: `invalid subscriptionId: ${id.reason}` };
  if (typeof record.source !== 'string' || !(MESSAGE_SOURCES as readonly string[]).includes(record.source)) {
    return { ok: false, reason: `invalid source ${describeUntrusted(record.source)}; expected one of ${MESSAGE_SOURCES.join(', ')}` };
  }
  if (typeof record.receivedAt !== 'string' || Number.isNaN(Date.parse(record.receivedAt))) {
    return { ok: false, reason: 'receivedAt is missing or not an ISO-8601 time' };
  }
  for (const field of ['zuoraRequestId', 'zuoraNotificationId'] as const) {
    const fieldValue = record[field];
    if (fieldValue !== undefined && (typeof fieldValue !== 'string' || fieldValue.length > MAX_CORRELATION_ID_LENGTH)) {
      return { ok: false, reason: `${field} must be a string of at most ${MAX_CORRELATION_ID_LENGTH} characters` };
    }
  }
  if (record.replayCount !== undefined && !(Number.isInteger(record.replayCount) && (record.replayCount as number) >= 0)) {
    return { ok: false, reason: 'replayCount must be a non-negative whole number' };
  }
  if (record.replayRunId !== undefined && !(typeof record.replayRunId === 'string' && REPLAY_RUN_ID.test(record.replayRunId))) {
    return { ok: false, reason: 'replayRunId must be 1 to 64 letters, digits, ".", "_", ":" or "-"' };
  }
  if (record.zuoraUpdatedAt !== undefined && !(typeof record.zuoraUpdatedAt === 'string' && record.zuoraUpdatedAt.length <= 64 && !Number.isNaN(Date.parse(record.zuoraUpdatedAt)))) {
    return { ok: false, reason: 'zuoraUpdatedAt must be an ISO-8601 time' };
  }
  const request: SyncRequest = {
    v: SYNC_REQUEST_VERSION,
    subscriptionId: id.id,
    source: record.source as MessageSource,
    receivedAt: record.receivedAt,
    ...(record.zuoraRequestId !== undefined && { zuoraRequestId: record.zuoraRequestId as string }),
    ...(record.zuoraNotificationId !== undefined && { zuoraNotificationId: record.zuoraNotificationId as string }),
    ...(record.replayCount !== undefined && { replayCount: record.replayCount as number }),
    ...(record.replayRunId !== undefined && { replayRunId: record.replayRunId as string }),
    ...(record.zuoraUpdatedAt !== undefined && { zuoraUpdatedAt: record.zuoraUpdatedAt as string }),
  };
  return { ok: true, request };
}
