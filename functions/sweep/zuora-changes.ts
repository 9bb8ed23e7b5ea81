import type { AccountChangeSource, ChangeSource } from './sweep';
import {
  changedAccountsZoql,
  changedContactsZoql,
  changedSubscriptionsZoql,
  subscriptionsOfAccountsZoql,
  type ZoqlOffsetStyle,
} from './window';
import type { ZuoraClient } from './zuora-client';

/**
 * The one place that knows how changed subscriptions, accounts and contacts are read from Zuora: ZOQL over
 * /v1/action/query. Should the method change (Data Query jobs, say), only this module does.
 */
export function zuoraChangeSource(
  client: Pick<ZuoraClient, 'query'>,
  offsetStyle: ZoqlOffsetStyle = '+00:00',
): ChangeSource {
  return {
    changed: (range, options) => client.query(changedSubscriptionsZoql(range, offsetStyle), options),
  };
}

/** Accounts and contacts by the same slice bounds and offsets; an account group's subscriptions in one `or` query. */
export function zuoraAccountChangeSource(
  client: Pick<ZuoraClient, 'query'>,
  offsetStyle: ZoqlOffsetStyle = '+00:00',
): AccountChangeSource {
  return {
    changedAccounts: (range, options) => client.query(changedAccountsZoql(range, offsetStyle), options),
    changedContacts: (range, options) => client.query(changedContactsZoql(range, offsetStyle), options),
    subscriptionsOf: (accountIds, options) => client.query(subscriptionsOfAccountsZoql(accountIds), options),
  };
}
