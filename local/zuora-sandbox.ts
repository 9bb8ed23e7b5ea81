import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { send, serveSandbox } from './sandbox-http';
import type { SubscriptionVersion } from './zoql';
import { handleZuoraRequest } from './zuora-routes';
import {
  checkedPageSize,
  createZuoraTenant,
  withFaultDefaults,
  type ContactDetails,
  type ZuoraAccount,
  type ZuoraContact,
  type ZuoraFaults,
  type ZuoraSandboxStats,
  type ZuoraTenant,
  type ZuoraTenantOptions,
} from './zuora-tenant';

/**
 * A stand-in for a Zuora tenant's REST API, as far as the reconciliation sweep uses it, faithful to
 * ../shared/zuora-api.md: the OAuth client-credentials token at /oauth/token, ZOQL over POST /v1/action/query
 * and /v1/action/queryMore (pages of at most 2000 records, `size` the whole result's count, a queryLocator
 * while `done` is false), UpdatedDate returned in the tenant's time zone with its offset, a new version (record)
 * per change of a subscription, lower-case keywords only, and 429/500 on demand. It counts what it serves so
 * tests and benchmarks can check the sweep's manners (token reuse, one request at a time, pages) at the server.
 *
 * The sandbox's parts: its tenant state and faults (local/zuora-tenant.ts), its routes (local/zuora-routes.ts)
 * and the ZOQL subset they understand (local/zoql.ts).
 */

// The sweep's tests import the ZOQL helpers and the sandbox's types from here, their one entry to it.
export { parseZoql, parseZoqlDateTime, subscriptionRow, tenantDateTime } from './zoql';
export type { ContactDetails } from './zuora-tenant';

export interface ZuoraSandboxOptions extends ZuoraTenantOptions {
  /** 0 / undefined = ephemeral. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface ZuoraSandbox {
  /** http://127.0.0.1:PORT: the tenant's REST root. */
  readonly baseUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly stats: ZuoraSandboxStats;
  setFaults(faults: ZuoraFaults): void;
  setPageSize(pageSize: number): void;
  /** The next `count` API calls (or token requests) get this status, whatever the random faults say. */
  failNext(
    status: 429 | 500 | 503,
    options?: { count?: number; retryAfter?: string; endpoint?: 'api' | 'token' },
  ): void;
  /**
   * Changes a subscription in Zuora without any callout: a new version with UpdatedDate `at` (default now),
   * the way an amendment, an order or a workflow would. Creates the subscription when the name is new.
   */
  touch(name: string, at?: Date | number, options?: { account?: string }): SubscriptionVersion;
  versions(): readonly SubscriptionVersion[];
  /**
   * The account with this number (or id), created with a bill-to contact that is also its sold-to when it is new.
   * `at` (default now) is the new account's UpdatedDate; an existing account is returned unchanged.
   */
  account(key: string, at?: Date | number): ZuoraAccount;
  /** Changes the account itself (its UpdatedDate moves to `at`, default now), creating it when new. */
  touchAccount(key: string, at?: Date | number): ZuoraAccount;
  /**
   * Changes a contact of the account (bill-to by default) the way a customer's new address or email would: its
   * fields as given, its UpdatedDate `at` (default now). No Subscription changes, as in Zuora.
   */
  touchContact(
    accountKey: string,
    details?: ContactDetails,
    options?: { role?: 'billTo' | 'soldTo'; at?: Date | number },
  ): ZuoraContact;
  accounts(): readonly ZuoraAccount[];
  contacts(): readonly ZuoraContact[];
  /** Every issued token answers 401 from now on. */
  revokeTokens(): void;
  /** Every access token issued so far (lets tests prove no token reaches a log). */
  issuedTokens(): string[];
  /**
   * From now on every request (one waiting out its latency included) is answered 400 at once, which a Zuora
   * client does not retry: a sweep under way ends within a request instead of retrying against a closed port
   * for its whole backoff. The local runtime calls it before it stops the sweep.
   */
  refuseAll(): void;
  stop(): Promise<void>;
}

