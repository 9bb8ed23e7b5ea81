import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  createFanOutHandler,
  type FanOutEvent,
  type FanOutHandlerDependencies,
} from '../../functions/fanout/fanout-handler';
import { FANOUT_METRICS } from '../../functions/fanout/telemetry';
import { createZuoraClient } from '../../functions/sweep/zuora-client';
import { LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import {
  createAccountRequest,
  createSyncRequest,
  parseQueueMessage,
  serializeQueueMessage,
  type AccountRequest,
  type SyncRequest,
} from '../../functions/shared/queue-message';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { createLambdaContext } from '../../local/lambda-context';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { captureOutput, metricValues } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import {
  deleteHandled,
  deliver,
  drainAll,
  fanOutConfig,
  newFanOutQueues,
  receiveEvent,
  type FanOutQueues,
} from './harness';

// The fan-out Lambda on real local parts: its queues on the SQS emulator, Zuora as the sandbox over HTTP, the
// ledger on dynalite. Nothing is mocked.

// A minute ago: the retry budget counts from it, so a fixed date would run it out some day after this was written.
const RECEIVED_AT = new Date(Date.now() - 60_000).toISOString();
const silent = () => ({ logger: new Logger({ serviceName: 'fanout', logLevel: 'SILENT' }) });
const sum = (values: Array<number | number[]>) => values.flat().reduce((total, value) => total + value, 0);

function accountBody(accountKey: string, extra: Partial<AccountRequest> = {}): string {
  return serializeQueueMessage(
    createAccountRequest({
      accountKey,
      source: 'workflow',
      receivedAt: RECEIVED_AT,
      zuoraRequestId: 'req-1',
      ...extra,
    }),
  );
}

function subscriptionMessages(bodies: readonly { body: string }[]): SyncRequest[] {
  return bodies.map(({ body }) => {
    const parsed = parseQueueMessage(body);
    if (!parsed.ok || 'kind' in parsed.message) throw new Error(`not a subscription message: ${body}`);
    return parsed.message;
  });
}

/** `count` subscriptions of the account, each with `versions` versions, written version by version (v1 of all, then v2 ...). */
function seedAccount(sandbox: ZuoraSandbox, accountNumber: string, count: number, versions: number): string[] {
  const account = sandbox.account(accountNumber);
  const names = Array.from({ length: count }, (_, i) => `A-S${String(i + 1).padStart(8, '0')}`);
  for (let version = 0; version < versions; version++)
    for (const name of names) sandbox.touch(name, undefined, { account: account.id });
  return names;
}

const apiRequests = (sandbox: ZuoraSandbox) => sandbox.stats.queryRequests + sandbox.stats.queryMoreRequests;

describe('fan-out handler (issue #22)', () => {
  const sqsEmulator = useSqsEmulator();
  let sandbox: ZuoraSandbox;
  let queues: FanOutQueues;
  let events: FanOutEvent[];
  let output: ReturnType<typeof captureOutput>;

  beforeEach(async () => {
    output = captureOutput();
    sandbox = await startZuoraSandbox();
    queues = await newFanOutQueues(sqsEmulator.sqs);
    events = [];
  });
  afterEach(async () => {
    output.restore();
    await sandbox.stop();
  });

  const handlerFor = (env: Record<string, string> = {}, dependencies: FanOutHandlerDependencies = {}) =>
    createFanOutHandler(fanOutConfig(sandbox, queues, env), {
      sqs: sqsEmulator.sqs,
      ...silent(),
      metrics: new Metrics({ namespace: 'ZuoraLimioSync', serviceName: 'fanout' }),
      observer: (event) => events.push(event),
      ...dependencies,
    });

  it('queues an account with 500 subscriptions x 3 versions as exactly 500 subscription messages: one lookup and one page', async () => {
    const names = seedAccount(sandbox, 'A00000500', 500, 3);
    const handler = handlerFor();
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [
      accountBody('A00000500', { zuoraNotificationId: 'n-1' }),
    ]);
    expect(await handler(event, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });

    const queued = subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl));
    expect(queued).toHaveLength(500);
    expect(new Set(queued.map((message) => message.subscriptionId))).toEqual(new Set(names));
    expect(
      queued.every(
        (m) =>
          m.source === 'account' &&
          m.receivedAt === RECEIVED_AT &&
          m.zuoraRequestId === 'req-1' &&
          m.zuoraNotificationId === 'n-1',
      ),
    ).toBe(true);
    // Zuora requests: the account lookup and the one page of 1,500 versions (the floor: 2,000 a page).
    expect({
      query: sandbox.stats.queryRequests,
      queryMore: sandbox.stats.queryMoreRequests,
      tokens: sandbox.stats.tokenRequests,
    }).toEqual({ query: 2, queryMore: 0, tokens: 1 });
    expect(events).toEqual([
      {
        accountKey: 'A00000500',
        messageId: event.Records[0]!.messageId,
        outcome: 'done',
        queued: 500,
        pages: 1,
        restarted: false,
      },
    ]);
    const lines = output.lines();
    expect(sum(metricValues(lines, FANOUT_METRICS.subscriptionsQueued))).toBe(500);
    expect(sum(metricValues(lines, FANOUT_METRICS.accounts))).toBe(1);
  });

  it('folds versions spread over pages: 500 x 3 in pages of 500 is still 500 messages, at one lookup and three pages', async () => {
    seedAccount(sandbox, 'A00000501', 500, 3);
    sandbox.setPageSize(500);
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000501')]);
    await handlerFor()(event, createLambdaContext('fanout', 300_000));
    expect(subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl))).toHaveLength(500);
    expect(apiRequests(sandbox)).toBe(1 + 3);
  });

  it('takes a 32-hex account id as the AccountId, without a lookup', async () => {
    const names = seedAccount(sandbox, 'A00000502', 3, 2);
    const id = sandbox.account('A00000502').id;
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody(id)]);
    await handlerFor()(event, createLambdaContext('fanout', 300_000));
    expect(
      subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl))
        .map((m) => m.subscriptionId)
        .sort(),
    ).toEqual(names);
    expect(apiRequests(sandbox)).toBe(1);
  });

  it('continues across a simulated timeout: continuations on the fan-out queue until the last page, each subscription queued, duplicates only at a cut and with the same receivedAt for the ledger to fold', async () => {
    // Versions side by side (three records per subscription), 300 subscriptions, pages of 100: 9 pages.
    const account = sandbox.account('A00000300');
    const names = Array.from({ length: 300 }, (_, i) => `A-S${String(i + 1).padStart(8, '0')}`);
    for (const name of names)
      for (let version = 0; version < 3; version++) sandbox.touch(name, undefined, { account: account.id });
    sandbox.setPageSize(100);
    // Every Zuora page takes 10 s of a 35 s invocation with 16 s kept back (reserve 15 s + page 1 s): two pages
    // a delivery at most, the time run out between pages.
    // Starts at the real time: the real client's deadline (the invocation's, less the reserve) is read on its own clock.
    let fakeNow = Date.now();
    const realClient = createZuoraClient(fanOutConfig(sandbox, queues).zuora);
    const slowZuora = {
      queryPage: async (...args: Parameters<typeof realClient.queryPage>) => {
        const page = await realClient.queryPage(...args);
        fakeNow += 10_000;
        return page;
      },
    };
    const handler = handlerFor(
      { FANOUT_RESERVE_MS: '15000', ZUORA_TIMEOUT_MS: '1000' },
      { zuora: slowZuora, now: () => fakeNow },
    );

    let event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000300')]);
    let deliveries = 0;
    while (event.Records.length > 0) {
      deliveries += 1;
      const response = await handler(
        event,
        createLambdaContext('fanout', 35_000, () => fakeNow),
      );
      expect(response).toEqual({ batchItemFailures: [] });
      await deleteHandled(sqsEmulator.sqs, queues.accountQueueUrl, event, new Set());
      event = await receiveEvent(sqsEmulator.sqs, queues.accountQueueUrl, 1, 0);
    }
    expect(deliveries).toBe(5);
    expect(events.map((e) => e.outcome)).toEqual(['continued', 'continued', 'continued', 'continued', 'done']);

    const queued = subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl));
    expect(new Set(queued.map((m) => m.subscriptionId))).toEqual(new Set(names));
    // A subscription is queued again only when its versions straddle a cut between deliveries (at most one per
    // continuation), and every copy carries the account message's receivedAt: one sync started after it covers all.
    // Here the cuts fall after records 100, 300, 500 and 700; three of them split a subscription's versions.
    expect(queued.length - names.length).toBe(3);
    expect(queued.every((m) => m.receivedAt === RECEIVED_AT && m.source === 'account')).toBe(true);
    // Zuora was read once, page by page: the lookup and the nine pages, no page twice.
    expect(apiRequests(sandbox)).toBe(1 + 9);
    expect(sum(metricValues(output.lines(), FANOUT_METRICS.continuations))).toBe(4);
  });

  it("starts again from the first page when Zuora refuses a continuation's queryLocator", async () => {
    const names = seedAccount(sandbox, 'A00000301', 30, 1);
    const id = sandbox.account('A00000301').id;
    const continuation = accountBody('A00000301', { fanOut: { queryLocator: `${'f'.repeat(32)}-100`, accountId: id } });
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [continuation]);
    expect(await handlerFor()(event, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });
    expect(
      subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl))
        .map((m) => m.subscriptionId)
        .sort(),
    ).toEqual(names);
    expect(events).toEqual([expect.objectContaining({ outcome: 'done', queued: 30, restarted: true })]);
  });

  it('dead-letters an unknown account as terminal with its reason, by number and by id', async () => {
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [
      accountBody('A00000404'),
      accountBody('0123456789abcdef0123456789abcdef'),
    ]);
    expect(await handlerFor()(event, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });
    const letters = await drainAll(sqsEmulator.sqs, queues.deadLetterQueueUrl);
    expect(letters.map((letter) => letter.reason)).toEqual([
      expect.objectContaining({
        failureClass: 'terminal',
        error: 'Zuora has no account with number A00000404',
        attempts: 1,
      }),
      expect.objectContaining({
        failureClass: 'terminal',
        error: 'Zuora has no account with id 0123456789abcdef0123456789abcdef',
      }),
    ]);
    // The letter is the account message, untouched, for `dlq replay` to send back to the fan-out queue.
    expect(letters.map((letter) => letter.body)).toEqual(event.Records.map((record) => record.body));
    expect(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl)).toEqual([]);
    expect(sum(metricValues(output.lines(), FANOUT_METRICS.unknownAccounts))).toBe(2);
  });

  it('retries a 429 within the invocation, then succeeds', async () => {
    seedAccount(sandbox, 'A00000429', 5, 1);
    sandbox.failNext(429, { retryAfter: '0' });
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000429')]);
    expect(await handlerFor()(event, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });
    expect(subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl))).toHaveLength(5);
    expect(sandbox.stats.injected429).toBe(1);
    expect(sum(metricValues(output.lines(), FANOUT_METRICS.zuoraRetries))).toBe(1);
  });

  it('backs a message off by its visibility when Zuora keeps answering 429, and the redelivery succeeds', async () => {
    seedAccount(sandbox, 'A00000430', 5, 1);
    sandbox.failNext(429, { count: 2, retryAfter: '0' });
    const handler = handlerFor({}, { random: () => 0 });
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000430')]);
    const first = await handler(event, createLambdaContext('fanout', 300_000));
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(events).toEqual([
      expect.objectContaining({ outcome: 'retry', visibilitySeconds: 1, error: expect.stringMatching(/429/) }),
    ]);
    expect(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl)).toEqual([]);

    const again = await receiveEvent(sqsEmulator.sqs, queues.accountQueueUrl, 1, 3);
    expect(again.Records.map((record) => record.attributes.ApproximateReceiveCount)).toEqual(['2']);
    expect(await handler(again, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });
    expect(subscriptionMessages(await drainAll(sqsEmulator.sqs, queues.mainQueueUrl))).toHaveLength(5);
    expect(await drainAll(sqsEmulator.sqs, queues.deadLetterQueueUrl)).toEqual([]);
  });

  it('ends a chain of continuations that outlasts the retry budget (a Zuora answering page after page for ever): dead-lettered as exhausted, no Zuora request', async () => {
    const id = sandbox.account('A00000432').id;
    const requestsBefore = apiRequests(sandbox);
    const stale = accountBody('A00000432', {
      receivedAt: new Date(Date.now() - 3_600_000).toISOString(),
      fanOut: { queryLocator: `${'f'.repeat(32)}-100`, accountId: id },
    });
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [stale]);
    expect(await handlerFor({ RETRY_BUDGET_SECONDS: '60' })(event, createLambdaContext('fanout', 300_000))).toEqual({
      batchItemFailures: [],
    });
    const letters = await drainAll(sqsEmulator.sqs, queues.deadLetterQueueUrl);
    expect(letters.map((letter) => letter.reason)).toEqual([
      expect.objectContaining({
        failureClass: 'exhausted',
        error: expect.stringMatching(/outlasted the retry budget of 60 s/),
      }),
    ]);
    expect(apiRequests(sandbox)).toBe(requestsBefore);
    expect(await drainAll(sqsEmulator.sqs, queues.accountQueueUrl)).toEqual([]);
  });

  it('dead-letters as exhausted once the retry budget is spent', async () => {
    sandbox.account('A00000431');
    sandbox.failNext(503, { count: 2 });
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [
      accountBody('A00000431', { receivedAt: new Date(Date.now() - 3_600_000).toISOString() }),
    ]);
    expect(await handlerFor({ RETRY_BUDGET_SECONDS: '60' })(event, createLambdaContext('fanout', 300_000))).toEqual({
      batchItemFailures: [],
    });
    const letters = await drainAll(sqsEmulator.sqs, queues.deadLetterQueueUrl);
    expect(letters.map((letter) => letter.reason)).toEqual([
      expect.objectContaining({
        failureClass: 'exhausted',
        error: expect.stringMatching(/retry budget of 60 s spent: Zuora: .*503/),
      }),
    ]);
  });

  it('dead-letters a subscription message on the fan-out queue as poison, saying where it belongs', async () => {
    const body = serializeQueueMessage(createSyncRequest({ subscriptionId: 'A-S00000001', source: 'test' }));
    const event = await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [body, 'not json']);
    expect(await handlerFor()(event, createLambdaContext('fanout', 300_000))).toEqual({ batchItemFailures: [] });
    const letters = await drainAll(sqsEmulator.sqs, queues.deadLetterQueueUrl);
    expect(letters.map((letter) => letter.reason.failureClass)).toEqual(['poison', 'poison']);
    expect(letters[0]!.reason.error).toMatch(/belong on the main queue/);
    expect(apiRequests(sandbox)).toBe(0);
  });

  describe('with the ledger', () => {
    const dynamo = useDynamoDbEmulator();

    it("marks lastQueuedAt of each subscription it queued with the account message's receivedAt (the time the ledger dates its messages by, not the send's), never moving it back", async () => {
      const names = seedAccount(sandbox, 'A00000600', 3, 1);
      const tableName = `ledger-${randomUUID().slice(0, 8)}`;
      await createOnDemandTable(dynamo.dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
      const handler = handlerFor({ LEDGER_TABLE_NAME: tableName }, { dynamo: dynamo.dynamodb });
      await handler(
        await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000600')]),
        createLambdaContext('fanout', 300_000),
      );
      const older = new Date(Date.parse(RECEIVED_AT) - 30_000).toISOString();
      await handler(
        await deliver(sqsEmulator.sqs, queues.accountQueueUrl, [accountBody('A00000600', { receivedAt: older })]),
        createLambdaContext('fanout', 300_000),
      );
      const queuedAt = Date.parse(RECEIVED_AT);
      for (const name of names) {
        const item = await dynamo.dynamodb.send(
          new GetItemCommand({
            TableName: tableName,
            Key: { [LEDGER_PARTITION_KEY]: { S: name } },
            ConsistentRead: true,
          }),
        );
        expect(item.Item?.lastQueuedAt).toEqual({ N: String(queuedAt) });
      }
    });
  });
});
