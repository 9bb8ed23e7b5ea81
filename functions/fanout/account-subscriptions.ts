import type { ZuoraClient, ZuoraQueryOptions } from '../sweep/zuora-client';
import { ZuoraApiError } from '../sweep/zuora-answers';

/**
 * An account's subscriptions, read from Zuora by ZOQL: 2,000 records a page where GET
 * /v1/subscriptions/accounts/{key} gives 40, and one query returns every version, which the caller folds by
 * Name. An account number is first looked up to its Id (Subscription rows carry AccountId only).
 */

/** Zuora object ids: what the fan-out puts in an AccountId filter. */
const ZUORA_OBJECT_ID = /^[0-9a-f]{32}$/;

/**
 * A ZOQL string literal. The account key rule already limits keys to letters, digits, "-" and "_"; escaping
 * here too means a looser rule one day cannot turn a key into more query.
 */
export function zoqlQuoted(value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new RangeError('a ZOQL value cannot hold control characters');
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export function isZuoraObjectId(key: string): boolean {
  return ZUORA_OBJECT_ID.test(key);
}

export function accountLookupQuery(accountNumber: string): string {
  return `select Id from Account where AccountNumber = ${zoqlQuoted(accountNumber)}`;
}

function accountByIdQuery(accountId: string): string {
  return `select Id from Account where Id = ${zoqlQuoted(accountId)}`;
}

/**
 * Whether Zuora has an account with this Id: asked only when an Id's subscription query came back empty, to tell
 * an unknown account (to the DLQ) from one without subscriptions (nothing to do), at one request in that case only.
 */
export async function accountExists(
  zuora: Pick<ZuoraClient, 'queryPage'>,
  accountId: string,
  options: ZuoraQueryOptions,
): Promise<boolean> {
  const page = await zuora.queryPage({ queryString: accountByIdQuery(accountId) }, options);
  return page.records.some((record) => record.Id === accountId);
}

export function subscriptionsQuery(accountId: string): string {
  return `select Name from Subscription where AccountId = ${zoqlQuoted(accountId)}`;
}

/** The account's Id: the key itself when it is one, else the Id of the account with that number (undefined: none). */
export async function resolveAccountId(
  zuora: Pick<ZuoraClient, 'queryPage'>,
  accountKey: string,
  options: ZuoraQueryOptions,
): Promise<string | undefined> {
  if (isZuoraObjectId(accountKey)) return accountKey;
  const page = await zuora.queryPage({ queryString: accountLookupQuery(accountKey) }, options);
  const id = page.records
    .map((record) => record.Id)
    .find((value): value is string => typeof value === 'string' && isZuoraObjectId(value));
  return id;
}

export interface SubscriptionPage {
  /** Subscription numbers of this page, each version's (not yet folded). */
  readonly names: readonly string[];
  /** Present while more pages remain. */
  readonly queryLocator?: string;
  /** The whole result's count, as Zuora reports it on each page. */
  readonly records: number;
}

/** Where to read: the first page of an account's subscriptions, or the page after a queryLocator. */
export type PageStart = { readonly accountId: string } | { readonly queryLocator: string };

export async function readSubscriptionPage(
  zuora: Pick<ZuoraClient, 'queryPage'>,
  start: PageStart,
  options: ZuoraQueryOptions,
): Promise<SubscriptionPage> {
  const page = await zuora.queryPage(
    'accountId' in start ? { queryString: subscriptionsQuery(start.accountId) } : { queryLocator: start.queryLocator },
    options,
  );
  const names = page.records
    .map((record) => record.Name)
    .filter((name): name is string => typeof name === 'string' && name !== '');
  return {
    names,
    records: page.records.length,
    ...(page.queryLocator !== undefined && { queryLocator: page.queryLocator }),
  };
}

/**
 * Zuora refused a queryLocator (expired after 15 minutes unused, or unknown): a 4xx to queryMore. The fan-out
 * then reads the account again from its first page.
 */
export function isRefusedLocator(error: unknown): boolean {
  return (
    error instanceof ZuoraApiError &&
    error.kind === 'refused' &&
    error.httpStatus !== undefined &&
    error.httpStatus >= 400 &&
    error.httpStatus < 500
  );
}
