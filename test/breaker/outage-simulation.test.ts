import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import type { PollingChange, SyncPollingController } from '../../functions/breaker/polling-controller';
import { createProbeHandler } from '../../functions/breaker/probe-handler';
import { decideRetry, holdVisibilitySeconds } from '../../functions/sync/retry-budget';
import { DEFAULT_BREAKER_SETTINGS, DEFAULT_RETRY_SETTINGS, type RetrySettings } from '../../functions/breaker/settings';
import { createBreakerGate, type BreakerGate, type SyncOutcomeForBreaker } from '../../functions/breaker/sync-gate';
import { captureOutput } from '../support/capture-output';

/**
 * A discrete-time run of the whole outage-mode core: a queue with visibility timeouts, an event source that
 * the probe can disable and throttle, two sync "containers" with their own gates, the real rule, store, probe
 * handler and retry budget. Limio is down for longer than the retry budget while callouts keep arriving.
 * It checks the promises in simulated time: no dead letters, no Limio calls while open, every
 * subscription synced after recovery.
 */

interface Message {
  readonly id: number;
  readonly subscriptionId: string;
  readonly receivedAt: number;
  visibleAt: number;
  receiveCount: number;
}

/** The simulated event source mapping: what the probe's controller drives. */
class SimulatedMapping implements SyncPollingController {
  enabled = true;
  maxConcurrency = 10;
  readonly history: string[] = [];

  async setSyncPolling(enabled: boolean, options: { maxConcurrency?: number } = {}): Promise<PollingChange> {
    const next = { enabled, maxConcurrency: options.maxConcurrency ?? this.maxConcurrency };
    if (next.enabled === this.enabled && next.maxConcurrency === this.maxConcurrency) return 'unchanged';
    this.enabled = next.enabled;
    this.maxConcurrency = next.maxConcurrency;
    this.history.push(enabled ? `enabled@${next.maxConcurrency}` : 'disabled');
    return 'changed';
  }
}

function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOUR = 3_600_000;

async function simulate(options: {
  outageHours: number;
  budgetHours: number;
  totalHours: number;
  arrivalEverySeconds: number;
  /** A subscription Limio fails (502) every time, outage or not, sent with every 10th callout. */
  badSubscription?: string;
}) {
  const T0 = Date.parse('2026-11-24T00:00:00.000Z');
  const outageStart = T0 + HOUR / 2;
  const outageEnd = outageStart + options.outageHours * HOUR;
  const retry: RetrySettings = { ...DEFAULT_RETRY_SETTINGS, retryBudgetSeconds: options.budgetHours * 3600 };
  const settings = DEFAULT_BREAKER_SETTINGS;
  const random = seededRandom(7);
  const clock = { now: T0 };
  const store = new InMemoryBreakerStore();
  const mapping = new SimulatedMapping();
  const limioDown = () => clock.now >= outageStart && clock.now < outageEnd;
  const probe = createProbeHandler({
    store,
    controller: mapping,
    settings,
    fullConcurrency: 10,
    now: () => clock.now,
    probe: async () => ({ result: limioDown() ? 'unhealthy' : 'healthy' }),
    logger: new Logger({ serviceName: 'simulation', logLevel: 'ERROR' }),
    metrics: new Metrics({ namespace: 'Simulation', serviceName: 'simulation' }),
  });
  const containers: BreakerGate[] = [0, 1].map(() => createBreakerGate({ store, settings, now: () => clock.now }));

  const queue: Message[] = [];
  const synced = new Set<string>();
  const deadLettered: string[] = [];
  const accepted = new Set<string>();
  const figures = {
    deadLetters: 0,
    probes: 0,
    callsWhileDown: 0,
    callsWhileDownAfterTrip: 0,
    maxReceives: 0,
    trippedAt: undefined as number | undefined,
    drainedAt: undefined as number | undefined,
  };
  let nextId = 0;

  for (let second = 0; clock.now < T0 + options.totalHours * HOUR; second++) {
    clock.now = T0 + second * 1000;
    if (second % options.arrivalEverySeconds === 0) {
      const subscriptionId =
        options.badSubscription && nextId % 10 === 0
          ? options.badSubscription
          : `A-S${String(nextId).padStart(8, '0')}`;
      accepted.add(subscriptionId);
      queue.push({ id: nextId++, subscriptionId, receivedAt: clock.now, visibleAt: clock.now, receiveCount: 0 });
    }
    if (second % settings.probeIntervalSeconds === 0) {
      const report = await probe();
      if (report.probe) figures.probes += 1;
    }
    if (!mapping.enabled) continue;

    // Each second, up to maxConcurrency invocations of up to 10 visible messages each.
    for (let invocation = 0; invocation < mapping.maxConcurrency; invocation++) {
      const batch = queue.filter((message) => message.visibleAt <= clock.now).slice(0, 10);
      if (batch.length === 0) break;
      const gate = containers[invocation % containers.length]!;
      const state = await gate.current();
      const outcomes: { subscriptionId: string; outcome: SyncOutcomeForBreaker }[] = [];
      for (const message of batch) {
        message.receiveCount += 1;
        figures.maxReceives = Math.max(figures.maxReceives, message.receiveCount);
        if (state.state === 'open') {
          const openForSeconds = (clock.now - state.since) / 1000;
          message.visibleAt =
            clock.now +
            holdVisibilitySeconds({ settings: retry, receiveCount: message.receiveCount, openForSeconds, random }) *
              1000;
          continue;
        }
        if (limioDown() || message.subscriptionId === options.badSubscription) {
          if (limioDown()) figures.callsWhileDown += 1;
          if (limioDown() && figures.trippedAt !== undefined) figures.callsWhileDownAfterTrip += 1;
          outcomes.push({ subscriptionId: message.subscriptionId, outcome: 'limio-failure' });
          const decision = decideRetry({
            failure: { kind: 'limio', error: 'Limio answered 502' },
            receiveCount: message.receiveCount,
            receivedAt: message.receivedAt,
            now: clock.now,
            openIntervals: state.openIntervals,
            settings: retry,
            random,
          });
          if (decision.action === 'retry') message.visibleAt = clock.now + decision.visibilitySeconds * 1000;
          else {
            figures.deadLetters += 1;
            deadLettered.push(message.subscriptionId);
            queue.splice(queue.indexOf(message), 1);
          }
        } else {
          outcomes.push({ subscriptionId: message.subscriptionId, outcome: 'synced' });
          synced.add(message.subscriptionId);
          queue.splice(queue.indexOf(message), 1);
        }
      }
      const after = await gate.record({ syncs: outcomes, tokenFailures: 0 });
      if (after.state === 'open' && figures.trippedAt === undefined) figures.trippedAt = clock.now;
    }
    if (clock.now > outageEnd && figures.drainedAt === undefined && queue.length === 0) figures.drainedAt = clock.now;
  }
  return {
    figures,
    synced,
    accepted,
    deadLettered,
    mapping,
    outageStart,
    outageEnd,
    breaker: (await store.read()).breaker,
  };
}

