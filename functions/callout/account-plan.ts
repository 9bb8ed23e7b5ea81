/**
 * The callout Lambda's decisions about what a callout's accounts and change time become, apart from the handler so
 * they are tested without AWS.
 */

/** What becomes of a callout's account keys: queued on the fan-out queue, refused, or left out beside its subscriptions. */
export type AccountPlan =
  | { readonly kind: 'none' }
  | { readonly kind: 'queue'; readonly accountQueueUrl: string; readonly accountKeys: readonly string[] }
  | { readonly kind: 'refuse'; readonly message: string }
  | { readonly kind: 'ignore'; readonly accountKeys: readonly string[]; readonly why: string };

/**
 * What account keys beside subscription ids in one callout ask for. `fan-out` (the default): both are changes, the
 * account's every subscription is synced too. `ignore`: they are the template's context (many subscription templates
 * carry {{DataSource.Account.AccountNumber}}), so a subscription callout costs no fan-out; a callout of accounts only
 * is fanned out either way. CALLOUT_ACCOUNTS_BESIDE_SUBSCRIPTIONS.
 */
export const ACCOUNTS_BESIDE_SUBSCRIPTIONS = ['fan-out', 'ignore'] as const;
export type AccountsBesideSubscriptions = (typeof ACCOUNTS_BESIDE_SUBSCRIPTIONS)[number];

const NO_FAN_OUT =
  'this bridge has no Zuora connection to fan accounts out to their subscriptions (ACCOUNT_QUEUE_URL is not set; deploy the stack with a Zuora connection)';

/**
 * Without a fan-out queue, a callout of accounts only is refused 422: a retry could not help (Zuora does not retry a
 * 4xx), and a 2xx would say it was delivered. One that also names subscriptions still gets those synced.
 */
export function planAccounts(
  ids: readonly string[],
  accountKeys: readonly string[],
  accountQueueUrl: string | undefined,
  besideSubscriptions: AccountsBesideSubscriptions = 'fan-out',
): AccountPlan {
  if (accountKeys.length === 0) return { kind: 'none' };
  // Configured as template context: the subscriptions are the change, and their sync carries the account.
  if (ids.length > 0 && besideSubscriptions === 'ignore') return { kind: 'none' };
  if (accountQueueUrl !== undefined) return { kind: 'queue', accountQueueUrl, accountKeys };
  const named = `${accountKeys.slice(0, 5).join(', ')}${accountKeys.length > 5 ? `, and ${accountKeys.length - 5} more` : ''}`;
  if (ids.length === 0) return { kind: 'refuse', message: `callout names only accounts (${named}): ${NO_FAN_OUT}` };
  return { kind: 'ignore', accountKeys, why: `account keys ignored: ${NO_FAN_OUT}` };
}

/**
 * The change time a message may carry: one later than the callout's arrival is left out. Zuora sends a callout after
 * its change commits, so such a time is a skewed clock or a wrong field, and believing it could count a later change
 * as read by this callout's sync; leaving it out costs at most one more sync.
 */
export function changeTimeToCarry(updatedAt: string | undefined, receivedAt: Date): string | undefined {
  if (updatedAt === undefined) return undefined;
  return Date.parse(updatedAt) <= receivedAt.getTime() ? updatedAt : undefined;
}
