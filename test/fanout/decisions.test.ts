import {
  accountLookupQuery,
  isRefusedLocator,
  subscriptionsQuery,
  zoqlQuoted,
} from '../../functions/fanout/account-subscriptions';
import { FANOUT_DEFAULTS, loadFanOutConfig } from '../../functions/fanout/config';
import { classifyFanOutError, decideFanOutRetry, FanOutQueueError } from '../../functions/fanout/failure';
import {
  continuationOf,
  hasTimeForPage,
  newSubscriptionNames,
  subscriptionMessageFor,
} from '../../functions/fanout/fan-out';
import { DEFAULT_SUBSCRIPTION_ID_RULE } from '../../functions/shared/subscription-id';
import { createAccountRequest, parseQueueMessage, serializeQueueMessage } from '../../functions/shared/queue-message';
import { ZuoraApiError } from '../../functions/sweep/zuora-answers';

// The fan-out's decisions as plain functions, without AWS or Zuora (issue #22).

describe('fan-out decisions', () => {
  it('quotes ZOQL values so that no key can become more query', () => {
    expect(accountLookupQuery('A00001234')).toBe("select Id from Account where AccountNumber = 'A00001234'");
    expect(subscriptionsQuery('a'.repeat(32))).toBe(
      `select Name from Subscription where AccountId = '${'a'.repeat(32)}'`,
    );
    expect(zoqlQuoted("x' or Id != '")).toBe("'x\\' or Id != \\''");
    expect(zoqlQuoted('back\\slash')).toBe("'back\\\\slash'");
    expect(() => zoqlQuoted('line\nbreak')).toThrow(/control characters/);
  });

  it('asks for another page only when one at its slowest and the reserve still fit', () => {
    const timing = { invocationDeadlineMs: 100_000, reserveMs: 15_000, pageTimeoutMs: 60_000 };
    expect(hasTimeForPage(25_000, timing)).toBe(true);
    expect(hasTimeForPage(25_001, timing)).toBe(false);
  });

  it('keeps each new subscription number once, leaving out those queued already and those the rule refuses', () => {
    expect(
      newSubscriptionNames(
        ['A-S1', 'A-S2', 'A-S1', 'A-S3', 'bad name', 'A-S2'],
        new Set(['A-S3']),
        DEFAULT_SUBSCRIPTION_ID_RULE,
      ),
    ).toEqual({
      fresh: ['A-S1', 'A-S2'],
      refused: ['bad name'],
    });
  });

  it("makes subscription messages and continuations that keep the account message's receivedAt and ids", () => {
    const account = createAccountRequest({
      accountKey: 'A1',
      source: 'callout',
      receivedAt: '2026-12-07T01:00:00.000Z',
      zuoraRequestId: 'r',
      replayCount: 1,
      replayRunId: 'run-1',
    });
    expect(subscriptionMessageFor(account, 'A-S1', DEFAULT_SUBSCRIPTION_ID_RULE)).toEqual({
      v: 1,
      subscriptionId: 'A-S1',
      source: 'account',
      receivedAt: '2026-12-07T01:00:00.000Z',
      zuoraRequestId: 'r',
      replayCount: 1,
    });
    const continuation = continuationOf(account, 'b'.repeat(32), 'abc-100');
    expect(parseQueueMessage(serializeQueueMessage(continuation))).toEqual({
      ok: true,
      message: { ...account, fanOut: { queryLocator: 'abc-100', accountId: 'b'.repeat(32) } },
    });
  });

  it("backs off on Zuora's passing failures and the queue's, and dead-letters what Zuora refuses outright", () => {
    expect(classifyFanOutError(new ZuoraApiError('429 after 2 attempts', 'rate-limited', 429))).toMatchObject({
      kind: 'passing',
      fromZuora: true,
      httpStatus: 429,
    });
    expect(classifyFanOutError(new ZuoraApiError('no answer', 'unavailable'))).toMatchObject({
      kind: 'passing',
      fromZuora: true,
    });
    expect(classifyFanOutError(new ZuoraApiError('deadline', 'deadline'))).toMatchObject({ kind: 'passing' });
    expect(classifyFanOutError(new ZuoraApiError('refused credentials', 'credentials', 401))).toMatchObject({
      kind: 'passing',
    });
    expect(classifyFanOutError(new ZuoraApiError('malformed query', 'refused', 400))).toMatchObject({
      kind: 'terminal',
    });
    expect(classifyFanOutError(new FanOutQueueError('3 not queued'))).toMatchObject({
      kind: 'passing',
      fromZuora: false,
    });
    expect(isRefusedLocator(new ZuoraApiError('invalid query locator', 'refused', 400))).toBe(true);
    expect(isRefusedLocator(new ZuoraApiError('busy', 'rate-limited', 429))).toBe(false);

    const settings = {
      retryBudgetSeconds: 60,
      maxAttempts: 10,
      backoffBaseSeconds: 1,
      backoffMaxSeconds: 8,
      holdSeconds: 60,
    };
    const passing = classifyFanOutError(new ZuoraApiError('busy', 'rate-limited', 429));
    expect(
      decideFanOutRetry({
        failure: passing,
        receiveCount: 1,
        receivedAt: 0,
        now: 10_000,
        settings,
        random: () => 0.99,
      }),
    ).toMatchObject({ action: 'retry', visibilitySeconds: 1 });
    expect(
      decideFanOutRetry({ failure: passing, receiveCount: 4, receivedAt: 0, now: 61_000, settings }),
    ).toMatchObject({ action: 'dead-letter', failureClass: 'exhausted' });
    expect(
      decideFanOutRetry({
        failure: classifyFanOutError(new ZuoraApiError('bad', 'refused', 400)),
        receiveCount: 1,
        receivedAt: 0,
        now: 1,
        settings,
      }),
    ).toMatchObject({
      action: 'dead-letter',
      failureClass: 'terminal',
    });
  });

  it("reads the contract's environment, with the sweep's Zuora connection", () => {
    const env = {
      ACCOUNT_QUEUE_URL: 'http://q/accounts',
      QUEUE_URL: 'http://q/main',
      DLQ_URL: 'http://q/dlq',
      ZUORA_BASE_URL: 'https://rest.apisandbox.zuora.com',
      ZUORA_SECRET_ID: 'zuora-limio-sync/zuora',
      ZUORA_ENTITY_ID: 'entity-1',
      ACCOUNT_NUMBER_PATTERN: '^ACC[0-9]+$',
      RETRY_BUDGET_SECONDS: '3600',
    };
    const config = loadFanOutConfig(env);
    expect(config).toMatchObject({
      accountQueueUrl: 'http://q/accounts',
      queueUrl: 'http://q/main',
      deadLetterQueueUrl: 'http://q/dlq',
      zuora: { zuoraBaseUrl: 'https://rest.apisandbox.zuora.com', entityId: 'entity-1', zuoraTimeoutMs: 60_000 },
      retry: { retryBudgetSeconds: 3600 },
      reserveMs: FANOUT_DEFAULTS.reserveMs,
    });
    expect(config.ledgerTableName).toBeUndefined();
    expect(config.accountKeyRule.numberPattern.test('ACC12')).toBe(true);
    expect(() => loadFanOutConfig({ ...env, ACCOUNT_QUEUE_URL: '' })).toThrow(/ACCOUNT_QUEUE_URL/);
    expect(() => loadFanOutConfig({ ...env, ZUORA_BASE_URL: '' })).toThrow(/ZUORA_BASE_URL/);
  });
});
