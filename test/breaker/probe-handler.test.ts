import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { INITIAL_BREAKER_STATE, type BreakerState } from '../../functions/breaker/breaker-state';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { openBreaker, closeBreaker } from '../../functions/breaker/operator';
import type { PollingChange, SyncPollingController } from '../../functions/breaker/polling-controller';
import { createProbeHandler, type ProbeOutcome } from '../../functions/breaker/probe-handler';
import { DEFAULT_BREAKER_SETTINGS } from '../../functions/breaker/settings';
import { createBreakerGate } from '../../functions/breaker/sync-gate';
import { captureOutput, metricValues, type CapturedOutput } from '../support/capture-output';

const settings = DEFAULT_BREAKER_SETTINGS;
const T0 = Math.floor(Date.parse('2026-11-24T10:00:00.000Z') / 60_000) * 60_000;

/** Records what it was asked and answers like the AWS one: `unchanged` when already so. */
class RecordingController implements SyncPollingController {
  readonly calls: { enabled: boolean; maxConcurrency?: number }[] = [];
  answer: PollingChange | Error | undefined;
  private current: string | undefined;

  async setSyncPolling(enabled: boolean, options: { maxConcurrency?: number } = {}): Promise<PollingChange> {
    this.calls.push({ enabled, ...options });
    if (this.answer instanceof Error) throw this.answer;
    if (this.answer) return this.answer;
    const wanted = JSON.stringify({ enabled, ...options });
    const change = wanted === this.current ? 'unchanged' : 'changed';
    this.current = wanted;
    return change;
  }
}

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

