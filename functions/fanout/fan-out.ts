import { checkSubscriptionId, type SubscriptionIdRule } from '../shared/subscription-id';
import { createSyncRequest, type AccountRequest, type SyncRequest } from '../shared/queue-message';
import type { ZuoraClient } from '../sweep/zuora-client';
import {
  accountExists,
  isRefusedLocator,
  isZuoraObjectId,
  readSubscriptionPage,
  resolveAccountId,
  type PageStart,
} from './account-subscriptions';

/**
 * One account message, fanned out: its account resolved, its subscriptions read page by page, each new
 * subscription number queued as a subscription message (source 'account', the account message's receivedAt and
 * correlation ids, so the ledger folds it with the subscription's other changes). Between pages it checks the
 * time left; out of time, it queues a continuation (the same account message with the queryLocator) instead of
 * reading on. Zuora's and SQS's failures are thrown: the handler decides between a backoff and the DLQ.
 */

export interface FanOutPorts {
  readonly zuora: Pick<ZuoraClient, 'queryPage'>;
  /** Puts the messages on the main queue, or throws (nothing is known to be queued then). */
  queueSubscriptions(messages: readonly SyncRequest[]): Promise<void>;
  /** lastQueuedAt in the ledger, at the messages' receivedAt; never throws (a failed mark only costs a redundant sync). */
  markQueued(subscriptionIds: readonly string[], queuedAtMs: number): Promise<void>;
  /** Puts the continuation on the fan-out queue, or throws. */
  queueContinuation(message: AccountRequest): Promise<void>;
  readonly now: () => number;
}

export interface FanOutTiming {
  /** When the invocation ends (ms since the epoch): now + the Lambda's remaining time. */
  readonly invocationDeadlineMs: number;
  /** Kept back for queueing the last page and the continuation. */
  readonly reserveMs: number;
  /** The longest one page can take (ZUORA_TIMEOUT_MS). */
  readonly pageTimeoutMs: number;
}

export type FanOutResult =
  /** Every page read and queued. */
  | {
      readonly kind: 'done';
      readonly accountId: string;
      readonly queued: number;
      readonly pages: number;
      readonly restarted: boolean;
    }
  /** Out of time between pages: the rest goes on in the continuation. */
  | {
      readonly kind: 'continued';
      readonly accountId: string;
      readonly queued: number;
      readonly pages: number;
      readonly restarted: boolean;
      readonly queryLocator: string;
    }
  /** Zuora has no account with this number: nothing to fan out, ever. */
  | { readonly kind: 'unknown-account'; readonly reason: string }
  /** Not even the first page fitted in what was left of the invocation: the message comes back untried. */
  | { readonly kind: 'no-time' };

/** Whether another page may be asked for: one page at its slowest, then the reserve, must fit. */
export function hasTimeForPage(nowMs: number, timing: FanOutTiming): boolean {
  return timing.invocationDeadlineMs - nowMs >= timing.reserveMs + timing.pageTimeoutMs;
}

/**
 * The page's subscription numbers not queued yet in this fan-out, each once, in the order Zuora gave them; a name
 * the subscription id rule refuses could never be synced, so it is left out and reported.
 */
export function newSubscriptionNames(
  names: readonly string[],
  alreadyQueued: ReadonlySet<string>,
  rule: SubscriptionIdRule,
): { fresh: string[]; refused: string[] } {
  const fresh: string[] = [];
  const refused: string[] = [];
  const seen = new Set(alreadyQueued);
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    if (checkSubscriptionId(name, rule).ok) fresh.push(name);
    else refused.push(name);
  }
  return { fresh, refused };
}

/** The subscription message one account message makes for one of its subscriptions. */
export function subscriptionMessageFor(
  account: AccountRequest,
  subscriptionId: string,
  rule: SubscriptionIdRule,
): SyncRequest {
  return createSyncRequest(
    {
      subscriptionId,
      source: 'account',
      receivedAt: account.receivedAt,
      ...(account.zuoraRequestId !== undefined && { zuoraRequestId: account.zuoraRequestId }),
      ...(account.zuoraNotificationId !== undefined && { zuoraNotificationId: account.zuoraNotificationId }),
      // A replayed account letter's subscriptions get a fresh retry budget, as the letter itself does (budgetStart).
      ...(account.replayCount !== undefined && { replayCount: account.replayCount }),
    },
    rule,
  );
}

