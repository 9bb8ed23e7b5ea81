import { DeleteItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import {
  LEDGER_MARKS,
  LEDGER_TTL_SECONDS,
  MAX_LEDGER_ERROR_LENGTH,
  type LedgerMark,
  type LedgerOutcome,
} from '../../functions/ledger/ledger-entry';
import { InMemoryLedgerStore, type LedgerStore } from '../../functions/ledger/ledger-store';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';

const synced = (startedAt: number, extra: Partial<Extract<LedgerOutcome, { kind: 'synced' }>> = {}): LedgerOutcome => ({
  kind: 'synced',
  startedAt,
  finishedAt: startedAt + 300,
  httpStatus: 200,
  limioId: `limio-${startedAt}`,
  owner: 'owner-1',
  ...extra,
});
const failed = (startedAt: number, kind: 'retryable' | 'terminal' = 'retryable'): LedgerOutcome => ({
  kind,
  startedAt,
  finishedAt: startedAt + 300,
  httpStatus: kind === 'retryable' ? 503 : 404,
  error: `Limio answered ${kind === 'retryable' ? 503 : 404}`,
});

const emulator = useDynamoDbEmulator();
let tableCount = 0;
async function freshDynamoDbStore(): Promise<DynamoDbLedgerStore> {
  const tableName = `ledger-${++tableCount}`;
  await createOnDemandTable(emulator.dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
  return new DynamoDbLedgerStore(emulator.dynamodb, tableName);
}

// One contract, two stores: the DynamoDB store against dynalite, and the in-memory store the models use.
describe.each([
  ['DynamoDB (dynalite)', freshDynamoDbStore],
  ['in memory', async () => new InMemoryLedgerStore()],
] as const)('ledger store contract: %s', (_name, freshStore: () => Promise<LedgerStore>) => {
  let store: LedgerStore;
  beforeEach(async () => {
    store = await freshStore();
  });

  it('reads nothing for subscriptions never recorded', async () => {
    const read = await store.readMany(['A-S1', 'A-S2', 'A-S1']);
    expect(read.entries.size).toBe(0);
    expect(read.unread).toEqual([]);
  });

  it('records a success with its Limio id and owner, and a TTL 30 days after the answer', async () => {
    expect(await store.recordOutcome('A-S1', synced(1_700_000_000_000))).toBe('recorded');
    const entry = (await store.readMany(['A-S1'])).entries.get('A-S1');
    expect(entry).toEqual({
      subscriptionId: 'A-S1',
      lastSuccess: {
        startedAt: 1_700_000_000_000,
        finishedAt: 1_700_000_000_300,
        limioId: 'limio-1700000000000',
        owner: 'owner-1',
      },
      lastAttempt: { outcome: 'synced', startedAt: 1_700_000_000_000, finishedAt: 1_700_000_000_300, httpStatus: 200 },
      expiresAt: Math.ceil(1_700_000_000_300 / 1000) + LEDGER_TTL_SECONDS,
    });
  });

  it('never moves the last success backwards when an older sync finishes last', async () => {
    expect(await store.recordOutcome('A-S1', synced(2_000))).toBe('recorded');
    // Started earlier, answered later (a slower concurrent invocation): not newer in any respect.
    expect(await store.recordOutcome('A-S1', synced(1_000, { finishedAt: 5_000 }))).toBe('superseded');
    expect(await store.recordOutcome('A-S1', failed(1_500))).toBe('superseded');
    const entry = (await store.readMany(['A-S1'])).entries.get('A-S1');
    expect(entry?.lastSuccess?.startedAt).toBe(2_000);
    expect(entry?.lastSuccess?.limioId).toBe('limio-2000');
    expect(entry?.lastAttempt).toMatchObject({ outcome: 'synced', startedAt: 2_000 });
  });

  it('keeps a newer failure as the last attempt but still takes the start of an older success that finished after it', async () => {
    expect(await store.recordOutcome('A-S1', synced(1_000))).toBe('recorded');
    expect(await store.recordOutcome('A-S1', failed(3_000))).toBe('recorded');
    expect(await store.recordOutcome('A-S1', synced(2_000, { limioId: undefined }))).toBe('success-only');
    const entry = (await store.readMany(['A-S1'])).entries.get('A-S1');
    expect(entry?.lastAttempt).toEqual({
      outcome: 'retryable',
      startedAt: 3_000,
      finishedAt: 3_300,
      httpStatus: 503,
      error: 'Limio answered 503',
    });
    // The id of the success at 1000 does not stay beside the start of the one at 2000, which had none.
    expect(entry?.lastSuccess).toEqual({ startedAt: 2_000, finishedAt: 2_300, owner: 'owner-1' });
  });

  it('replaces the error of the last attempt and drops it on success', async () => {
    await store.recordOutcome('A-S1', failed(1_000, 'terminal'));
    expect((await store.readMany(['A-S1'])).entries.get('A-S1')?.lastAttempt).toMatchObject({
      outcome: 'terminal',
      httpStatus: 404,
      error: 'Limio answered 404',
    });
    await store.recordOutcome('A-S1', {
      kind: 'retryable',
      startedAt: 2_000,
      finishedAt: 10_000,
      error: 'Limio did not answer within 8000 ms',
    });
    expect((await store.readMany(['A-S1'])).entries.get('A-S1')?.lastAttempt).toEqual({
      outcome: 'retryable',
      startedAt: 2_000,
      finishedAt: 10_000,
      error: 'Limio did not answer within 8000 ms',
    });
    await store.recordOutcome('A-S1', synced(11_000));
    expect((await store.readMany(['A-S1'])).entries.get('A-S1')?.lastAttempt).toEqual({
      outcome: 'synced',
      startedAt: 11_000,
      finishedAt: 11_300,
      httpStatus: 200,
    });
  });

  it('keeps Limio text bounded and storable whatever Limio answered', async () => {
    const long = `${'x'.repeat(MAX_LEDGER_ERROR_LENGTH - 2)}😀😀 and more`;
    await store.recordOutcome('A-S1', {
      kind: 'terminal',
      startedAt: 1_000,
      finishedAt: 1_100,
      httpStatus: 400,
      error: long,
    });
    await store.recordOutcome('A-S2', {
      kind: 'terminal',
      startedAt: 1_000,
      finishedAt: 1_100,
      httpStatus: 400,
      error: 'half a pair \ud83d here',
    });
    const { entries } = await store.readMany(['A-S1', 'A-S2']);
    const error = entries.get('A-S1')?.lastAttempt?.error ?? '';
    expect(Array.from(error)).toHaveLength(MAX_LEDGER_ERROR_LENGTH);
    expect(error.endsWith('😀…')).toBe(true);
    expect(entries.get('A-S2')?.lastAttempt?.error).toBe('half a pair \ufffd here');
  });

  it('lets one sync claim a subscription at a time, until its answer is recorded or its lease runs out', async () => {
    const claim = (startedAt: number, expectedLastSuccessStartedAt?: number) =>
      store.claimSync('A-S1', { startedAt, leaseMs: 30_000, expectedLastSuccessStartedAt });
    expect(await claim(1_000)).toBe(true);
    expect(await claim(1_500)).toBe(false);
    expect((await store.readMany(['A-S1'])).entries.get('A-S1')?.claim).toEqual({ startedAt: 1_000, until: 31_000 });
    await store.recordOutcome('A-S1', synced(1_000));
    // Decided from a read older than that success: refused, so its cooldown is not skipped.
    expect(await claim(2_000)).toBe(false);
    expect(await claim(2_000, 1_000)).toBe(true);
    // Its holder vanished without an answer: free again once the lease has run out.
    expect(await claim(31_999, 1_000)).toBe(false);
    expect(await claim(32_000, 1_000)).toBe(true);
  });

  it('raises lastQueuedAt and provenThrough to the latest value written, in any order, and keeps them through outcomes and claims', async () => {
    expect(await store.raiseMark('A-S1', 'lastQueuedAt', 5_000)).toBe(true);
    expect(await store.raiseMark('A-S1', 'lastQueuedAt', 4_000)).toBe(false);
    expect(await store.raiseMark('A-S1', 'lastQueuedAt', 5_000)).toBe(false);
    expect(await store.raiseMark('A-S1', 'provenThrough', 3_000)).toBe(true);
    expect((await store.readMany(['A-S1'])).entries.get('A-S1')).toEqual({
      subscriptionId: 'A-S1',
      lastQueuedAt: 5_000,
      provenThrough: 3_000,
      // An item a mark creates expires like one an outcome creates.
      expiresAt: Math.ceil(5_000 / 1000) + LEDGER_TTL_SECONDS,
    });
    await store.claimSync('A-S1', { startedAt: 6_000, leaseMs: 30_000, expectedLastSuccessStartedAt: undefined });
    await store.recordOutcome('A-S1', synced(6_000));
    expect(await store.raiseMark('A-S1', 'lastQueuedAt', 7_000)).toBe(true);
    const entry = (await store.readMany(['A-S1'])).entries.get('A-S1');
    expect(entry).toMatchObject({
      lastQueuedAt: 7_000,
      provenThrough: 3_000,
      lastSuccess: { startedAt: 6_000 },
      expiresAt: Math.ceil(6_300 / 1000) + LEDGER_TTL_SECONDS,
    });
  });

  it('a claim is over when a failed answer of its sync is recorded, too', async () => {
    expect(
      await store.claimSync('A-S1', { startedAt: 1_000, leaseMs: 30_000, expectedLastSuccessStartedAt: undefined }),
    ).toBe(true);
    await store.recordOutcome('A-S1', failed(1_000));
    expect(
      await store.claimSync('A-S1', { startedAt: 1_200, leaseMs: 30_000, expectedLastSuccessStartedAt: undefined }),
    ).toBe(true);
  });
});

describe('DynamoDB ledger store and the in-memory rules agree', () => {
  type Operation =
    | { readonly op: 'record'; readonly outcome: LedgerOutcome }
    | {
        readonly op: 'claim';
        readonly startedAt: number;
        readonly leaseMs: number;
        readonly expectRecorded: boolean;
        readonly expectedDelta: number;
      }
    | { readonly op: 'mark'; readonly mark: LedgerMark; readonly valueMs: number };
  // Few distinct times, so equal and reversed starts are common.
  const time = fc.integer({ min: 0, max: 12 }).map((tick) => 1_000 * tick);
  const operation: fc.Arbitrary<Operation> = fc.oneof(
    fc.record({
      op: fc.constant('record' as const),
      outcome: fc
        .oneof(
          fc.record({
            kind: fc.constant('synced' as const),
            startedAt: time,
            finishedAt: time,
            httpStatus: fc.constantFrom(200, 201),
            limioId: fc.option(fc.constantFrom('l-1', 'l-2'), { nil: undefined }),
            owner: fc.option(fc.constant('o'), { nil: undefined }),
          }),
          fc.record({
            kind: fc.constantFrom('retryable' as const, 'terminal' as const),
            startedAt: time,
            finishedAt: time,
            httpStatus: fc.option(fc.constantFrom(404, 503), { nil: undefined }),
            error: fc.constantFrom('e1', 'e2'),
          }),
        )
        .map((outcome) => JSON.parse(JSON.stringify(outcome)) as LedgerOutcome),
    }),
    fc.record({
      op: fc.constant('claim' as const),
      startedAt: time,
      leaseMs: fc.constantFrom(500, 3_000),
      expectRecorded: fc.boolean(),
      expectedDelta: fc.constantFrom(0, 0, 1_000),
    }),
    fc.record({ op: fc.constant('mark' as const), mark: fc.constantFrom<LedgerMark>(...LEDGER_MARKS), valueMs: time }),
  );
  let runs = 0;

  it('answer every sequence of claims, answers and marks alike, and end with the same entry', async () => {
    const dynamodb = await freshDynamoDbStore();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (operations) => {
        const id = `P-${++runs}`;
        const memory = new InMemoryLedgerStore();
        for (const operation of operations) {
          if (operation.op === 'record') {
            expect(await dynamodb.recordOutcome(id, operation.outcome)).toBe(
              await memory.recordOutcome(id, operation.outcome),
            );
          } else if (operation.op === 'mark') {
            expect(await dynamodb.raiseMark(id, operation.mark, operation.valueMs)).toBe(
              await memory.raiseMark(id, operation.mark, operation.valueMs),
            );
          } else {
            // Mostly what a caller would have read, sometimes a stale or wrong value.
            const lastSuccess = (await memory.readMany([id])).entries.get(id)?.lastSuccess?.startedAt;
            const expected = operation.expectRecorded
              ? lastSuccess === undefined
                ? undefined
                : lastSuccess - operation.expectedDelta
              : undefined;
            const request = {
              startedAt: operation.startedAt,
              leaseMs: operation.leaseMs,
              expectedLastSuccessStartedAt: expected,
            };
            expect(await dynamodb.claimSync(id, request)).toBe(await memory.claimSync(id, request));
          }
        }
        expect((await dynamodb.readMany([id])).entries.get(id)).toEqual((await memory.readMany([id])).entries.get(id));
      }),
      { numRuns: 40 },
    );
  });
});