export async function startZuoraSandbox(options: ZuoraSandboxOptions = {}): Promise<ZuoraSandbox> {
  const host = options.host ?? '127.0.0.1';
  const tenant = createZuoraTenant(options);
  const { stats } = tenant;

  const sandbox: { -readonly [K in keyof ZuoraSandbox]: ZuoraSandbox[K] } = {
    baseUrl: '',
    clientId: tenant.clientId,
    clientSecret: tenant.clientSecret,
    stats,
    setFaults(next) {
      tenant.faults = withFaultDefaults({ ...tenant.faults, ...next });
    },
    setPageSize(next) {
      tenant.pageSize = checkedPageSize(next);
    },
    failNext(status, { count = 1, retryAfter, endpoint = 'api' } = {}) {
      for (let i = 0; i < count; i++)
        tenant.forced[endpoint].push({ status, ...(retryAfter !== undefined && { retryAfter }) });
    },
    touch(name, at, { account } = {}) {
      // A new version stays on its subscription's account unless it is moved to another.
      const accountId =
        account !== undefined
          ? accountOf(tenant, account, at).id
          : [...tenant.versions].reverse().find((version) => version.name === name)?.accountId;
      const version = {
        id: zuoraId(),
        name,
        updatedMs: wholeSeconds(tenant, at),
        ...(accountId !== undefined && { accountId }),
      };
      tenant.versions.push(version);
      return version;
    },
    versions: () => [...tenant.versions],
    account: (key, at) => accountOf(tenant, key, at),
    touchAccount(key, at) {
      const account = { ...accountOf(tenant, key, at), updatedMs: wholeSeconds(tenant, at) };
      tenant.accounts.set(account.id, account);
      return account;
    },
    touchContact(accountKey, details = {}, { role = 'billTo', at } = {}) {
      const account = accountOf(tenant, accountKey, at);
      const contactId = role === 'billTo' ? account.billToId : account.soldToId;
      const contact = {
        ...tenant.contacts.get(contactId)!,
        ...definedDetails(details),
        updatedMs: wholeSeconds(tenant, at),
      };
      tenant.contacts.set(contactId, contact);
      return contact;
    },
    accounts: () => [...tenant.accounts.values()],
    contacts: () => [...tenant.contacts.values()],
    revokeTokens() {
      tenant.tokens.clear();
    },
    issuedTokens: () => [...tenant.issued],
    refuseAll() {
      tenant.refusing = true;
      for (const endWait of tenant.latencyWaits) endWait();
    },
    stop: async () => undefined,
  };

  const server = createServer((request, response) => {
    stats.inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    response.once('close', () => {
      stats.inFlight -= 1;
    });
    handleZuoraRequest(tenant, request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { message: `sandbox error: ${(error as Error).message}` });
    });
  });
  const served = await serveSandbox(server, { port: options.port, host, name: 'Zuora sandbox', stats });
  sandbox.baseUrl = served.baseUrl;
  sandbox.stop = served.stop;
  return sandbox;
}

function zuoraId(): string {
  return randomBytes(16).toString('hex');
}

/** Zuora's UpdatedDate has whole seconds. */
function wholeSeconds(tenant: ZuoraTenant, at: Date | number | undefined): number {
  const atMs = at === undefined ? tenant.now() : typeof at === 'number' ? at : at.getTime();
  return Math.floor(atMs / 1000) * 1000;
}

/** By account number or id; a new number makes a new account with one contact as both bill-to and sold-to. */
function accountOf(tenant: ZuoraTenant, key: string, at: Date | number | undefined): ZuoraAccount {
  const known =
    tenant.accounts.get(key) ?? [...tenant.accounts.values()].find((account) => account.accountNumber === key);
  if (known !== undefined) return known;
  const updatedMs = wholeSeconds(tenant, at);
  const id = zuoraId();
  const contact: ZuoraContact = {
    id: zuoraId(),
    accountId: id,
    updatedMs,
    firstName: 'Ada',
    lastName: key,
    workEmail: `billing+${key.toLowerCase()}@example.com`,
    address1: '1 Old Street',
    city: 'London',
    postalCode: 'EC1V 9HL',
    country: 'United Kingdom',
  };
  tenant.contacts.set(contact.id, contact);
  const account: ZuoraAccount = {
    id,
    accountNumber: key,
    name: `Customer ${key}`,
    updatedMs,
    billToId: contact.id,
    soldToId: contact.id,
  };
  tenant.accounts.set(id, account);
  return account;
}

function definedDetails(details: ContactDetails): ContactDetails {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => typeof value === 'string'));
}

/** `tsx local/zuora-sandbox.ts` runs a sandbox on its own (port ZUORA_SANDBOX_PORT or 4020). */
if (require.main === module) {
  const port = Number(process.env.ZUORA_SANDBOX_PORT ?? 4020);
  startZuoraSandbox({ port, clientId: process.env.ZUORA_CLIENT_ID, clientSecret: process.env.ZUORA_CLIENT_SECRET })
    .then((sandbox) => {
      process.stdout.write(
        `Zuora sandbox at ${sandbox.baseUrl} (ZUORA_CLIENT_ID=${sandbox.clientId}; the client secret is the one you set or was generated)\n`,
      );
      const stop = () => void sandbox.stop().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((error: unknown) => {
      process.stderr.write(`${(error as Error).message}\n`);
      process.exit(1);
    });
}
