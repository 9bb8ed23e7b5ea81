import { ConfigError } from '../shared/config-error';
import { DEFAULTS } from '../shared/defaults';
import { integer, oneOf, optionalString, requiredString, type Env } from '../shared/env';
import { ACCOUNTS_BESIDE_SUBSCRIPTIONS, type AccountsBesideSubscriptions } from './account-plan';
import { accountKeyRuleFrom, type AccountKeyRule } from '../shared/account-key';
import { subscriptionIdRuleFrom, type SubscriptionIdRule } from '../shared/subscription-id';
import { calloutAuthFromEnv, hasEnvAuth, type CalloutAuth } from './auth-config';
import { expectedTenantIdFrom } from './tenant';

/** Where the callout credentials live: a Secrets Manager secret (AWS) or the environment (local use). */
export type AuthSource =
  | { readonly kind: 'secret'; readonly secretId: string }
  | { readonly kind: 'static'; readonly auth: CalloutAuth };

export interface CalloutConfig {
  readonly queueUrl: string;
  /**
   * ACCOUNT_QUEUE_URL: the fan-out queue for account messages. Set only on a stack with a Zuora connection: without
   * one nothing can turn an account into its subscriptions, and account callouts are refused or their accounts ignored.
   */
  readonly accountQueueUrl?: string;
  readonly auth: AuthSource;
  /** The realm named in the Basic challenge. */
  readonly realm: string;
  /** SQS DelaySeconds: a burst of callouts for one subscription reaches the sync Lambda together and is coalesced. */
  readonly delaySeconds: number;
  readonly maxIds: number;
  readonly maxBodyBytes: number;
  readonly idField?: string;
  readonly idRule: SubscriptionIdRule;
  readonly accountKeyRule: AccountKeyRule;
  /** CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS: what account keys beside subscription ids ask for (account-plan.ts). */
  readonly accountsBesideSubscriptions: AccountsBesideSubscriptions;
  /** CALLOUT_EXPECTED_TENANT_ID: a callout naming another Zuora tenant is refused (see tenant.ts). */
  readonly expectedTenantId?: string;
  /**
   * LEDGER_TABLE_NAME: after queueing, each subscription's lastQueuedAt is marked there, so the sweep tells a change
   * whose sync is still to come (pending) from one whose callout never came (missing). Without it, no marks.
   */
  readonly ledgerTableName?: string;
}

const DEFAULT_REALM = 'zuora-limio-sync';

/**
 * Reads and checks the callout Lambda's environment once, at cold start. Without callout authentication the
 * function refuses to start: an open endpoint would let anyone make the bridge hammer Limio.
 */
export function loadCalloutConfig(env: Env): CalloutConfig {
  const queueUrl = requiredString(env, 'QUEUE_URL');
  const secretId = optionalString(env, 'CALLOUT_AUTH_SECRET_ID');
  if (secretId !== undefined && hasEnvAuth(env)) {
    throw new ConfigError(
      'CALLOUT_AUTH_MODE',
      'is set together with CALLOUT_AUTH_SECRET_ID; use the secret in AWS, or CALLOUT_AUTH_MODE and its CALLOUT_* settings locally, not both',
    );
  }
  if (secretId === undefined && !hasEnvAuth(env)) {
    throw new ConfigError(
      'CALLOUT_AUTH_SECRET_ID',
      'callout authentication is required: set CALLOUT_AUTH_SECRET_ID to a Secrets Manager secret, or for local use CALLOUT_AUTH_MODE=basic|header|hmac with its CALLOUT_* settings',
    );
  }
  const auth: AuthSource =
    secretId !== undefined ? { kind: 'secret', secretId } : { kind: 'static', auth: calloutAuthFromEnv(env) };

  const realm = optionalString(env, 'CALLOUT_REALM') ?? DEFAULT_REALM;
  if (!/^[\x20-\x7e]+$/.test(realm) || /["\\]/.test(realm)) {
    throw new ConfigError('CALLOUT_REALM', 'must be printable ASCII without quotes or backslashes');
  }
  const idField = optionalString(env, 'CALLOUT_ID_FIELD');
  if (idField !== undefined && !/^[^.\s]+(\.[^.\s]+)*$/.test(idField)) {
    throw new ConfigError(
      'CALLOUT_ID_FIELD',
      `must be a field name or a dot path such as Data.Subscription.Name, got "${idField}"`,
    );
  }
  const expectedTenantId = expectedTenantIdFrom(env);
  const accountQueueUrl = optionalString(env, 'ACCOUNT_QUEUE_URL');
  const ledgerTableName = optionalString(env, 'LEDGER_TABLE_NAME');
  return {
    queueUrl,
    ...(accountQueueUrl !== undefined && { accountQueueUrl }),
    auth,
    realm,
    delaySeconds: integer(env, 'CALLOUT_DELAY_SECONDS', DEFAULTS.calloutDelaySeconds, { min: 0, max: 900 }),
    maxIds: integer(env, 'CALLOUT_MAX_IDS', DEFAULTS.calloutMaxIds, { min: 1, max: 1000 }),
    maxBodyBytes: integer(env, 'CALLOUT_MAX_BODY_BYTES', DEFAULTS.calloutMaxBodyBytes, {
      min: 1024,
      max: DEFAULTS.calloutMaxBodyBytesLimit,
    }),
    ...(idField !== undefined && { idField }),
    idRule: subscriptionIdRuleFrom(optionalString(env, 'SUBSCRIPTION_ID_PATTERN')),
    accountKeyRule: accountKeyRuleFrom(optionalString(env, 'ACCOUNT_NUMBER_PATTERN')),
    accountsBesideSubscriptions: oneOf(
      env,
      'CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS',
      ACCOUNTS_BESIDE_SUBSCRIPTIONS,
      'fan-out',
    ),
    ...(expectedTenantId !== undefined && { expectedTenantId }),
    ...(ledgerTableName !== undefined && { ledgerTableName }),
  };
}