describe('DynamoDB ledger store reads', () => {
  it('reads more than 100 subscriptions in chunks, duplicates and missing ones included', async () => {
    const store = await freshDynamoDbStore();
    const ids = Array.from({ length: 250 }, (_, i) => `B-S${i}`);
    const recorded = ids.filter((_, i) => i % 2 === 0);
    for (const id of recorded) await store.recordOutcome(id, synced(1_000));
    const read = await store.readMany([...ids, ...ids.slice(0, 30)]);
    expect([...read.entries.keys()].sort()).toEqual([...recorded].sort());
    expect(read.unread).toEqual([]);
  });

  it('keeps one item per subscription with the attributes the table documents', async () => {
    const store = await freshDynamoDbStore();
    await store.recordOutcome('A-S1', synced(1_000));
    const tableName = `ledger-${tableCount}`;
    const { Item } = await emulator.dynamodb.send(
      new GetItemCommand({ TableName: tableName, Key: { subscriptionId: { S: 'A-S1' } } }),
    );
    expect(Object.keys(Item ?? {}).sort()).toEqual(
      [
        'expiresAt',
        'lastAttemptFinishedAt',
        'lastAttemptStartedAt',
        'lastHttpStatus',
        'lastOutcome',
        'lastSuccessFinishedAt',
        'lastSuccessStartedAt',
        'limioId',
        'owner',
        'subscriptionId',
      ].sort(),
    );
    await emulator.dynamodb.send(
      new DeleteItemCommand({ TableName: tableName, Key: { subscriptionId: { S: 'A-S1' } } }),
    );
    expect((await store.readMany(['A-S1'])).entries.size).toBe(0);
  });
});
