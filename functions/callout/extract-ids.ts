import { checkAccountKey, DEFAULT_ACCOUNT_KEY_RULE, type AccountKeyRule } from '../shared/account-key';
import { checkSubscriptionId, DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';
import { bodyKind, bodyText, MAX_DOCUMENT_DEPTH as MAX_DEPTH, parseForm, parseXml, readsBody } from './callout-body';
import { mediaType, type CalloutRequest } from './request';

/**
 * Finds the subscriptions and accounts a callout names, wherever Zuora's template put them: a JSON body, a
 * form body, query parameters or an XML body. A callout is all or nothing: one unreadable or invalid id
 * refuses the whole callout, so a broken template is noticed instead of half-working.
 *
 * Field names are matched without regard to case, "_", "-" or "." (subscriptionNumber, SubscriptionNumber,
 * subscription_number and Subscription.Name all match; AccountNumber, Account.AccountNumber and Account.Number
 * too). When a callout carries both a subscription number and an object id, the number wins: a subscription keeps
 * its number across versions, its object id changes. Accounts the same way: an account number and its AccountId
 * name one account, which must be fanned out once.
 *
 * The subscription's UpdatedDate (Subscription.UpdatedDate, UpdatedDate) is taken when the callout names exactly
 * one subscription and one readable time: it says which change the callout is about. An unreadable or ambiguous
 * one is left out rather than refused: the callout is still a good reason to sync.
 */
export interface ExtractOptions {
  /** CALLOUT_ID_FIELD: a dot path such as "Data.Subscription.Name" (arrays are walked through). Looked at first. */
  readonly idField?: string;
  /** Subscription ids and account keys together (CALLOUT_MAX_IDS). */
  readonly maxIds: number;
  readonly rule?: SubscriptionIdRule;
  readonly accountRule?: AccountKeyRule;
}

export type ExtractionRefusal = 'unsupported-media-type' | 'malformed-body' | 'no-ids' | 'invalid-id' | 'too-many-ids';

export type Extraction =
  | {
      readonly ok: true;
      /** Subscription ids, for the main queue. */
      readonly ids: readonly string[];
      /** Account numbers or account ids, for the fan-out queue. */
      readonly accountKeys: readonly string[];
      /** The named subscription's UpdatedDate as an ISO time in UTC, when there is exactly one of each. */
      readonly zuoraUpdatedAt?: string;
    }
  | {
      readonly ok: false;
      readonly status: 400 | 413 | 415;
      readonly refusal: ExtractionRefusal;
      readonly message: string;
    };

/** Fields holding subscription numbers (normalised: lower case, no "_", "-", "."). */
const NUMBER_FIELDS = new Set(['subscriptionnumber', 'subscriptionnumbers', 'subscriptionname', 'subscriptionnames']);
/** Fields holding Zuora object ids; used only when no number is present. */
const OBJECT_ID_FIELDS = new Set(['subscriptionid', 'subscriptionids']);
/** Containers whose own name / number / id fields are the subscription's. */
const CONTAINER_FIELDS = new Set(['subscription', 'subscriptions']);
const CONTAINER_NUMBER_FIELDS = new Set(['name', 'number', ...NUMBER_FIELDS]);
const CONTAINER_ID_FIELDS = new Set(['id', ...OBJECT_ID_FIELDS]);
/** The subscription's UpdatedDate: flat (Subscription.UpdatedDate, UpdatedDate) or in a subscription container. */
const UPDATED_DATE_FIELDS = new Set(['updateddate', 'subscriptionupdateddate']);
const CONTAINER_UPDATED_DATE_FIELDS = new Set(['updateddate']);

/** Fields holding account numbers; Account.Number normalises to accountnumber. */
const ACCOUNT_NUMBER_FIELDS = new Set(['accountnumber', 'accountnumbers', 'accountaccountnumber']);
/** Fields holding account ids (32 hex); used only when no account number is present. Account.Id normalises to accountid. */
const ACCOUNT_ID_FIELDS = new Set(['accountid', 'accountids', 'accountaccountid']);
/** Containers whose own number / id fields are the account's (never its name: an account's name is "Acme Ltd"). */
const ACCOUNT_CONTAINER_FIELDS = new Set(['account', 'accounts']);
const ACCOUNT_CONTAINER_NUMBER_FIELDS = new Set(['number', ...ACCOUNT_NUMBER_FIELDS]);
const ACCOUNT_CONTAINER_ID_FIELDS = new Set(['id', ...ACCOUNT_ID_FIELDS]);

const FIELDS_LOOKED_AT = [
  'subscriptionNumber(s)',
  'subscriptionName(s)',
  'Subscription.Name',
  'subscriptions[].subscriptionNumber|name|number',
  'subscriptionId(s)',
  'subscription.id',
  'accountNumber(s)',
  'Account.AccountNumber',
  'Account.Number',
  'accountId(s)',
  'Account.Id',
] as const;

type Tier = 'configured' | 'number' | 'objectId' | 'accountNumber' | 'accountId' | 'updatedDate';

class Candidates {
  readonly byTier: Record<Tier, unknown[]> = {
    configured: [],
    number: [],
    objectId: [],
    accountNumber: [],
    accountId: [],
    updatedDate: [],
  };
  /** Blank values are skipped (a template whose merge field was empty); anything else is judged later. */
  add(tier: Tier, value: unknown): void {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === null || item === undefined || (typeof item === 'string' && item.trim() === '')) continue;
      this.byTier[tier].push(typeof item === 'string' ? item.trim() : item);
    }
  }
  /** The subscription ids: the configured field's, else the numbers, else the object ids. */
  chosen(): unknown[] {
    for (const tier of ['configured', 'number', 'objectId'] as const)
      if (this.byTier[tier].length > 0) return this.byTier[tier];
    return [];
  }
  /** The account keys: the numbers, else the ids. */
  chosenAccounts(): unknown[] {
    return this.byTier.accountNumber.length > 0 ? this.byTier.accountNumber : this.byTier.accountId;
  }
}