function setUp(initial: BreakerState = INITIAL_BREAKER_STATE, probeResults: (ProbeOutcome | Error)[] = []) {
  const store = new InMemoryBreakerStore(initial);
  const controller = new RecordingController();
  const clock = { now: T0 };
  let probes = 0;
  const handler = createProbeHandler({
    store,
    controller,
    settings,
    fullConcurrency: 20,
    now: () => clock.now,
    logger: new Logger({ serviceName: 'breaker-test' }),
    metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'breaker-test' }),
    probe: async () => {
      const next = probeResults[probes++];
      if (next === undefined) throw new Error('the test did not expect another probe');
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { store, controller, clock, handler, probeCount: () => probes };
}

const tripped = async (store: InMemoryBreakerStore, at: number) => {
  const gate = createBreakerGate({ store, settings, now: () => at });
  await gate.record({
    syncs: Array.from({ length: 10 }, (_, i) => ({
      subscriptionId: `A-S0000010${i}`,
      outcome: 'limio-failure' as const,
    })),
    tokenFailures: 0,
  });
  return (await store.read()).breaker;
};

describe('the probe handler', () => {
  it('closed: probes nothing, keeps polling at full concurrency, announces nothing and reports the gauge 0', async () => {
    const { handler, controller, probeCount, store } = setUp();
    const report = await handler();
    expect(report).toMatchObject({ polling: 'changed', after: { state: 'closed' } });
    expect(report.probe).toBeUndefined();
    expect(report.announced).toEqual([]);
    expect(probeCount()).toBe(0);
    expect(controller.calls).toEqual([{ enabled: true, maxConcurrency: 20 }]);
    expect(metricValues(output.lines(), 'BreakerState')).toEqual([0]);
    expect(metricValues(output.lines(), 'BreakerOpened')).toEqual([]);
    expect((await store.read()).announced).toEqual({ state: 'closed', since: 0 });
  });

  it('drives a whole outage: opened by the sync rule, probed, half-open with a small cap, closed at full speed', async () => {
    const { handler, controller, clock, store } = setUp(INITIAL_BREAKER_STATE, [
      { result: 'unhealthy', detail: 'token endpoint answered 503' },
      { result: 'healthy', detail: 'token in 42 ms' },
      { result: 'healthy' },
      { result: 'healthy' },
    ]);
    await handler();
    await tripped(store, T0 + 10_000);

    clock.now = T0 + 60_000;
    const first = await handler();
    expect(first).toMatchObject({
      probe: { result: 'unhealthy' },
      after: { state: 'open' },
      announced: ['opened'],
      polling: 'changed',
    });

    clock.now = T0 + 120_000;
    const second = await handler();
    expect(second).toMatchObject({
      probe: { result: 'healthy' },
      after: { state: 'half-open', reason: 'probe healthy (token in 42 ms)' },
      announced: ['half-open'],
    });

    clock.now = T0 + 180_000;
    expect(await handler()).toMatchObject({
      after: { state: 'half-open', healthyProbes: 2 },
      polling: 'unchanged',
      announced: [],
    });

    clock.now = T0 + 240_000;
    expect(await handler()).toMatchObject({ after: { state: 'closed' }, announced: ['closed'] });
    expect(controller.calls).toEqual([
      { enabled: true, maxConcurrency: 20 },
      { enabled: false },
      { enabled: true, maxConcurrency: 2 },
      { enabled: true, maxConcurrency: 2 },
      { enabled: true, maxConcurrency: 20 },
    ]);
    const lines = output.lines();
    expect(metricValues(lines, 'BreakerState')).toEqual([0, 2, 1, 1, 0]);
    expect(metricValues(lines, 'BreakerOpened')).toEqual([1]);
    expect(metricValues(lines, 'BreakerClosed')).toEqual([1]);
    const closedLine = lines.find(
      (line) => typeof line.message === 'string' && (line.message as string).startsWith('breaker CLOSED'),
    );
    expect(closedLine).toMatchObject({ level: 'INFO', reason: '3 healthy probes in a row', openForSeconds: 230 });
    const openedLine = lines.find(
      (line) => typeof line.message === 'string' && (line.message as string).startsWith('breaker OPEN'),
    );
    expect(openedLine).toMatchObject({ level: 'WARN', openedBy: 'auto' });
    expect(openedLine!.reason).toMatch(/10 of 10 syncs failed/);
  });

  it('announces an opening it had not seen before moving on to half-open in the same run', async () => {
    const { handler, store } = setUp(INITIAL_BREAKER_STATE, [{ result: 'healthy' }]);
    await tripped(store, T0);
    expect(await handler()).toMatchObject({ announced: ['opened', 'half-open'], after: { state: 'half-open' } });
    expect(metricValues(output.lines(), 'BreakerOpened')).toEqual([1]);
    expect(metricValues(output.lines(), 'BreakerState')).toEqual([1]);
  });

  it('counts a probe that throws as unhealthy and keeps the breaker open', async () => {
    const { handler, store } = setUp(INITIAL_BREAKER_STATE, [new Error('getaddrinfo ENOTFOUND acme.prod.limio.com')]);
    const open = await tripped(store, T0);
    const report = await handler();
    expect(report).toMatchObject({
      probe: { result: 'unhealthy', detail: 'probe failed: getaddrinfo ENOTFOUND acme.prod.limio.com' },
      after: { state: 'open' },
    });
    expect((await store.read()).breaker).toEqual(open);
  });

  it('reopens from half-open on an unhealthy probe and announces it as opened again', async () => {
    const { handler, store, controller } = setUp(INITIAL_BREAKER_STATE, [
      { result: 'healthy' },
      { result: 'unhealthy' },
    ]);
    await tripped(store, T0);
    await handler();
    expect(await handler()).toMatchObject({
      announced: ['opened'],
      after: { state: 'open', reason: 'probe failed in half-open' },
    });
    expect(metricValues(output.lines(), 'BreakerOpened')).toEqual([1, 1]);
    expect(controller.calls).toEqual([{ enabled: true, maxConcurrency: 2 }, { enabled: false }]);
  });

  it('never probes a breaker opened by hand, keeps polling off and announces it; closing by hand resumes at full speed', async () => {
    const { handler, controller, store, probeCount } = setUp();
    await openBreaker(store, 'Limio maintenance window 02:00-04:00 UTC', { now: T0 });
    const held = await handler();
    expect(held).toMatchObject({ announced: ['opened'], after: { state: 'open', openedBy: 'manual' } });
    await handler();
    expect(probeCount()).toBe(0);
    expect(output.lines().some((line) => line.message === 'breaker held open by hand; not probing')).toBe(true);

    await closeBreaker(store, { now: T0 + 7_200_000, reason: 'maintenance over' });
    expect(await handler()).toMatchObject({
      announced: ['closed'],
      after: { state: 'closed', reason: 'closed by hand: maintenance over' },
    });
    expect(controller.calls.map((call) => call.enabled)).toEqual([false, false, true]);
    expect(controller.calls[2]).toEqual({ enabled: true, maxConcurrency: 20 });
  });

  it('fails the run when the event source cannot be set, yet still announces and reports the gauge', async () => {
    const { handler, controller, store } = setUp(INITIAL_BREAKER_STATE, [
      { result: 'unhealthy' },
      { result: 'unhealthy' },
    ]);
    await tripped(store, T0);
    controller.answer = new Error('AccessDeniedException: not authorized to perform lambda:UpdateEventSourceMapping');
    await expect(handler()).rejects.toThrow('AccessDeniedException');
    expect(metricValues(output.lines(), 'BreakerState')).toEqual([2]);
    expect(metricValues(output.lines(), 'BreakerOpened')).toEqual([1]);
    expect(output.lines().find((line) => line.level === 'ERROR')?.message).toBe(
      'could not set the sync event source; the next run tries again',
    );

    // The next run tries again, and announces nothing twice.
    controller.answer = 'busy';
    expect(await handler()).toMatchObject({ polling: 'busy', announced: [] });
    expect(controller.calls).toEqual([{ enabled: false }, { enabled: false }]);
  });
});
