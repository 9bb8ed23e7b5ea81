import { randomBytes } from 'node:crypto';
import { subscriptionRow, type SubscriptionVersion, type ZoqlObject, type ZoqlRow } from './zoql';

/**
 * What the Zuora sandbox holds and counts: the tenant's subscriptions (one record per version), its accounts and
 * their bill-to and sold-to contacts (one record each, changed in place as in Zuora), its issued
 * tokens, its open query cursors, and the faults it is set to inject. The routes (local/zuora-routes.ts) read and
 * change it; the sandbox's control methods (local/zuora-sandbox.ts) set it.
 */
export interface ZuoraFaults {
  /** 0..1 share of query/queryMore calls answered 429 with Retry-After. */
  rate429?: number;
  /** 0..1 share answered 500. */
  rate500?: number;
  /** Retry-After of injected 429s (default 1). */
  retryAfterSeconds?: number;
  /** Added to every query/queryMore answer (default 0). */
  latencyMs?: number;
  /** expires_in of issued tokens (default 3599, as Zuora). */
  tokenTtlSeconds?: number;
}

export interface ZuoraSandboxStats {
  tokenRequests: number;
  queryRequests: number;
  queryMoreRequests: number;
  /** Answers of 429 and 500 the sandbox injected (random or failNext). */
  injected429: number;
  injected500: number;
  /** Records returned over all pages. */
  recordsServed: number;
  inFlight: number;
  maxInFlight: number;
  connections: number;
}

export const ZUORA_MAX_PAGE_SIZE = 2000;

/** The contact fields the sandbox keeps: what Limio shows of a customer (name, email, address). */
export interface ContactDetails {
  readonly firstName?: string;
  readonly lastName?: string;
  readonly workEmail?: string;
  readonly address1?: string;
  readonly city?: string;
  readonly postalCode?: string;
  readonly country?: string;
}

export interface ZuoraContact extends ContactDetails {
  readonly id: string;
  readonly accountId: string;
  /** Whole seconds, ms since the epoch, like Zuora's UpdatedDate. */
  readonly updatedMs: number;
}

export interface ZuoraAccount {
  readonly id: string;
  readonly accountNumber: string;
  readonly name: string;
  readonly updatedMs: number;
  readonly billToId: string;
  readonly soldToId: string;
}

/** Each object's records as ZOQL reads them. */
export function zoqlRows(
  tenant: Pick<ZuoraTenant, 'versions' | 'accounts' | 'contacts'>,
  object: ZoqlObject,
): ZoqlRow[] {
  if (object === 'Subscription') return tenant.versions.map(subscriptionRow);
  if (object === 'Account') {
    return [...tenant.accounts.values()].map((account) => ({
      updatedMs: account.updatedMs,
      values: {
        Id: account.id,
        AccountNumber: account.accountNumber,
        Name: account.name,
        BillToId: account.billToId,
        SoldToId: account.soldToId,
      },
    }));
  }
  return [...tenant.contacts.values()].map((contact) => ({
    updatedMs: contact.updatedMs,
    values: {
      Id: contact.id,
      AccountId: contact.accountId,
      FirstName: contact.firstName,
      LastName: contact.lastName,
      WorkEmail: contact.workEmail,
      Address1: contact.address1,
      City: contact.city,
      PostalCode: contact.postalCode,
      Country: contact.country,
    },
  }));
}

export interface Cursor {
  readonly records: readonly Record<string, string>[];
  readonly id: string;
  lastUsedMs: number;
}

/** An answer failNext queued for the next call to one endpoint. */
interface ForcedAnswer {
  readonly status: number;
  readonly retryAfter?: string;
}

export interface ZuoraTenant {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly random: () => number;
  readonly now: () => number;
  /** Minutes east of UTC, as UpdatedDate is read and written. */
  readonly tenantOffsetMinutes: number;
  /** When set, every API call must carry `Zuora-Entity-Ids: {entityId}`. */
  readonly entityId: string | undefined;
  faults: Required<ZuoraFaults>;
  pageSize: number;
  /** Set by refuseAll(): every request is answered 400 from then on. */
  refusing: boolean;
  /** Access token -> expiry (ms); revoking clears it. */
  readonly tokens: Map<string, number>;
  readonly issued: string[];
  readonly versions: SubscriptionVersion[];
  /** By account id. */
  readonly accounts: Map<string, ZuoraAccount>;
  /** By contact id. */
  readonly contacts: Map<string, ZuoraContact>;
  readonly cursors: Map<string, Cursor>;
  readonly forced: Record<'api' | 'token', ForcedAnswer[]>;
  /** Requests waiting out their latency; refuseAll() ends each at once. */
  readonly latencyWaits: Set<() => void>;
  readonly stats: ZuoraSandboxStats;
}

export interface ZuoraTenantOptions extends ZuoraFaults {
  /** Generated when absent. */
  clientId?: string;
  clientSecret?: string;
  /** Records per query/queryMore page: 1..2000 (default 2000, Zuora's maximum). */
  pageSize?: number;
  /** The tenant's time zone as minutes east of UTC (default -480: Pacific standard time, -08:00). */
  tenantOffsetMinutes?: number;
  /** When set, every API call must carry `Zuora-Entity-Ids: {entityId}` (a multi-entity token). */
  entityId?: string;
  /** Injectable for deterministic tests (defaults Math.random and Date.now). */
  random?: () => number;
  now?: () => number;
}

export function createZuoraTenant(options: ZuoraTenantOptions): ZuoraTenant {
  return {
    clientId: options.clientId ?? `zuora-sandbox-${randomBytes(6).toString('hex')}`,
    clientSecret: options.clientSecret ?? randomBytes(24).toString('base64url'),
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    tenantOffsetMinutes: options.tenantOffsetMinutes ?? -480,
    entityId: options.entityId,
    faults: withFaultDefaults(options),
    pageSize: checkedPageSize(options.pageSize ?? ZUORA_MAX_PAGE_SIZE),
    refusing: false,
    tokens: new Map(),
    issued: [],
    versions: [],
    accounts: new Map(),
    contacts: new Map(),
    cursors: new Map(),
    forced: { api: [], token: [] },
    latencyWaits: new Set(),
    stats: {
      tokenRequests: 0,
      queryRequests: 0,
      queryMoreRequests: 0,
      injected429: 0,
      injected500: 0,
      recordsServed: 0,
      inFlight: 0,
      maxInFlight: 0,
      connections: 0,
    },
  };
}

export function withFaultDefaults(faults: ZuoraFaults): Required<ZuoraFaults> {
  const share = (name: string, value: number | undefined) => {
    const result = value ?? 0;
    if (!(result >= 0 && result <= 1)) throw new RangeError(`${name} must be between 0 and 1, got ${result}`);
    return result;
  };
  const result = {
    rate429: share('rate429', faults.rate429),
    rate500: share('rate500', faults.rate500),
    retryAfterSeconds: faults.retryAfterSeconds ?? 1,
    latencyMs: Math.max(0, faults.latencyMs ?? 0),
    tokenTtlSeconds: faults.tokenTtlSeconds ?? 3599,
  };
  if (result.rate429 + result.rate500 > 1) throw new RangeError('rate429 + rate500 must not exceed 1');
  return result;
}

export function checkedPageSize(pageSize: number): number {
  if (!(Number.isInteger(pageSize) && pageSize >= 1 && pageSize <= ZUORA_MAX_PAGE_SIZE)) {
    throw new RangeError(`pageSize must be a whole number from 1 to ${ZUORA_MAX_PAGE_SIZE}, got ${pageSize}`);
  }
  return pageSize;
}
