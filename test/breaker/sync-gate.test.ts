import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { BreakerState } from '../../functions/breaker/breaker-state';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { DynamoDbBreakerStore } from '../../functions/breaker/dynamodb-store';
import { closeBreaker } from '../../functions/breaker/operator';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from '../../functions/breaker/settings';
import { createBreakerGate, type BatchOutcomes, type SyncOutcomeForBreaker } from '../../functions/breaker/sync-gate';

const settings: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, windowSeconds: 60, stateCacheSeconds: 5 };
// Aligned to a bucket start, so the tests say which bucket each batch lands in.
const T0 = Math.floor(Date.parse('2026-11-24T10:00:00.000Z') / 60_000) * 60_000;

function batch(outcome: SyncOutcomeForBreaker, ids: string[], tokenFailures = 0): BatchOutcomes {
  return { syncs: ids.map((subscriptionId) => ({ subscriptionId, outcome })), tokenFailures };
}

const ids = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `A-S${prefix}${String(i).padStart(4, '0')}`);

function instances(
  count: number,
  store: InMemoryBreakerStore,
  clock: { now: number },
  transitions: [BreakerState, BreakerState][] = [],
) {
  return Array.from({ length: count }, () =>
    createBreakerGate({
      store,
      settings,
      now: () => clock.now,
      onTransition: (before, after) => transitions.push([before, after]),
    }),
  );
}

describe('the breaker gate of the sync Lambda', () => {
  it('trips on failures spread over instances and subscriptions, and the tripping instance stops at once', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 + 1000 };
    const transitions: [BreakerState, BreakerState][] = [];
    const [a, b] = instances(2, store, clock, transitions);
    expect((await a!.current()).state).toBe('closed');
    expect((await b!.current()).state).toBe('closed');

    expect((await a!.record(batch('limio-failure', ids('00', 5)))).state).toBe('closed');
    clock.now += 1000;
    const afterB = await b!.record(batch('limio-failure', ids('01', 5)));
    expect(afterB).toMatchObject({ state: 'open', openedBy: 'auto', since: T0 + 2000 });
    expect(afterB.reason).toBe("10 of 10 syncs failed on Limio's side, for 10 subscriptions");
    expect((await b!.current()).state).toBe('open');
    expect(transitions.map(([before, after]) => `${before.state}->${after.state}`)).toEqual(['closed->open']);

    // The other instance trusts its cache for stateCacheSeconds, then sees the breaker open.
    expect((await a!.current()).state).toBe('closed');
    clock.now = T0 + 1000 + settings.stateCacheSeconds * 1000;
    expect((await a!.current()).state).toBe('open');
  });

  it('never trips on one bad subscription that Limio fails every time, from every instance', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 };
    const gates = instances(3, store, clock);
    for (let round = 0; round < 200; round++) {
      clock.now = T0 + round * 1000;
      const gate = gates[round % gates.length]!;
      await gate.record(batch('limio-failure', ['A-S00000666']));
      await gate.record(batch('synced', ids('1', 1)));
    }
    expect((await store.read()).breaker.state).toBe('closed');
  });

  it('trips on repeated token endpoint failures', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 };
    const [gate] = instances(1, store, clock);
    await gate!.record({ syncs: [], tokenFailures: 2 });
    expect((await store.read()).breaker.state).toBe('closed');
    await gate!.record(batch('limio-failure', ['A-S00000001'], 1));
    expect((await store.read()).breaker).toMatchObject({
      state: 'open',
      reason: 'token endpoint failed 3 times in the window',
    });
  });

  it('judges the current and the previous bucket together', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 + 50_000 };
    const [gate] = instances(1, store, clock);
    await gate!.record(batch('limio-failure', ids('2', 6)));
    clock.now = T0 + 65_000;
    expect((await gate!.record(batch('limio-failure', ids('3', 4)))).state).toBe('open');
  });

  it('forgets buckets older than the previous one', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 };
    const [gate] = instances(1, store, clock);
    await gate!.record(batch('limio-failure', ids('2', 6)));
    clock.now = T0 + 125_000;
    expect((await gate!.record(batch('limio-failure', ids('3', 4)))).state).toBe('closed');
  });

  it('starts a fresh window with each phase: the failures that opened it cannot reopen it once closed', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 + 1000 };
    const [gate] = instances(1, store, clock);
    await gate!.record(batch('limio-failure', ids('4', 10)));
    expect((await store.read()).breaker.state).toBe('open');
    clock.now += 2000;
    await closeBreaker(store, { now: clock.now });
    clock.now += settings.stateCacheSeconds * 1000;
    expect((await gate!.current()).state).toBe('closed');
    expect((await gate!.record(batch('limio-failure', ids('5', 1)))).state).toBe('closed');
  });

  it('closes a half-open breaker after enough successes in the small batch', async () => {
    const open: BreakerState = {
      state: 'half-open',
      since: T0,
      reason: 'probe healthy',
      openedBy: 'auto',
      openIntervals: [{ from: T0 - 600_000 }],
      healthyProbes: 1,
      version: 7,
    };
    const store = new InMemoryBreakerStore(open);
    const clock = { now: T0 + 1000 };
    const transitions: [BreakerState, BreakerState][] = [];
    const [gate] = instances(1, store, clock, transitions);
    expect((await gate!.record(batch('synced', ids('6', 4)))).state).toBe('half-open');
    const closed = await gate!.record(batch('synced', ids('7', 1)));
    expect(closed).toMatchObject({
      state: 'closed',
      openIntervals: [{ from: T0 - 600_000, to: T0 + 1000 }],
      version: 8,
    });
    expect(transitions.map(([, after]) => after.state)).toEqual(['closed']);
  });

  it('does not apply a window from a phase that has ended meanwhile', async () => {
    const store = new InMemoryBreakerStore();
    const clock = { now: T0 + 1000 };
    const [stale, other] = instances(2, store, clock);
    await stale!.current();
    await other!.record(batch('limio-failure', ids('8', 10)));
    clock.now += 1000;
    await closeBreaker(store, { now: clock.now });
    const closedVersion = (await store.read()).breaker.version;
    // `stale` still believes in the first closed phase and records more failures into its window.
    await stale!.record(batch('limio-failure', ids('9', 10)));
    expect((await store.read()).breaker).toMatchObject({ state: 'closed', version: closedVersion });
  });

  it('writes nothing for an empty batch', async () => {
    const store = new InMemoryBreakerStore();
    const [gate] = instances(1, store, { now: T0 });
    await gate!.record({ syncs: [], tokenFailures: 0 });
    expect(store.bucketCount).toBe(0);
  });
});

