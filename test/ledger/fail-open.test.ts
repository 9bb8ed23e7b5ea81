import { readLedgerFailOpen } from '../../functions/ledger/fail-open';
import { InMemoryLedgerStore, type LedgerStore } from '../../functions/ledger/ledger-store';

const never: LedgerStore = {
  readMany: () => new Promise(() => undefined),
  claimSync: () => Promise.resolve(true),
  recordOutcome: () => Promise.resolve('recorded'),
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
    const failing: LedgerStore = { ...never, readMany: () => Promise.reject(new Error('AccessDeniedException: not allowed')) };
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
    expect(lookup).toEqual({ entries: new Map(), unknown: ['A-S1'], failure: 'the ledger did not answer within 200 ms' });
  });

  it('passes on the subscriptions the store could not read', async () => {
    const partial: LedgerStore = { ...never, readMany: async () => ({ entries: new Map(), unread: ['A-S2'] }) };
    expect(await readLedgerFailOpen(partial, ['A-S1', 'A-S2'], 1_000)).toEqual({ entries: new Map(), unknown: ['A-S2'] });
  });
});