export function extractSubscriptionIds(request: CalloutRequest, options: ExtractOptions): Extraction {
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  const accountRule = options.accountRule ?? DEFAULT_ACCOUNT_KEY_RULE;
  const candidates = new Candidates();

  collectParameters(request.query, options.idField, candidates);

  const hasBody = readsBody(request);
  if (hasBody) {
    const bodyResult = collectFromBody(request, options.idField, candidates);
    if (bodyResult !== undefined) return bodyResult;
  }

  const chosen = candidates.chosen();
  const chosenAccounts = candidates.chosenAccounts();
  if (chosen.length === 0 && chosenAccounts.length === 0) {
    const looked = [...(options.idField ? [options.idField] : []), ...FIELDS_LOOKED_AT].join(', ');
    return {
      ok: false,
      status: 400,
      refusal: 'no-ids',
      message: `no subscription id or account key found; looked at ${looked} in the query string${hasBody ? ' and the body' : ''}`,
    };
  }

  const ids = distinctChecked(chosen, (value) => {
    const checked = checkSubscriptionId(value, rule);
    return checked.ok ? { ok: true, value: checked.id } : checked;
  });
  if (!ids.ok) return { ok: false, status: 400, refusal: 'invalid-id', message: ids.reason };
  const accountKeys = distinctChecked(chosenAccounts, (value) => {
    const checked = checkAccountKey(value, accountRule);
    return checked.ok ? { ok: true, value: checked.key } : checked;
  });
  if (!accountKeys.ok) return { ok: false, status: 400, refusal: 'invalid-id', message: accountKeys.reason };
  const total = ids.values.length + accountKeys.values.length;
  if (total > options.maxIds) {
    return {
      ok: false,
      status: 413,
      refusal: 'too-many-ids',
      message: `${total} subscription ids and account keys in one callout; at most ${options.maxIds} are accepted (CALLOUT_MAX_IDS)`,
    };
  }
  const updatedAt = ids.values.length === 1 ? oneChangeTime(candidates.byTier.updatedDate) : undefined;
  return {
    ok: true,
    ids: ids.values,
    accountKeys: accountKeys.values,
    ...(updatedAt !== undefined && { zuoraUpdatedAt: updatedAt }),
  };
}

type Checked = { ok: true; value: string } | { ok: false; reason: string };

/** Each value checked by the rule (numbers as their text), in order, repeats dropped; the first refusal refuses all. */
function distinctChecked(
  values: readonly unknown[],
  check: (value: unknown) => Checked,
): { ok: true; values: string[] } | { ok: false; reason: string } {
  const result: string[] = [];
  const seen = new Set<string>();
  for (const value of values) {
    const checked = check(typeof value === 'number' ? String(value) : value);
    if (!checked.ok) return checked;
    if (!seen.has(checked.value)) {
      seen.add(checked.value);
      result.push(checked.value);
    }
  }
  return { ok: true, values: result };
}