export function continuationOf(account: AccountRequest, accountId: string, queryLocator: string): AccountRequest {
  return { ...account, fanOut: { queryLocator, accountId } };
}

export interface FanOutOptions {
  readonly subscriptionIdRule: SubscriptionIdRule;
  readonly timing: FanOutTiming;
  /** Told of names the rule refused, for the log. */
  readonly onRefusedNames?: (names: readonly string[]) => void;
}

export async function fanOutAccount(
  account: AccountRequest,
  ports: FanOutPorts,
  options: FanOutOptions,
): Promise<FanOutResult> {
  const { timing } = options;
  // No Zuora request or retry wait runs into the reserve.
  const zuoraOptions = { deadlineMs: timing.invocationDeadlineMs - timing.reserveMs };
  if (!hasTimeForPage(ports.now(), timing)) return { kind: 'no-time' };
  let accountId: string;
  let start: PageStart;
  if (account.fanOut !== undefined) {
    accountId = account.fanOut.accountId;
    start = { queryLocator: account.fanOut.queryLocator };
  } else {
    const found = await resolveAccountId(ports.zuora, account.accountKey, zuoraOptions);
    if (found === undefined)
      return { kind: 'unknown-account', reason: `Zuora has no account with number ${account.accountKey}` };
    accountId = found;
    start = { accountId };
  }

  // Names already handled in this delivery (queued, or refused by the rule): another version of one is not news.
  const queuedNames = new Set<string>();
  let queued = 0;
  let pages = 0;
  let restarted = false;
  for (;;) {
    if (pages > 0 && !hasTimeForPage(ports.now(), timing)) {
      const queryLocator = (start as { queryLocator: string }).queryLocator;
      await ports.queueContinuation(continuationOf(account, accountId, queryLocator));
      return { kind: 'continued', accountId, queued, pages, restarted, queryLocator };
    }
    let page;
    try {
      page = await readSubscriptionPage(ports.zuora, start, zuoraOptions);
    } catch (error) {
      // An expired locator: read the account again from its first page. What was queued before is queued again
      // and folded by the ledger (same receivedAt); one restart per delivery, so a Zuora that refuses every
      // locator cannot keep this invocation busy.
      if ('queryLocator' in start && !restarted && isRefusedLocator(error)) {
        restarted = true;
        start = { accountId };
        continue;
      }
      throw error;
    }
    pages += 1;
    // A key given as an Id was not looked up: an empty first page may mean Zuora has no such account.
    if (
      pages === 1 &&
      account.fanOut === undefined &&
      isZuoraObjectId(account.accountKey) &&
      page.names.length === 0 &&
      page.queryLocator === undefined
    ) {
      if (!(await accountExists(ports.zuora, accountId, zuoraOptions)))
        return { kind: 'unknown-account', reason: `Zuora has no account with id ${accountId}` };
    }
    const { fresh, refused } = newSubscriptionNames(page.names, queuedNames, options.subscriptionIdRule);
    if (refused.length > 0) options.onRefusedNames?.(refused);
    for (const name of refused) queuedNames.add(name);
    if (fresh.length > 0) {
      await ports.queueSubscriptions(
        fresh.map((name) => subscriptionMessageFor(account, name, options.subscriptionIdRule)),
      );
      for (const name of fresh) queuedNames.add(name);
      queued += fresh.length;
      // Marked with the messages' own receivedAt, not this send's time: the ledger may fold a message into any
      // success that started after its receivedAt, so a later mark would let the sweep take a change made between
      // the two for pending while its message is folded without reading it (test/ledger/never-lose.test.ts).
      await ports.markQueued(fresh, Date.parse(account.receivedAt));
    }
    if (page.queryLocator === undefined) {
      return { kind: 'done', accountId, queued, pages, restarted };
    }
    start = { queryLocator: page.queryLocator };
  }
}
