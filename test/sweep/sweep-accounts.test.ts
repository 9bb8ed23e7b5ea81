import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { InMemoryLedgerStore } from '../../functions/ledger/ledger-store';
import { parseSyncRequest } from '../../functions/shared/queue-message';
import { loadSweepConfig } from '../../functions/sweep/config';
import { createSweepRunner } from '../../functions/sweep/runner';
import { memoryWatermarkStore, runSweep, type AccountChangeSource } from '../../functions/sweep/sweep';
import { startZuoraSandbox, tenantDateTime, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { drainQueue } from '../callout/queue-reader';
import { useSqsEmulator } from '../support/sqs-emulator';

// Issue #22 item 3: the sweep reads Account and Contact changes beside Subscription changes, slice by slice, and
// judges each changed account's subscriptions by that change, as it judges a subscription's own change.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const LAG_MS = 60_000;

describe('the sweep over account and contact changes (Zuora sandbox, SQS emulator, ledger)', () => {
  const emulator = useSqsEmulator();
  let sandbox: ZuoraSandbox;
  let queueUrl: string;
  let counter = 0;
  let now: number;
  /** Long before the sweep's first window: accounts and subscriptions made then are not changes it reads. */
  let before: number;

  beforeEach(async () => {
    sandbox = await startZuoraSandbox({ pageSize: 2000 });
    queueUrl = (await emulator.sqs.send(new CreateQueueCommand({ QueueName: `sweep-accounts-${++counter}` })))
      .QueueUrl!;
    now = Date.now();
    before = now - 3 * HOUR;
  });
  afterEach(async () => {
    await sandbox.stop();
  });

  function sweepOver(ledger: InMemoryLedgerStore) {
    const config = loadSweepConfig({
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_CLIENT_ID: sandbox.clientId,
      ZUORA_CLIENT_SECRET: sandbox.clientSecret,
      SWEEP_INTERVAL_SECONDS: '60',
      SWEEP_SETTLE_SECONDS: '120',
      SWEEP_OVERLAP_SECONDS: '120',
      SWEEP_INITIAL_LOOKBACK_SECONDS: '1800',
      SWEEP_COMMIT_LAG_SECONDS: String(LAG_MS / 1000),
    });
    const runner = createSweepRunner({
      config,
      sqs: emulator.sqs,
      queueUrl,
      source: 'sweep',
      ledger,
      watermarks: memoryWatermarkStore(),
    });
    // Every ZOQL query the sweep sends, by its text (queryMore pages are not new queries).
    const queries: string[] = [];
    const query = runner.client.query.bind(runner.client);
    runner.client.query = (queryString, options) => {
      queries.push(queryString);
      return query(queryString, options);
    };
    return { run: () => runner.run({ now: () => now }), queries };
  }

  /** An account made long ago with these subscriptions (one version each, also long ago). */
  function accountWith(accountNumber: string, subscriptions: readonly string[]): string {
    const account = sandbox.account(accountNumber, before);
    for (const name of subscriptions) sandbox.touch(name, before, { account: accountNumber });
    return account.id;
  }

  async function queuedMessages() {
    return (await drainQueue(emulator.sqs, queueUrl)).map((body) => {
      const parsed = parseSyncRequest(body);
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.request;
    });
  }

  it('queues exactly the subscriptions of an account whose contact email changed with no callout, counted missing', async () => {
    accountWith('A00000101', ['A-S101', 'A-S102']);
    accountWith('A00000201', ['A-S201']);
    const changedAt = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
    sandbox.touchContact('A00000101', { workEmail: 'new@example.com' }, { at: changedAt });
    const ledger = new InMemoryLedgerStore();
    const { run } = sweepOver(ledger);

    const report = await run();

    expect(report).toMatchObject({
      outcome: 'complete',
      counts: {
        read: 0,
        contactsRead: 1,
        accountsRead: 0,
        accountsChanged: 1,
        accountSubscriptions: 2,
        missing: 2,
        unproven: 0,
        pending: 0,
        covered: 0,
        queued: 2,
      },
    });
    const messages = await queuedMessages();
    expect(messages.map((message) => message.subscriptionId).sort()).toEqual(['A-S101', 'A-S102']);
    for (const message of messages) {
      expect(message.source).toBe('sweep');
      // An account's change time names no subscription version: no zuoraUpdatedAt, so it proves nothing as one.
      expect(message.zuoraUpdatedAt).toBeUndefined();
      expect(ledger.readNow([message.subscriptionId]).entries.get(message.subscriptionId)?.lastQueuedAt).toBe(now);
    }
  });

  it('queues nothing for an account change whose subscriptions provably synced after it (a sync started after U + L)', async () => {
    accountWith('A00000301', ['A-S301', 'A-S302']);
    const changedAt = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
    sandbox.touchAccount('A00000301', changedAt);
    const ledger = new InMemoryLedgerStore();
    for (const name of ['A-S301', 'A-S302']) {
      await ledger.raiseMark(name, 'lastQueuedAt', changedAt + 2_000);
      await ledger.recordOutcome(name, {
        kind: 'synced',
        startedAt: changedAt + LAG_MS + 5_000,
        finishedAt: changedAt + LAG_MS + 5_400,
        httpStatus: 200,
      });
    }
    const { run } = sweepOver(ledger);

    const report = await run();

    expect(report).toMatchObject({
      outcome: 'complete',
      counts: { accountsRead: 1, accountsChanged: 1, accountSubscriptions: 2, covered: 2, queued: 0, missing: 0 },
    });
    expect(await queuedMessages()).toEqual([]);
  });

  it('takes an account change whose callout was fanned out (lastQueuedAt marked, no sync since) for pending: nothing queued, nothing missing', async () => {
    accountWith('A00000401', ['A-S401', 'A-S402', 'A-S403']);
    const changedAt = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
    sandbox.touchContact('A00000401', { address1: '9 Other Road' }, { role: 'soldTo', at: changedAt });
    const ledger = new InMemoryLedgerStore();
    // The account callout came 3 s after the change; the fan-out queued and marked each subscription; Limio is
    // down or behind, so no sync has succeeded since.
    for (const name of ['A-S401', 'A-S402', 'A-S403']) await ledger.raiseMark(name, 'lastQueuedAt', changedAt + 3_000);
    const { run } = sweepOver(ledger);

    const report = await run();

    expect(report).toMatchObject({
      outcome: 'complete',
      counts: { accountSubscriptions: 3, pending: 3, queued: 0, missing: 0, unproven: 0 },
    });
    expect(await queuedMessages()).toEqual([]);
  });

  it("does not take provenThrough in the account change's second for proof: it names a Subscription UpdatedDate", async () => {
    accountWith('A00000501', ['A-S501']);
    const changedAt = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
    sandbox.touchAccount('A00000501', changedAt);
    const ledger = new InMemoryLedgerStore();
    // A subscription callout for a change stamped in the same second, served 2 s later: before U + L.
    await ledger.raiseMark('A-S501', 'lastQueuedAt', changedAt + 1_000);
    await ledger.recordOutcome('A-S501', {
      kind: 'synced',
      startedAt: changedAt + 2_000,
      finishedAt: changedAt + 2_300,
      httpStatus: 200,
    });
    await ledger.raiseMark('A-S501', 'provenThrough', changedAt);
    const { run } = sweepOver(ledger);

    const report = await run();

    expect(report).toMatchObject({ counts: { accountSubscriptions: 1, unproven: 1, missing: 0, queued: 1 } });
    expect((await queuedMessages()).map((message) => message.subscriptionId)).toEqual(['A-S501']);
  });

  it('judges a subscription changed itself and through its account by the worse verdict, its message naming only its own UpdatedDate', async () => {
    accountWith('A00000601', ['A-S601']);
    const ownChangeAt = Math.floor((now - 20 * MINUTE) / 1000) * 1000;
    const accountChangeAt = ownChangeAt + 5 * MINUTE;
    sandbox.touch('A-S601', ownChangeAt, { account: 'A00000601' });
    sandbox.touchContact('A00000601', { lastName: 'Moved' }, { at: accountChangeAt });
    const ledger = new InMemoryLedgerStore();
    // Its own change came with a callout naming it and was synced (covered by provenThrough); the contact change
    // after it had none.
    await ledger.raiseMark('A-S601', 'lastQueuedAt', ownChangeAt + 1_000);
    await ledger.recordOutcome('A-S601', {
      kind: 'synced',
      startedAt: ownChangeAt + 2_000,
      finishedAt: ownChangeAt + 2_300,
      httpStatus: 200,
    });
    await ledger.raiseMark('A-S601', 'provenThrough', ownChangeAt);
    const { run } = sweepOver(ledger);

    const report = await run();

    expect(report).toMatchObject({
      counts: { read: 1, distinct: 1, accountSubscriptions: 1, missing: 1, covered: 0, queued: 1 },
    });
    const [message, ...others] = await queuedMessages();
    expect(others).toEqual([]);
    expect(message).toMatchObject({ subscriptionId: 'A-S601', zuoraUpdatedAt: new Date(ownChangeAt).toISOString() });
  });

  it('resolves 300 changed accounts with 2 Subscription queries of 199 and 101 "or" conditions, not 300', async () => {
    const changedAt = Math.floor((now - 10 * MINUTE) / 1000) * 1000;
    const accountIds: string[] = [];
    for (let i = 0; i < 300; i++) {
      const accountNumber = `A${String(10_000 + i).padStart(8, '0')}`;
      accountIds.push(accountWith(accountNumber, [`A-S${10_000 + i}`]));
      sandbox.touchAccount(accountNumber, changedAt + (i % 60) * 1000);
    }
    const ledger = new InMemoryLedgerStore();
    const { run, queries } = sweepOver(ledger);
    const requestsBefore = sandbox.stats.queryRequests + sandbox.stats.queryMoreRequests;

    const report = await run();

    expect(report).toMatchObject({
      outcome: 'complete',
      counts: { accountsRead: 300, accountsChanged: 300, accountSubscriptions: 300, missing: 300, queued: 300 },
    });
    const lookups = queries.filter((query) => query.includes(' or ') || /where AccountId =/.test(query));
    expect(lookups).toHaveLength(2);
    expect(lookups.map((query) => query.split(' or ').length)).toEqual([199, 101]);
    expect(
      lookups.every((query) => query.startsWith('select Name, AccountId from Subscription where AccountId = ')),
    ).toBe(true);
    // The floor for one slice: Subscription, Account and Contact changes, then one lookup per 199 accounts.
    expect(queries).toHaveLength(5);
    expect(sandbox.stats.queryRequests + sandbox.stats.queryMoreRequests - requestsBefore).toBe(5);
    expect(new Set(accountIds).size).toBe(300);
    expect(await queuedMessages()).toHaveLength(300);
  });
});

describe('the sweep over account and contact changes: answers outside the slice', () => {
  // The sweep reads [16:00, 18:00) in hourly slices; a record stamped 15:30 is outside each.
  const outside = tenantDateTime(Date.parse('2026-11-24T15:30:00Z'), 60);
  const id = 'a'.repeat(32);

  async function sweepWith(accounts: Partial<AccountChangeSource>, subscriptionChanges: readonly unknown[] = []) {
    const watermarks = memoryWatermarkStore({ completedUntilMs: Date.parse('2026-11-24T16:10:00Z') });
    const queued: string[] = [];
    const empty = async function* () {};
    const report = await runSweep(
      {
        source: {
          changed: async function* (range) {
            yield subscriptionChanges.filter((record) => {
              const atMs = Date.parse((record as { UpdatedDate: string }).UpdatedDate);
              return range.startMs <= atMs && atMs < range.endMs;
            });
          },
        },
        accounts: { changedAccounts: empty, changedContacts: empty, subscriptionsOf: empty, ...accounts },
        coverage: async (ids) => new Map(ids.map((subscription) => [subscription, undefined])),
        enqueue: async (ids) => {
          queued.push(...ids);
          return { notQueued: [] };
        },
        watermarks,
        now: () => Date.parse('2026-11-24T18:05:00Z'),
      },
      {
        settings: { settleSeconds: 300, overlapSeconds: 600, initialLookbackSeconds: 3600, maxSliceSeconds: 3600 },
        commitLagSeconds: 60,
        deadlineMs: Date.parse('2026-11-24T18:10:00Z'),
      },
    );
    return { report, watermarks, queued };
  }

  it.each([
    [
      'an account',
      {
        changedAccounts: async function* () {
          yield [{ Id: id, UpdatedDate: outside }];
        },
      },
    ],
    [
      'a contact',
      {
        changedContacts: async function* () {
          yield [{ AccountId: id, UpdatedDate: outside }];
        },
      },
    ],
  ])('fails without moving the watermark when %s comes back outside the slice asked for', async (_what, accounts) => {
    const { report, watermarks, queued } = await sweepWith(accounts);
    expect(report).toMatchObject({ outcome: 'failed', errorKind: 'outside-slice', slicesCompleted: 0 });
    expect(report.error).toMatch(/outside it/);
    expect(watermarks.current).toEqual({ completedUntilMs: Date.parse('2026-11-24T16:10:00Z') });
    expect(queued).toEqual([]);
  });

  it('keeps a slice whose contacts the deadline cut off for the next run, its subscription changes unsettled too', async () => {
    const { report, watermarks, queued } = await sweepWith(
      {
        changedContacts: async function* () {
          throw Object.assign(
            new Error('Zuora /v1/action/query: no time left for another attempt before the deadline'),
            { kind: 'deadline' },
          );
        },
      },
      [{ Name: 'A-S1', UpdatedDate: '2026-11-24T16:20:00.000+00:00' }],
    );
    expect(report).toMatchObject({ outcome: 'out-of-time', slicesCompleted: 0, counts: { read: 1, queued: 0 } });
    expect(watermarks.current).toEqual({ completedUntilMs: Date.parse('2026-11-24T16:10:00Z'), sliceSeconds: 1800 });
    expect(queued).toEqual([]);
  });
});
