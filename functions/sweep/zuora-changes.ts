import type { ChangeSource } from './sweep';
import { changedSubscriptionsZoql, type ZoqlOffsetStyle } from './window';
import type { ZuoraClient } from './zuora-client';

/**
 * The one place that knows how changed subscriptions are read from Zuora: ZOQL over /v1/action/query. Should the
 * method change (Data Query jobs, say), only this module does.
 */
export function zuoraChangeSource(client: Pick<ZuoraClient, 'query'>, offsetStyle: ZoqlOffsetStyle = '+00:00'): ChangeSource {
  return {
    changed: (range, options) => client.query(changedSubscriptionsZoql(range, offsetStyle), options),
  };
}
