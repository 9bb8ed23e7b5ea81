import { accountKeyRuleFrom, type AccountKeyRule } from '../shared/account-key';
import { integer, optionalString, requiredString, type Env } from '../shared/env';
import { subscriptionIdRuleFrom, type SubscriptionIdRule } from '../shared/subscription-id';
import { loadRetrySettings, type RetrySettings } from '../breaker/settings';
import { loadZuoraConnection, type ZuoraConnectionConfig } from '../sweep/config';

export interface FanOutConfig {
  /** Its own source queue: a continuation goes back on it. */
  readonly accountQueueUrl: string;
  /** The main queue, read by the sync Lambda: the account's subscription messages go there. */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** The sweep's connection: one Zuora connection per stack. */
  readonly zuora: ZuoraConnectionConfig;
  /** Marks lastQueuedAt of each subscription queued; without it, nothing is marked. */
  readonly ledgerTableName?: string;
  readonly subscriptionIdRule: SubscriptionIdRule;
  readonly accountKeyRule: AccountKeyRule;
  /** The sync Lambda's RETRY_BUDGET_SECONDS, MAX_ATTEMPTS and BACKOFF_*, with the same meaning. */
  readonly retry: RetrySettings;
  /**
   * Time kept back from the invocation for what follows the last page: queueing it, and the continuation. No page
   * is asked for with less than this (plus ZUORA_TIMEOUT_MS, the longest a page can take) left.
   */
  readonly reserveMs: number;
}

export const FANOUT_DEFAULTS = {
  /** Queueing 2,000 subscriptions is 200 SendMessageBatch calls, side by side: seconds, not tens of them. */
  reserveMs: 15_000,
  /** The function timeout the contract fixes, like the sweep's. */
  functionTimeoutSeconds: 300,
} as const;

/** Reads and checks the fan-out Lambda's environment once, at cold start; every error names its variable. */
export function loadFanOutConfig(env: Env): FanOutConfig {
  const ledgerTableName = optionalString(env, 'LEDGER_TABLE_NAME');
  return {
    accountQueueUrl: requiredString(env, 'ACCOUNT_QUEUE_URL'),
    queueUrl: requiredString(env, 'QUEUE_URL'),
    deadLetterQueueUrl: requiredString(env, 'DLQ_URL'),
    zuora: loadZuoraConnection(env),
    ...(ledgerTableName !== undefined && { ledgerTableName }),
    subscriptionIdRule: subscriptionIdRuleFrom(optionalString(env, 'SUBSCRIPTION_ID_PATTERN')),
    accountKeyRule: accountKeyRuleFrom(optionalString(env, 'ACCOUNT_NUMBER_PATTERN')),
    retry: loadRetrySettings(env),
    reserveMs: integer(env, 'FANOUT_RESERVE_MS', FANOUT_DEFAULTS.reserveMs, { min: 1_000, max: 120_000 }),
  };
}
