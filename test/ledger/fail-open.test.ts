import { readLedgerFailOpen } from '../../functions/ledger/fail-open';
import { markQueuedFailOpen } from '../../functions/ledger/queued-mark';
import { InMemoryLedgerStore, type LedgerStore } from '../../functions/ledger/ledger-store';

const never: LedgerStore = {
  readMany: () => new Promise(() => undefined),
  claimSync: () => Promise.resolve(true),
  recordOutcome: () => Promise.resolve('recorded'),
  raiseMark: () => Promise.resolve(true),
};

describe('readLedgerFailOpen', () => {
  it('answers with the entries when the ledger answers', async () => {
    const store = new InMemoryLedgerStore();
    await store.recordOutcome('A-S1', { kind: 'synced', startedAt: 1_000, finishedAt: 1_200, httpStatus: 200 });
    const lookup = await readLedgerFailOpen(store, ['A-S1', 'A-S2', 'A-S1'], 1_000);
    expect([...lookup.entries.keys()]).toEqual(['A-S1']);
    expect(lookup.unknown).toEqual([]);
    expect(lookup.failure).toBeUndefined();
  });

  it('makes every entry unknown when the read fails', async () => {
    const failing: LedgerStore = {
      ...never,
      readMany: () => Promise.reject(new Error('AccessDeniedException: not allowed')),
    };
    expect(await readLedgerFailOpen(failing, ['A-S1', 'A-S2', 'A-S1'], 1_000)).toEqual({
      entries: new Map(),
      unknown: ['A-S1', 'A-S2'],
      failure: 'AccessDeniedException: not allowed',
    });
  });

  it('gives up at its deadline when the read never answers', async () => {
    const started = Date.now();
    const lookup = await readLedgerFailOpen(never, ['A-S1'], 200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lookup).toEqual({
      entries: new Map(),
      unknown: ['A-S1'],
      failure: 'the ledger did not answer within 200 ms',
    });
  });

  it('passes on the subscriptions the store could not read', async () => {
    const partial: LedgerStore = { ...never, readMany: async () => ({ entries: new Map(), unread: ['A-S2'] }) };
    expect(await readLedgerFailOpen(partial, ['A-S1', 'A-S2'], 1_000)).toEqual({
      entries: new Map(),
      unknown: ['A-S2'],
    });
  });
});

describe('markQueuedFailOpen', () => {
  it('marks each subscription once with the time taken before the send', async () => {
    const store = new InMemoryLedgerStore();
    expect(await markQueuedFailOpen(store, ['A-S1', 'A-S2', 'A-S1'], 5_000, 1_000)).toEqual({ unmarked: [] });
    expect((await store.readMany(['A-S1', 'A-S2'])).entries.get('A-S2')?.lastQueuedAt).toBe(5_000);
  });

  it('never throws and never waits past its timeout: a stalled or failing ledger leaves the ids unmarked, with the reason', async () => {
    const stalled: LedgerStore = { ...never, raiseMark: () => new Promise(() => undefined) };
    const startedAt = Date.now();
    expect(await markQueuedFailOpen(stalled, ['A-S1'], 5_000, 50)).toEqual({
      unmarked: ['A-S1'],
      failure: 'the ledger did not answer within 50 ms',
    });
    expect(Date.now() - startedAt).toBeLessThan(1_000);
    const failing: LedgerStore = {
      ...never,
      raiseMark: () => Promise.reject(new Error('AccessDeniedException: not allowed')),
    };
    expect(await markQueuedFailOpen(failing, ['A-S1', 'A-S2'], 5_000, 1_000)).toEqual({
      unmarked: ['A-S1', 'A-S2'],
      failure: 'AccessDeniedException: not allowed',
    });
  });
});
