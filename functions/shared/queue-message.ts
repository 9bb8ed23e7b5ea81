import { checkAccountKey, DEFAULT_ACCOUNT_KEY_RULE, type AccountKeyRule } from './account-key';
import { checkSubscriptionId, DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from './subscription-id';
import { describeUntrusted } from './untrusted-value';

/**
 * The messages that travel on the bridge's queues and their one DLQ, written by every producer (callout Lambda,
 * sweep, fan-out, CLI backfill and replay). Two kinds share one versioned schema:
 * - a subscription message (no `kind`: every message queued before accounts existed stays readable), on the main
 *   queue, read by the sync Lambda;
 * - an account message (`kind: 'account'`), on the fan-out queue (ACCOUNT_QUEUE_URL), read by the fan-out Lambda,
 *   which turns it into subscription messages with source 'account'.
 * Versioned so that a consumer can refuse what it does not understand instead of guessing.
 */
const SYNC_REQUEST_VERSION = 1;

/** `account`: a subscription message the fan-out made from an account message. */
const MESSAGE_SOURCES = [
  'notification',
  'workflow',
  'callout',
  'backfill',
  'replay',
  'sweep',
  'account',
  'test',
] as const;
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

/** Where the fan-out Lambda stopped paging an account's subscriptions, so that the next delivery resumes there. */
interface FanOutContinuation {
  /** Zuora's ZOQL queryLocator for queryMore. */
  readonly queryLocator: string;
  /** The account's 32-hex id, which the account key was resolved to. */
  readonly accountId: string;
}

export interface AccountRequest {
  readonly v: typeof SYNC_REQUEST_VERSION;
  readonly kind: 'account';
  /** An account number or a 32-hex account id (functions/shared/account-key.ts). */
  readonly accountKey: string;
  readonly source: MessageSource;
  readonly receivedAt: string;
  readonly zuoraRequestId?: string;
  readonly zuoraNotificationId?: string;
  readonly replayCount?: number;
  readonly replayRunId?: string;
  /** Present on a continuation the fan-out Lambda queued when it ran out of time. */
  readonly fanOut?: FanOutContinuation;
}

export type QueueMessage = SyncRequest | AccountRequest;

export type SyncRequestInput = Omit<SyncRequest, 'v' | 'receivedAt'> & { receivedAt?: string | Date };
export type AccountRequestInput = Omit<AccountRequest, 'v' | 'kind' | 'receivedAt'> & { receivedAt?: string | Date };

export type ParsedSyncRequest = { ok: true; request: SyncRequest } | { ok: false; reason: string };
export type ParsedQueueMessage = { ok: true; message: QueueMessage } | { ok: false; reason: string };

/** The id rules a reader of either kind checks with; each defaults to Zuora's own. */
export interface MessageRules {
  readonly subscriptionIdRule?: SubscriptionIdRule;
  readonly accountKeyRule?: AccountKeyRule;
}

export function isAccountRequest(message: QueueMessage): message is AccountRequest {
  return 'kind' in message && message.kind === 'account';
}

/** What a message is about, for logs and for a producer's list of what it could not queue. */
export function messageKey(message: QueueMessage): string {
  return isAccountRequest(message) ? message.accountKey : message.subscriptionId;
}

/** Largest header value we copy into a message; Zuora's ids are far shorter. */
const MAX_CORRELATION_ID_LENGTH = 128;

const REPLAY_RUN_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** An ISO-8601 time with its offset: a time without one would be read in whatever zone the reader is in. */
const ISO_TIME_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Zuora's queryLocator is a short token; the bound keeps a forged one from filling the message. */
const QUERY_LOCATOR = /^[\x21-\x7e]{1,512}$/;
/** Strict: the fan-out puts it into a ZOQL filter. */
const ZUORA_ACCOUNT_ID = /^[0-9a-f]{32}$/;

export function createSyncRequest(
  input: SyncRequestInput,
  rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE,
): SyncRequest {
  const parsed = validateSyncRequest(
    { ...input, v: SYNC_REQUEST_VERSION, receivedAt: isoTime(input.receivedAt) },
    rule,
  );
  if (!parsed.ok) throw new Error(`invalid sync request: ${parsed.reason}`);
  return parsed.request;
}

export function createAccountRequest(
  input: AccountRequestInput,
  rule: AccountKeyRule = DEFAULT_ACCOUNT_KEY_RULE,
): AccountRequest {
  const parsed = validateAccountRequest(
    { ...input, v: SYNC_REQUEST_VERSION, kind: 'account', receivedAt: isoTime(input.receivedAt) },
    rule,
  );
  if (!parsed.ok) throw new Error(`invalid account message: ${parsed.reason}`);
  return parsed.request;
}

function isoTime(received: string | Date | undefined): string {
  const time = received ?? new Date();
  return time instanceof Date ? time.toISOString() : time;
}

export function serializeSyncRequest(request: SyncRequest): string {
  return JSON.stringify(request);
}

export function serializeQueueMessage(message: QueueMessage): string {
  return JSON.stringify(message);
}

/**
 * The longest refusal: it becomes a log line, the DLQ's `error` attribute and the CLI's `bodyProblem`, and a body is
 * anyone's with sqs:SendMessage (a configured subscription-id pattern, quoted in one, is long too).
 */
export const MAX_REFUSAL_LENGTH = 300;

/**
 * The sync Lambda's reader: a subscription message, or a refusal. An account message on its queue (sent there by
 * hand, or by a producer given the wrong queue) is refused with a reason saying where it belongs: the sync Lambda
 * cannot fan an account out.
 */
export function parseSyncRequest(
  body: string,
  rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE,
): ParsedSyncRequest {
  const json = readJson(body);
  if (!json.ok) return json;
  const record = json.value as Record<string, unknown> | null;
  if (
    typeof record === 'object' &&
    record !== null &&
    !Array.isArray(record) &&
    record.v === SYNC_REQUEST_VERSION &&
    record.kind === 'account'
  ) {
    // Decided on the kind alone: this Lambda does not know the fan-out's ACCOUNT_NUMBER_PATTERN, and a key it would
    // refuse is still an account message that belongs elsewhere. The key is named only if it is a safe short token.
    const key = checkAccountKey(record.accountKey, ANY_ACCOUNT_NUMBER);
    return {
      ok: false,
      reason: `account message${key.ok ? ` for ${key.key}` : ''} on the sync queue: account messages belong on the fan-out queue (ACCOUNT_QUEUE_URL), which turns them into subscription messages`,
    };
  }
  return clippedRefusal(validateSyncRequest(json.value, rule));
}

/** Either kind: a message without `kind` is a subscription message, `kind: "account"` an account message. */
export function parseQueueMessage(body: string, rules: MessageRules = {}): ParsedQueueMessage {
  const json = readJson(body);
  return json.ok ? clippedRefusal(validateQueueMessage(json.value, rules)) : json;
}

/** Any path-safe key passes: only to name the key of an account message in a refusal. */
const ANY_ACCOUNT_NUMBER: AccountKeyRule = { numberPattern: /^/ };

function readJson(body: string): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false, reason: 'message body is not JSON' };
  }
}

