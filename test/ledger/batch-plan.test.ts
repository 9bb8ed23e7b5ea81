import { planLedgerBatch } from '../../functions/ledger/batch-plan';
import type { LedgerEntry } from '../../functions/ledger/ledger-entry';
import type { LedgerTiming } from '../../functions/ledger/ledger-fate';

const timing: LedgerTiming = { cooldownSeconds: 5, clockMarginSeconds: 1 };
const T0 = Date.parse('2026-11-30T04:00:00.000Z');
const message = (subscriptionId: string, receivedAtMs: number) => ({
  subscriptionId,
  receivedAt: new Date(receivedAtMs).toISOString(),
});
const succeededAt = (subscriptionId: string, startedAt: number): LedgerEntry => ({
  subscriptionId,
  expiresAt: 0,
  lastSuccess: { startedAt, finishedAt: startedAt + 300 },
  lastAttempt: { outcome: 'synced', startedAt, finishedAt: startedAt + 300, httpStatus: 200 },
});

describe('planLedgerBatch', () => {
  const old = message('A-S1', T0 - 10_000);
  const fresh = message('A-S1', T0 + 1_000);
  const other = message('A-S2', T0 + 1_000);
  const never = message('A-S3', T0 + 1_000);
  const batch = [old, fresh, other, never];
  const entries = new Map([
    ['A-S1', succeededAt('A-S1', T0)],
    ['A-S2', succeededAt('A-S2', T0 - 60_000)],
  ]);

  it('per subscription: covered, held, or one call claimed against the entry it was decided from', () => {
    const plans = planLedgerBatch(batch, { entries, unknown: [] }, T0 + 2_000, timing);
    expect(plans).toEqual([
      {
        subscriptionId: 'A-S1',
        covered: [old],
        held: [{ message: fresh, fate: { kind: 'hold', untilMs: T0 + 5_000, reason: 'cooldown' } }],
        syncNow: [],
      },
      {
        subscriptionId: 'A-S2',
        covered: [],
        held: [],
        syncNow: [other],
        claim: { expectedLastSuccessStartedAt: T0 - 60_000 },
      },
      {
        subscriptionId: 'A-S3',
        covered: [],
        held: [],
        syncNow: [never],
        claim: { expectedLastSuccessStartedAt: undefined },
      },
    ]);
  });

  it('syncs a subscription whose entry is unknown as without a ledger: no coverage, no hold, no claim', () => {
    const plans = planLedgerBatch(
      batch,
      { entries: new Map(), unknown: ['A-S1', 'A-S2', 'A-S3'], failure: 'timeout' },
      T0 + 2_000,
      timing,
    );
    expect(plans).toEqual([
      { subscriptionId: 'A-S1', covered: [], held: [], syncNow: [old, fresh] },
      { subscriptionId: 'A-S2', covered: [], held: [], syncNow: [other] },
      { subscriptionId: 'A-S3', covered: [], held: [], syncNow: [never] },
    ]);
  });

  it('with a cooldown of 0 still spares covered messages, and syncs the rest without a claim', () => {
    const plans = planLedgerBatch(batch, { entries, unknown: [] }, T0 + 2_000, { ...timing, cooldownSeconds: 0 });
    expect(plans[0]).toEqual({ subscriptionId: 'A-S1', covered: [old], held: [], syncNow: [fresh] });
    expect(plans.every((plan) => plan.claim === undefined)).toBe(true);
  });
});
