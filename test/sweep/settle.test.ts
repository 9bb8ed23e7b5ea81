import { DEFAULT_SUBSCRIPTION_ID_RULE } from '../../functions/shared/subscription-id';
import { EnqueueFailed, SweepTally, type SettleOptions } from '../../functions/sweep/settle';
import { latestVersions } from '../../functions/sweep/window';

const CHANGED = '2026-11-24T10:00:00.000Z';
const changedMs = Date.parse(CHANGED);
const slice = (...names: (string | null)[]) =>
  latestVersions(names.map((Name) => (Name === null ? { UpdatedDate: CHANGED } : { Name, UpdatedDate: CHANGED })));

function tallyWith(overrides: Partial<SettleOptions> = {}) {
  const enqueued: string[][] = [];
  const tally = new SweepTally({
    coverage: async () => new Map([['A-S1', { lastSuccessStartedAt: changedMs + 60_000 }]]),
    enqueue: async (ids) => {
      enqueued.push([...ids]);
      return { notQueued: [] };
    },
    rule: DEFAULT_SUBSCRIPTION_ID_RULE,
    rules: { commitLagMs: 1_000, clockMarginMs: 1_000 },
    batchSize: 2,
    dryRun: false,
    ...overrides,
  });
  return { tally, enqueued };
}

describe('SweepTally', () => {
  it('skips what a later sync covers, queues the rest in full batches, and counts each subscription once across slices', async () => {
    const { tally, enqueued } = tallyWith();
    await tally.settle(slice('A-S1', 'A-S2', 'A-S3', 'A-S4', null, 'bad id'));
    await tally.settle(slice('A-S2', 'A-S5'));
    expect(enqueued).toEqual([['A-S2', 'A-S3'], ['A-S4'], ['A-S5']]);
    expect(tally.counts()).toEqual({
      read: 0,
      distinct: 6,
      covered: 1,
      pending: 0,
      unproven: 0,
      missing: 4,
      queued: 4,
      invalid: 1,
      unnamed: 1,
      accountsRead: 0,
      contactsRead: 0,
      accountsChanged: 0,
      accountSubscriptions: 0,
    });
    expect(tally.invalidSamples()).toEqual(['bad id']);
  });

  it('queues when the ledger cannot answer, and says so', async () => {
    const unavailable: [number, string][] = [];
    const { tally, enqueued } = tallyWith({
      coverage: async () => {
        throw new Error('ledger timed out');
      },
      onCoverageUnavailable: (ids, error) => unavailable.push([ids, error]),
    });
    await tally.settle(slice('A-S1'));
    expect(enqueued).toEqual([['A-S1']]);
    expect(tally.coverageUnavailable).toBe(true);
    expect(unavailable).toEqual([[1, 'ledger timed out']]);
  });

  it('settles oldest change first and, at its deadline, says before when every change is queued or covered', async () => {
    const clock = { now: 0 };
    const { tally, enqueued } = tallyWith({
      coverage: async () => {
        clock.now += 1_000;
        return new Map();
      },
      now: () => clock.now,
    });
    const minute = (m: number) => `2026-11-24T10:0${m}:00.000Z`;
    const versions = latestVersions([
      { Name: 'A-S3', UpdatedDate: minute(3) },
      { Name: 'A-S1', UpdatedDate: minute(1) },
      { Name: 'A-S4', UpdatedDate: minute(4) },
      { Name: 'A-S2', UpdatedDate: minute(2) },
    ]);
    // One round (a look-up of two) fits before the deadline; a second, as long, would not.
    expect(await tally.settle(versions, { deadlineMs: 1_500 })).toEqual({
      complete: false,
      settledBeforeMs: Date.parse(minute(3)),
    });
    expect(enqueued).toEqual([['A-S1', 'A-S2']]);
  });

  it('vouches for no time, out of time, while a change with an unreadable UpdatedDate waits', async () => {
    const { tally } = tallyWith({ now: () => 10_000 });
    const versions = latestVersions([
      { Name: 'A-S1', UpdatedDate: CHANGED },
      { Name: 'A-S2', UpdatedDate: '24/11/2026' },
    ]);
    expect(await tally.settle(versions, { deadlineMs: 10_000 })).toEqual({
      complete: false,
      settledBeforeMs: undefined,
    });
  });

  it('queues nothing in a dry run but counts what it would have queued', async () => {
    const { tally, enqueued } = tallyWith({ dryRun: true });
    await tally.settle(slice('A-S1', 'A-S2'));
    expect(enqueued).toEqual([]);
    expect(tally.counts().queued).toBe(1);
  });

  it('throws EnqueueFailed for ids the queue did not take, and counts only those it did', async () => {
    const { tally } = tallyWith({ enqueue: async (ids) => ({ notQueued: ids.slice(1), error: 'throttled' }) });
    await expect(tally.settle(slice('A-S2', 'A-S3'))).rejects.toThrow(
      new EnqueueFailed('1 of 2 subscriptions could not be queued: throttled'),
    );
    expect(tally.counts().queued).toBe(1);
  });
});
