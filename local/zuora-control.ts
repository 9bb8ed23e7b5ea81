import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  isJsonContentType,
  MAX_CONTROL_BODY_BYTES,
  readJsonObject,
  refusedAsCrossSite,
  sendJson,
} from './control-request';
import type { ContactDetails, ZuoraSandbox } from './zuora-sandbox';

/**
 * Changes subscriptions, accounts and contacts in the local Zuora sandbox WITHOUT a callout, the way a disabled
 * workflow or a lost notification leaves a change in Zuora that the bridge never hears of (the next sweep after it
 * settles finds a subscription's), or the way a customer's new address changes no subscription at all:
 *   POST /_local/zuora/touch {"subscriptions": ["A-S00000271", …]} -> a new version of each, UpdatedDate now
 *   … {"subscriptions": [...], "account": "A00000001"} -> those versions on that account (created if new)
 *   … {"accounts": ["A00000001"]} -> the account's UpdatedDate now (created if new, with a bill-to contact)
 *   … {"contacts": [{"account": "A00000001", "role": "billTo", "address1": "2 New Street", …}]} -> the contact changed
 * Any of the three keys, together or alone.
 * Served on the runtime's own HTTP server (127.0.0.1 only); cross-site requests are refused as
 * control-request.ts explains.
 */
const LOCAL_ZUORA_PATH = '/_local/zuora';
const LOCAL_ZUORA_TOUCH_PATH = `${LOCAL_ZUORA_PATH}/touch`;

/** Names per request: enough for a demonstration, small enough for the body limit. */
const MAX_TOUCHED_SUBSCRIPTIONS = 100;
const MAX_NAME_LENGTH = 100;

export interface LocalZuoraControlOptions {
  /** Absent when the runtime sweeps a real tenant (ZUORA_BASE_URL): nothing local to change then. */
  readonly sandbox?: ZuoraSandbox;
  /** The sandbox's time zone, for the answer's UpdatedDate (as Zuora shows it). */
  readonly describeUpdatedDate?: (updatedMs: number) => string;
  /** Each subscription touched, for the runtime's output. */
  readonly onTouched?: (names: readonly string[]) => void;
  /** Each account or contact changed, described for the runtime's output ("contact (bill-to) of A00000001"). */
  readonly onAccountsTouched?: (changes: readonly string[]) => void;
}

/** Handles the request if it is for the Zuora control endpoint; returns false (and touches nothing) otherwise. */
export function handleLocalZuoraRequest(
  request: IncomingMessage,
  response: ServerResponse,
  options: LocalZuoraControlOptions,
): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== LOCAL_ZUORA_PATH && !path.startsWith(`${LOCAL_ZUORA_PATH}/`)) return false;
  void answer(request, response, path, options).catch((error: unknown) => {
    sendJson(response, 500, { message: error instanceof Error ? error.message : String(error) });
  });
  return true;
}

async function answer(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  options: LocalZuoraControlOptions,
): Promise<void> {
  if (refusedAsCrossSite(request, response, 'change the local Zuora sandbox')) return;
  if (path !== LOCAL_ZUORA_TOUCH_PATH)
    return sendJson(response, 404, { message: `use POST ${LOCAL_ZUORA_TOUCH_PATH}` });
  if (request.method !== 'POST') return sendJson(response, 405, { message: `use POST ${LOCAL_ZUORA_TOUCH_PATH}` });
  if (!isJsonContentType(request.headers['content-type']))
    return sendJson(response, 415, { message: 'expected Content-Type: application/json' });
  const { sandbox } = options;
  if (sandbox === undefined) {
    return sendJson(response, 409, {
      message:
        'this runtime sweeps the Zuora tenant at ZUORA_BASE_URL, not the local sandbox: change the subscription in that tenant',
    });
  }
  const body = await readJsonObject(request);
  const touch = parseTouchRequest(body);
  if (typeof touch === 'string') return sendJson(response, 400, { message: touch });
  const updatedDate = (updatedMs: number) =>
    options.describeUpdatedDate?.(updatedMs) ?? new Date(updatedMs).toISOString();
  const touched = touch.subscriptions.map((name) =>
    sandbox.touch(name, undefined, touch.account !== undefined ? { account: touch.account } : {}),
  );
  const accounts = touch.accounts.map((key) => sandbox.touchAccount(key));
  const contacts = touch.contacts.map(({ account, role, details }) => ({
    account,
    role,
    contact: sandbox.touchContact(account, details, { role }),
  }));
  if (touch.subscriptions.length > 0) options.onTouched?.(touch.subscriptions);
  const accountChanges = [
    ...accounts.map((account) => `account ${account.accountNumber}`),
    ...contacts.map(({ account, role }) => `contact (${role === 'billTo' ? 'bill-to' : 'sold-to'}) of ${account}`),
  ];
  if (accountChanges.length > 0) options.onAccountsTouched?.(accountChanges);
  sendJson(response, 200, {
    touched: touched.map((version) => ({
      subscription: version.name,
      updatedDate: updatedDate(version.updatedMs),
      ...(version.accountId !== undefined && { accountId: version.accountId }),
    })),
    ...(accounts.length > 0 && {
      accounts: accounts.map((account) => ({
        accountNumber: account.accountNumber,
        accountId: account.id,
        updatedDate: updatedDate(account.updatedMs),
      })),
    }),
    ...(contacts.length > 0 && {
      contacts: contacts.map(({ account, role, contact }) => {
        const { updatedMs, id, accountId, ...details } = contact;
        return { account, role, contactId: id, accountId, updatedDate: updatedDate(updatedMs), ...details };
      }),
    }),
  });
}