/** The one change time the callout names, if its readable values agree; several different ones name no one change. */
function oneChangeTime(values: readonly unknown[]): string | undefined {
  const times = new Set(values.map(zuoraTime).filter((time): time is string => time !== undefined));
  return times.size === 1 ? [...times][0] : undefined;
}

const ZUORA_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z|[+-]\d{2}:?\d{2})$/;

/**
 * A Zuora time as an ISO time in UTC: Zuora writes its tenant's offset (2026-11-24T10:03:12.000-08:00, or -0800).
 * A time without an offset is not read: the tenant's zone is not known here, and a guess could claim a later change.
 */
export function zuoraTime(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ZUORA_TIME.exec(value.trim());
  if (!match) return undefined;
  const offset = match[2]!.length === 5 ? `${match[2]!.slice(0, 3)}:${match[2]!.slice(3)}` : match[2]!;
  // Fractions beyond milliseconds are cut: Date reads three digits.
  const [seconds, fraction] = match[1]!.split('.');
  const time = Date.parse(
    `${seconds}${fraction === undefined ? '' : `.${fraction.slice(0, 3).padEnd(3, '0')}`}${offset}`,
  );
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Names of the query parameters extraction takes ids from (those with a non-blank value), as sent. */
export function queryParametersWithIds(
  query: Readonly<Record<string, readonly string[]>>,
  idField: string | undefined,
): string[] {
  return Object.entries(query)
    .filter(
      ([name, values]) =>
        parameterTier(name, idField) !== undefined &&
        values.some((value) => value.split(',').some((part) => part.trim() !== '')),
    )
    .map(([name]) => name);
}

function collectFromBody(
  request: CalloutRequest,
  idField: string | undefined,
  candidates: Candidates,
): Extraction | undefined {
  const kind = bodyKind(request);
  const text = bodyText(request);
  switch (kind) {
    case 'unsupported':
      return {
        ok: false,
        status: 415,
        refusal: 'unsupported-media-type',
        message: `content type ${mediaType(request)} is not supported; send application/json, application/x-www-form-urlencoded or application/xml`,
      };
    case 'form':
      collectParameters(parseForm(text), idField, candidates);
      return undefined;
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return { ok: false, status: 400, refusal: 'malformed-body', message: 'body is not valid JSON' };
      }
      collectFromDocument(value, idField, candidates);
      return undefined;
    }
    case 'xml': {
      const document = parseXml(text);
      if (document === undefined)
        return { ok: false, status: 400, refusal: 'malformed-body', message: 'body is not well-formed XML' };
      collectFromDocument(document, idField, candidates);
      return undefined;
    }
  }
}

function collectParameters(
  parameters: Readonly<Record<string, readonly string[]>>,
  idField: string | undefined,
  candidates: Candidates,
): void {
  for (const [name, values] of Object.entries(parameters)) {
    const tier = parameterTier(name, idField);
    if (tier === 'updatedDate') candidates.add(tier, values);
    // API Gateway HTTP APIs join repeated parameters with ","; ids never contain one.
    else if (tier !== undefined)
      candidates.add(
        tier,
        values.flatMap((value) => value.split(',')),
      );
  }
}

/**
 * What a form or query parameter of this name holds, if anything extraction reads: an HMAC callout must sign every
 * such query parameter (verify.ts), the UpdatedDate included, since it can mark a change as read.
 */
function parameterTier(name: string, idField: string | undefined): Tier | undefined {
  const key = normaliseName(name);
  if (idField !== undefined && (name === idField || key === normaliseName(idField))) return 'configured';
  if (NUMBER_FIELDS.has(key) || CONTAINER_FIELDS.has(key)) return 'number';
  if (OBJECT_ID_FIELDS.has(key)) return 'objectId';
  if (ACCOUNT_NUMBER_FIELDS.has(key) || ACCOUNT_CONTAINER_FIELDS.has(key)) return 'accountNumber';
  if (ACCOUNT_ID_FIELDS.has(key)) return 'accountId';
  if (UPDATED_DATE_FIELDS.has(key)) return 'updatedDate';
  return undefined;
}

