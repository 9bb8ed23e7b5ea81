import fc from 'fast-check';
import type { LedgerTiming } from '../../functions/ledger/ledger-fate';
import { runPipelineModel, type CrashPoint, type ModelResult, type ModelScenario } from './pipeline-model';

const timing: LedgerTiming = { cooldownSeconds: 5, clockMarginSeconds: 1 };
// Every clock within half the margin of true time, so any two differ by at most the margin.
const skew = fc.integer({ min: -500, max: 500 });
const poller = fc.record({ clockSkewMs: skew, batchSize: fc.integer({ min: 1, max: 10 }), pollGapMs: fc.integer({ min: 0, max: 1_000 }) });
const subscriptionIds = ['A-S1', 'A-S2', 'A-S3'];

const anyScenario: fc.Arbitrary<ModelScenario> = fc.record({
  callouts: fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 30_000 }), subscriptionId: fc.constantFrom(...subscriptionIds) }), { minLength: 1, maxLength: 25 }),
  calloutClockSkewMs: skew,
  pollers: fc.array(poller, { minLength: 1, maxLength: 4 }),
  limio: fc.array(
    fc.record({ durationMs: fc.integer({ min: 1, max: 8_000 }), answer: fc.constantFrom('synced' as const, 'synced' as const, 'retryable' as const, 'terminal' as const) }),
    { maxLength: 12 },
  ),
  ledgerFaults: fc.array(fc.boolean(), { maxLength: 12 }),
  crashes: fc.array(fc.constantFrom<CrashPoint>('none', 'none', 'none', 'before-read', 'after-read', 'after-claim', 'after-limio', 'after-record'), { maxLength: 8 }),
  duplicates: fc.array(fc.boolean(), { maxLength: 8 }),
  stepDelaysMs: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
  seed: fc.integer(),
  timing: fc.constantFrom(timing, { ...timing, cooldownSeconds: 0 }, { cooldownSeconds: 2, clockMarginSeconds: 1 }),
  holdReceiveLimit: fc.constantFrom(undefined, 0, 1, 2, 3),
});

/** Every callout done after a successful sync that started after it was received, or dead-lettered. */
function expectNoChangeLost(result: ModelResult): void {
  expect(result.settled).toBe(true);
  for (const callout of result.callouts) {
    if (callout.state === 'dead-lettered') {
      expect(['terminal', 'exhausted']).toContain(callout.deadLetterReason);
      continue;
    }
    expect(callout.state).toBe('done');
    const coveringSyncs = (result.successes.get(callout.subscriptionId) ?? []).filter((start) => start > callout.trueReceivedAt && start <= (callout.doneAt ?? 0));
    if (coveringSyncs.length === 0) throw new Error(`callout for ${callout.subscriptionId} received at ${callout.trueReceivedAt} was done at ${callout.doneAt} with no successful sync started after it`);
  }
}

describe('sync ledger: never lose a change', () => {
  it('every accepted callout is followed by a successful sync that started after it was received, or is dead-lettered', () => {
    fc.assert(
      fc.property(anyScenario, (scenario) => expectNoChangeLost(runPipelineModel(scenario))),
      { numRuns: 1000 },
    );
  });

  it('a burst of callouts for one subscription costs at most 2 Limio calls when nothing fails', () => {
    const burst = fc.record({
      callouts: fc.array(fc.record({ atMs: fc.integer({ min: 0, max: 2_000 }), subscriptionId: fc.constant('A-S1') }), { minLength: 1, maxLength: 30 }),
      calloutClockSkewMs: skew,
      pollers: fc.array(poller, { minLength: 1, maxLength: 6 }),
      limio: fc.array(fc.record({ durationMs: fc.integer({ min: 1, max: 8_000 }), answer: fc.constant('synced' as const) }), { maxLength: 4 }),
      ledgerFaults: fc.constant([]),
      crashes: fc.constant([]),
      duplicates: fc.array(fc.boolean(), { maxLength: 6 }),
      stepDelaysMs: fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
      seed: fc.integer(),
      timing: fc.constant(timing),
    });
    fc.assert(
      fc.property(burst, (scenario) => {
        const result = runPipelineModel(scenario);
        expectNoChangeLost(result);
        expect(result.callouts.every((callout) => callout.state === 'done')).toBe(true);
        expect(result.limioCalls.get('A-S1')).toBeLessThanOrEqual(2);
      }),
      { numRuns: 1000 },
    );
  });

  it('a burst of 8 callouts over 2 s costs 2 Limio calls instead of 8, its last change synced within a cooldown', () => {
    const burst = (withoutLedger: boolean): ModelScenario => ({
      callouts: Array.from({ length: 8 }, (_, i) => ({ atMs: Math.round((i * 2_000) / 7), subscriptionId: 'A-S1' })),
      calloutClockSkewMs: 0,
      pollers: Array.from({ length: 5 }, (_, i) => ({ clockSkewMs: (i - 2) * 100, batchSize: 10, pollGapMs: 20 })),
      limio: [{ durationMs: 400, answer: 'synced' }],
      ledgerFaults: [],
      crashes: [],
      duplicates: [],
      stepDelaysMs: [5, 8, 3],
      seed: 7,
      timing,
      withoutLedger,
    });
    const before = runPipelineModel(burst(true));
    const after = runPipelineModel(burst(false));
    expectNoChangeLost(after);
    expect(before.limioCalls.get('A-S1')).toBe(8);
    expect(after.limioCalls.get('A-S1')).toBe(2);
    const lastReceived = Math.max(...after.callouts.map((callout) => callout.trueReceivedAt));
    const lastSynced = Math.min(...(after.successes.get('A-S1') ?? []).filter((start) => start > lastReceived));
    expect(lastSynced - lastReceived).toBeLessThanOrEqual(timing.cooldownSeconds * 1000);
  });
});