describe('outage mode, simulated: Limio down for longer than the retry budget', () => {
  let output: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => output.restore());

  it('ends a 3-hour outage with a 2-hour budget with zero dead letters, no calls while open, and everything synced', async () => {
    const run = await simulate({ outageHours: 3, budgetHours: 2, totalHours: 4.5, arrivalEverySeconds: 10 });
    const { figures } = run;
    expect(figures.trippedAt).toBeDefined();
    // The breaker opened within minutes of the outage, and no sync reached Limio after that while it was down.
    expect(figures.trippedAt! - run.outageStart).toBeLessThan(10 * 60_000);
    expect(figures.callsWhileDownAfterTrip).toBe(0);
    expect(figures.deadLetters).toBe(0);
    expect([...run.accepted].filter((id) => !run.synced.has(id))).toEqual([]);
    expect(figures.drainedAt).toBeDefined();
    expect(run.breaker.state).toBe('closed');
    expect(run.breaker.openIntervals).toHaveLength(1);
    // Disabled while open, a small batch half-open, then full speed.
    expect(run.mapping.history).toEqual(['disabled', 'enabled@2', 'enabled@10']);
    expect(figures.maxReceives).toBeLessThan(DEFAULT_RETRY_SETTINGS.maxAttempts);
    output.restore();
    console.log(
      `simulated: tripped ${Math.round((figures.trippedAt! - run.outageStart) / 1000)} s into the outage after ${figures.callsWhileDown} failing calls; ` +
        `${figures.probes} probes; 0 calls while open; ${run.accepted.size} subscriptions synced; ` +
        `drained ${Math.round((figures.drainedAt! - run.outageEnd) / 1000)} s after Limio returned; max receives ${figures.maxReceives}`,
    );
  });

  it('one subscription Limio always fails never opens the breaker; only its messages are dead-lettered, once their budget is spent', async () => {
    const run = await simulate({
      outageHours: 0,
      budgetHours: 1,
      totalHours: 3,
      arrivalEverySeconds: 5,
      badSubscription: 'A-S99999999',
    });
    expect(run.figures.trippedAt).toBeUndefined();
    expect(run.mapping.history).toEqual([]);
    expect(run.breaker).toMatchObject({ state: 'closed', version: 0 });
    expect(run.deadLettered.length).toBeGreaterThan(0);
    expect(new Set(run.deadLettered)).toEqual(new Set(['A-S99999999']));
    expect([...run.accepted].filter((id) => id !== 'A-S99999999' && !run.synced.has(id))).toEqual([]);
  });
});