describe('the gate fails open', () => {
  const dynamo = mockClient(DynamoDBClient);
  afterAll(() => dynamo.restore());

  it('keeps syncing as if closed when the table cannot be read or written, and says so', async () => {
    dynamo.on(GetItemCommand).rejects(new Error('AccessDeniedException'));
    dynamo.on(UpdateItemCommand).rejects(new Error('AccessDeniedException'));
    const errors: string[] = [];
    const gate = createBreakerGate({
      store: new DynamoDbBreakerStore(new DynamoDBClient({ region: 'eu-west-1' }), 'zls-breaker'),
      settings,
      now: () => T0,
      onError: (error, during) => errors.push(`${during}: ${(error as Error).message}`),
    });
    expect((await gate.current()).state).toBe('closed');
    await expect(gate.record(batch('limio-failure', ids('0', 10)))).resolves.toMatchObject({ state: 'closed' });
    expect(errors).toEqual(['read: AccessDeniedException', 'record: AccessDeniedException']);
  });

  it('does not read a failing table again until BREAKER_STATE_CACHE_SECONDS have passed (a stalled read costs its timeout once)', async () => {
    dynamo.reset();
    dynamo.on(GetItemCommand).rejects(new Error('TimeoutError'));
    let now = T0;
    const gate = createBreakerGate({
      store: new DynamoDbBreakerStore(new DynamoDBClient({ region: 'eu-west-1' }), 'zls-breaker'),
      settings,
      now: () => now,
      onError: () => undefined,
    });
    await Promise.all([gate.current(), gate.current()]);
    const concurrentReads = dynamo.commandCalls(GetItemCommand).length;
    await gate.current();
    await gate.current();
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(concurrentReads);
    now += settings.stateCacheSeconds * 1000;
    await gate.current();
    expect(dynamo.commandCalls(GetItemCommand)).toHaveLength(concurrentReads + 1);
  });
});