function clippedRefusal<T extends { ok: boolean; reason?: string }>(parsed: T): T {
  if (parsed.ok || parsed.reason === undefined || parsed.reason.length <= MAX_REFUSAL_LENGTH) return parsed;
  return { ok: false, reason: `${parsed.reason.slice(0, MAX_REFUSAL_LENGTH - 1)}…` } as T;
}

/**
 * The refusal of a body whose reading threw, whatever it threw: a reader of a queue takes every body from
 * outside, and one that breaks the reader must become that message's refusal, not fail the rest of its batch.
 */
export function unreadableBodyReason(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : typeof error;
  return `message body could not be read (${text.length > 120 ? `${text.slice(0, 119)}…` : text})`;
}

function validateQueueMessage(value: unknown, rules: MessageRules): ParsedQueueMessage {
  const envelope = checkEnvelope(value);
  if (!envelope.ok) return envelope;
  const { record } = envelope;
  if (record.kind === undefined) {
    const parsed = validateSyncRequest(record, rules.subscriptionIdRule ?? DEFAULT_SUBSCRIPTION_ID_RULE);
    return parsed.ok ? { ok: true, message: parsed.request } : parsed;
  }
  if (record.kind === 'account') {
    const parsed = validateAccountRequest(record, rules.accountKeyRule ?? DEFAULT_ACCOUNT_KEY_RULE);
    return parsed.ok ? { ok: true, message: parsed.request } : parsed;
  }
  return {
    ok: false,
    reason: `unknown message kind ${describeUntrusted(record.kind)}; expected "account", or none for a subscription message`,
  };
}

function checkEnvelope(value: unknown): { ok: true; record: Record<string, unknown> } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: 'message body is not a JSON object' };
  }
  const record = value as Record<string, unknown>;
  if (record.v !== SYNC_REQUEST_VERSION) {
    return {
      ok: false,
      reason: `unsupported message version ${describeUntrusted(record.v)}; expected ${SYNC_REQUEST_VERSION}`,
    };
  }
  return { ok: true, record };
}

/** The fields both kinds carry, checked the same way. */
type CommonFields = Pick<
  SyncRequest,
  'source' | 'receivedAt' | 'zuoraRequestId' | 'zuoraNotificationId' | 'replayCount' | 'replayRunId'
>;