export interface TouchRequest {
  readonly subscriptions: readonly string[];
  /** The account the touched subscriptions are put on. */
  readonly account?: string;
  readonly accounts: readonly string[];
  readonly contacts: readonly {
    readonly account: string;
    readonly role: 'billTo' | 'soldTo';
    readonly details: ContactDetails;
  }[];
}

const CONTACT_FIELDS = ['firstName', 'lastName', 'workEmail', 'address1', 'city', 'postalCode', 'country'] as const;
/** Account numbers or ids as the sandbox takes them: the account key rule's characters. */
const ACCOUNT_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/** What a touch request asks for, or what is wrong with it. */
export function parseTouchRequest(body: Record<string, unknown> | undefined): TouchRequest | string {
  const usage = `expected {"subscriptions": ["A-S00000271", …], "account"?: "A00000001"}, {"accounts": ["A00000001", …]} or {"contacts": [{"account": "A00000001", "role"?: "billTo" | "soldTo", "address1"?: "…", ${CONTACT_FIELDS.filter(
    (field) => field !== 'address1',
  )
    .map((field) => `"${field}"?`)
    .join(', ')}}]}, in at most ${MAX_CONTROL_BODY_BYTES} bytes and ${MAX_TOUCHED_SUBSCRIPTIONS} of each`;
  if (body === undefined || !['subscriptions', 'accounts', 'contacts'].some((key) => body[key] !== undefined))
    return usage;
  const subscriptions = body.subscriptions === undefined ? [] : touchRequestNames(body);
  if (typeof subscriptions === 'string') return subscriptions;
  const account = body.account;
  if (account !== undefined && !(typeof account === 'string' && ACCOUNT_KEY.test(account))) return usage;
  const accounts = body.accounts ?? [];
  if (
    !Array.isArray(accounts) ||
    accounts.length > MAX_TOUCHED_SUBSCRIPTIONS ||
    !accounts.every((key) => typeof key === 'string' && ACCOUNT_KEY.test(key))
  )
    return usage;
  const contactList = body.contacts ?? [];
  if (!Array.isArray(contactList) || contactList.length > MAX_TOUCHED_SUBSCRIPTIONS) return usage;
  const contacts: TouchRequest['contacts'][number][] = [];
  for (const entry of contactList as unknown[]) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return usage;
    const record = entry as Record<string, unknown>;
    if (!(typeof record.account === 'string' && ACCOUNT_KEY.test(record.account))) return usage;
    const role = record.role ?? 'billTo';
    if (role !== 'billTo' && role !== 'soldTo') return usage;
    const details: Record<string, string> = {};
    for (const field of CONTACT_FIELDS) {
      const value = record[field];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value.length > MAX_NAME_LENGTH) return usage;
      details[field] = value;
    }
    contacts.push({ account: record.account, role, details });
  }
  return {
    subscriptions,
    ...(typeof account === 'string' && { account }),
    accounts: [...new Set(accounts as string[])],
    contacts,
  };
}

/** The subscription names of a touch request, or what is wrong with it. */
function touchRequestNames(body: Record<string, unknown> | undefined): string[] | string {
  const usage = `expected {"subscriptions": ["A-S00000271", …]}: 1 to ${MAX_TOUCHED_SUBSCRIPTIONS} names of at most ${MAX_NAME_LENGTH} characters, in at most ${MAX_CONTROL_BODY_BYTES} bytes`;
  const list = body?.subscriptions;
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_TOUCHED_SUBSCRIPTIONS) return usage;
  const names = list.map((name) => (typeof name === 'string' ? name.trim() : ''));
  if (names.some((name) => name === '' || name.length > MAX_NAME_LENGTH)) return usage;
  return [...new Set(names)];
}