function collectFromDocument(document: unknown, idField: string | undefined, candidates: Candidates): void {
  if (idField !== undefined) candidates.add('configured', valuesAtPath(document, idField.split('.')));
  walk(document, 0, candidates);
}

function walk(value: unknown, depth: number, candidates: Candidates): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    // A top-level list of ids: ["A-S00000271", "A-S00000272"].
    if (depth === 0) for (const item of value) if (typeof item === 'string') candidates.add('number', item);
    for (const item of value) walk(item, depth + 1, candidates);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (NUMBER_FIELDS.has(key)) candidates.add('number', scalarsOf(child));
    else if (OBJECT_ID_FIELDS.has(key)) candidates.add('objectId', scalarsOf(child));
    else if (CONTAINER_FIELDS.has(key)) collectContainer(child, depth + 1, candidates);
    else if (ACCOUNT_NUMBER_FIELDS.has(key)) candidates.add('accountNumber', scalarsOf(child));
    else if (ACCOUNT_ID_FIELDS.has(key)) candidates.add('accountId', scalarsOf(child));
    else if (ACCOUNT_CONTAINER_FIELDS.has(key)) collectAccountContainer(child, depth + 1, candidates);
    else if (UPDATED_DATE_FIELDS.has(key)) candidates.add('updatedDate', scalarsOf(child));
    else walk(child, depth + 1, candidates);
  }
}

/** `account` / `accounts`: a string, a list of strings, or objects whose number / id is the account's. */
function collectAccountContainer(value: unknown, depth: number, candidates: Candidates): void {
  if (depth > MAX_DEPTH || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) collectAccountContainer(item, depth + 1, candidates);
    return;
  }
  if (typeof value !== 'object') {
    candidates.add('accountNumber', value);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (ACCOUNT_CONTAINER_NUMBER_FIELDS.has(key)) candidates.add('accountNumber', scalarsOf(child));
    else if (ACCOUNT_CONTAINER_ID_FIELDS.has(key)) candidates.add('accountId', scalarsOf(child));
    // The account's own UpdatedDate is not the subscription's: left out.
    else if (!UPDATED_DATE_FIELDS.has(key)) walk(child, depth + 1, candidates);
  }
}

/** `subscription` / `subscriptions`: a string, a list of strings, or objects whose name / number / id is the subscription's. */
function collectContainer(value: unknown, depth: number, candidates: Candidates): void {
  if (depth > MAX_DEPTH || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) collectContainer(item, depth + 1, candidates);
    return;
  }
  if (typeof value !== 'object') {
    candidates.add('number', value);
    return;
  }
  for (const [name, child] of Object.entries(value)) {
    const key = normaliseName(name);
    if (CONTAINER_NUMBER_FIELDS.has(key)) candidates.add('number', scalarsOf(child));
    else if (CONTAINER_ID_FIELDS.has(key)) candidates.add('objectId', scalarsOf(child));
    else if (CONTAINER_UPDATED_DATE_FIELDS.has(key)) candidates.add('updatedDate', scalarsOf(child));
    else walk(child, depth + 1, candidates);
  }
}

/** The values a field holds: a scalar, or a list of scalars. Objects are reported as what they are. */
function scalarsOf(value: unknown): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => (Array.isArray(item) ? [item] : scalarsOf(item)));
  if (value !== null && typeof value === 'object') {
    // An XML element with attributes keeps its text under "#text".
    const text = (value as Record<string, unknown>)['#text'];
    return text !== undefined ? [text] : [value];
  }
  return [value];
}

function valuesAtPath(value: unknown, path: readonly string[], depth = 0): unknown[] {
  if (depth > MAX_DEPTH) return [];
  if (Array.isArray(value)) return value.flatMap((item) => valuesAtPath(item, path, depth + 1));
  if (path.length === 0) return scalarsOf(value);
  if (value === null || typeof value !== 'object') return [];
  const [head, ...rest] = path;
  const record = value as Record<string, unknown>;
  const key = Object.hasOwn(record, head!)
    ? head!
    : Object.keys(record).find((candidate) => normaliseName(candidate) === normaliseName(head!));
  return key === undefined ? [] : valuesAtPath(record[key], rest, depth + 1);
}

export function normaliseName(name: string): string {
  return name.toLowerCase().replace(/[-_.]/g, '');
}