function checkCommonFields(
  record: Record<string, unknown>,
): { ok: true; fields: CommonFields } | { ok: false; reason: string } {
  if (typeof record.source !== 'string' || !(MESSAGE_SOURCES as readonly string[]).includes(record.source)) {
    return {
      ok: false,
      reason: `invalid source ${describeUntrusted(record.source)}; expected one of ${MESSAGE_SOURCES.join(', ')}`,
    };
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
  if (
    record.replayCount !== undefined &&
    !(Number.isInteger(record.replayCount) && (record.replayCount as number) >= 0)
  ) {
    return { ok: false, reason: 'replayCount must be a non-negative whole number' };
  }
  if (
    record.replayRunId !== undefined &&
    !(typeof record.replayRunId === 'string' && REPLAY_RUN_ID.test(record.replayRunId))
  ) {
    return { ok: false, reason: 'replayRunId must be 1 to 64 letters, digits, ".", "_", ":" or "-"' };
  }
  const fields: CommonFields = {
    source: record.source as MessageSource,
    receivedAt: record.receivedAt,
    ...(record.zuoraRequestId !== undefined && { zuoraRequestId: record.zuoraRequestId as string }),
    ...(record.zuoraNotificationId !== undefined && { zuoraNotificationId: record.zuoraNotificationId as string }),
    ...(record.replayCount !== undefined && { replayCount: record.replayCount as number }),
    ...(record.replayRunId !== undefined && { replayRunId: record.replayRunId as string }),
  };
  return { ok: true, fields };
}

function validateSyncRequest(value: unknown, rule: SubscriptionIdRule): ParsedSyncRequest {
  const envelope = checkEnvelope(value);
  if (!envelope.ok) return envelope;
  const { record } = envelope;
  if (record.kind !== undefined)
    return { ok: false, reason: `a subscription message has no kind; got ${describeUntrusted(record.kind)}` };
  const id = checkSubscriptionId(record.subscriptionId, rule);
  if (!id.ok) return { ok: false, reason: `invalid subscriptionId: ${id.reason}` };
  const common = checkCommonFields(record);
  if (!common.ok) return common;
  const updatedAt = record.zuoraUpdatedAt;
  if (
    updatedAt !== undefined &&
    !(typeof updatedAt === 'string' && ISO_TIME_WITH_OFFSET.test(updatedAt) && !Number.isNaN(Date.parse(updatedAt)))
  ) {
    return {
      ok: false,
      reason: `zuoraUpdatedAt must be an ISO-8601 time with an offset or Z; got ${describeUntrusted(updatedAt)}`,
    };
  }
  const request: SyncRequest = {
    v: SYNC_REQUEST_VERSION,
    subscriptionId: id.id,
    ...common.fields,
    ...(updatedAt !== undefined && { zuoraUpdatedAt: updatedAt as string }),
  };
  return { ok: true, request };
}

function validateAccountRequest(
  value: unknown,
  rule: AccountKeyRule,
): { ok: true; request: AccountRequest } | { ok: false; reason: string } {
  const envelope = checkEnvelope(value);
  if (!envelope.ok) return envelope;
  const { record } = envelope;
  if (record.kind !== 'account')
    return { ok: false, reason: `an account message has kind "account"; got ${describeUntrusted(record.kind)}` };
  const key = checkAccountKey(record.accountKey, rule);
  if (!key.ok) return { ok: false, reason: `invalid accountKey: ${key.reason}` };
  const common = checkCommonFields(record);
  if (!common.ok) return common;
  const fanOut = checkFanOut(record.fanOut);
  if (!fanOut.ok) return fanOut;
  const request: AccountRequest = {
    v: SYNC_REQUEST_VERSION,
    kind: 'account',
    accountKey: key.key,
    ...common.fields,
    ...(fanOut.continuation !== undefined && { fanOut: fanOut.continuation }),
  };
  return { ok: true, request };
}

function checkFanOut(value: unknown): { ok: true; continuation?: FanOutContinuation } | { ok: false; reason: string } {
  if (value === undefined) return { ok: true };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, reason: `fanOut must be an object {queryLocator, accountId}; got ${describeUntrusted(value)}` };
  }
  const { queryLocator, accountId } = value as Record<string, unknown>;
  if (!(typeof queryLocator === 'string' && QUERY_LOCATOR.test(queryLocator))) {
    return {
      ok: false,
      reason: `fanOut.queryLocator must be 1 to 512 printable characters without spaces; got ${describeUntrusted(queryLocator)}`,
    };
  }
  if (!(typeof accountId === 'string' && ZUORA_ACCOUNT_ID.test(accountId))) {
    return {
      ok: false,
      reason: `fanOut.accountId must be a 32-hex Zuora account id; got ${describeUntrusted(accountId)}`,
    };
  }
  return { ok: true, continuation: { queryLocator, accountId } };
}
