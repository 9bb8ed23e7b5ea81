import fc from 'fast-check';
import type { LedgerEntry } from '../../functions/ledger/ledger-entry';
import {
  changeTimeOf,
  claimRefusedHold,
  holdVisibilitySeconds,
  ledgerFate,
  planSubscription,
  type LedgerTiming,
} from '../../functions/ledger/ledger-fate';

const timing: LedgerTiming = { cooldownSeconds: 5, clockMarginSeconds: 1 };
const at = (ms: number) => ({ receivedAt: new Date(ms).toISOString() });
const T0 = Date.parse('2026-11-30T04:00:00.000Z');
const entry = (parts: Partial<LedgerEntry> = {}): LedgerEntry => ({ subscriptionId: 'A-S1', expiresAt: 0, ...parts });
const succeededAt = (startedAt: number): LedgerEntry =>
  entry({
    lastSuccess: { startedAt, finishedAt: startedAt + 400 },
    lastAttempt: { outcome: 'synced', startedAt, finishedAt: startedAt + 400, httpStatus: 200 },
  });

describe('ledgerFate', () => {
  it('syncs at once a subscription the ledger knows nothing of (the leading edge)', () => {
    expect(ledgerFate(at(T0), undefined, T0 + 10, timing)).toEqual({ kind: 'sync-now' });
    expect(ledgerFate(at(T0), entry(), T0 + 10, timing)).toEqual({ kind: 'sync-now' });
  });

  it('counts a message covered only if it was received more than the clock margin before the sync started', () => {
    const synced = succeededAt(T0);
    expect(ledgerFate(at(T0 - 1_001), synced, T0 + 500, timing)).toEqual({ kind: 'covered', bySyncStartedAt: T0 });
    // Within the margin the clocks may disagree about which came first: not covered.
    expect(ledgerFate(at(T0 - 1_000), synced, T0 + 500, timing)).toEqual({
      kind: 'hold',
      untilMs: T0 + 5_000,
      reason: 'cooldown',
    });
    expect(ledgerFate(at(T0 - 1_000), synced, T0 + 500, { ...timing, clockMarginSeconds: 0 })).toEqual({
      kind: 'covered',
      bySyncStartedAt: T0,
    });
  });

  it('holds a message the last success does not cover until its cooldown ends, then syncs it', () => {
    const synced = succeededAt(T0);
    for (const receivedAt of [T0 + 100, T0 + 3_000]) {
      expect(ledgerFate(at(receivedAt), synced, receivedAt + 50, timing)).toEqual({
        kind: 'hold',
        untilMs: T0 + 5_000,
        reason: 'cooldown',
      });
    }
    expect(ledgerFate(at(T0 + 3_000), synced, T0 + 5_000, timing)).toEqual({ kind: 'sync-now' });
  });

  it('with a cooldown of 0 syncs whatever is not covered, in flight or not', () => {
    const off = { ...timing, cooldownSeconds: 0 };
    const inFlight = entry({ ...succeededAt(T0), claim: { startedAt: T0 + 2_000, until: T0 + 32_000 } });
    expect(ledgerFate(at(T0 + 100), inFlight, T0 + 2_100, off)).toEqual({ kind: 'sync-now' });
    expect(ledgerFate(at(T0 - 2_000), inFlight, T0 + 2_100, off)).toEqual({ kind: 'covered', bySyncStartedAt: T0 });
  });

  it('holds a message while another sync of its subscription is in flight, until the claim is answered or runs out', () => {
    const claimed = entry({ claim: { startedAt: T0, until: T0 + 30_000 } });
    // Received after that sync started: it needs the sync after it, which comes after its cooldown.
    expect(ledgerFate(at(T0 + 50), claimed, T0 + 100, timing)).toEqual({
      kind: 'hold',
      untilMs: T0 + 5_000,
      reason: 'sync-in-flight',
    });
    expect(ledgerFate(at(T0 + 50), claimed, T0 + 4_500, timing)).toEqual({
      kind: 'hold',
      untilMs: T0 + 5_500,
      reason: 'sync-in-flight',
    });
    // Received well before it: covered if it succeeds, so looked at again as soon as it has likely answered.
    expect(ledgerFate(at(T0 - 1_001), claimed, T0 + 100, timing)).toEqual({
      kind: 'hold',
      untilMs: T0 + 1_100,
      reason: 'sync-in-flight',
    });
    expect(ledgerFate(at(T0 + 50), claimed, T0 + 30_000, timing)).toEqual({ kind: 'sync-now' });
    const answered = entry({
      claim: { startedAt: T0, until: T0 + 30_000 },
      lastAttempt: { outcome: 'retryable', startedAt: T0, finishedAt: T0 + 8_000, error: 'timeout' },
    });
    expect(ledgerFate(at(T0 + 50), answered, T0 + 8_100, timing)).toEqual({ kind: 'sync-now' });
  });

  it('never calls covered a message received after the sync started, for any clock skew within the margin', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: 0, max: 60_000 }),
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: -500, max: 500 }),
        (trueReceivedAt, trueSyncStart, calloutClockSkew, syncClockSkew) => {
          const fate = ledgerFate(
            at(T0 + trueReceivedAt + calloutClockSkew),
            succeededAt(T0 + trueSyncStart + syncClockSkew),
            T0 + 120_000,
            timing,
          );
          if (fate.kind === 'covered') expect(trueReceivedAt).toBeLessThan(trueSyncStart);
        },
      ),
    );
  });
});

describe('holds and plans', () => {
  it('turns a hold into whole seconds of visibility, never returning early', () => {
    expect(holdVisibilitySeconds(T0 + 5_000, T0 + 3_999)).toBe(2);
    expect(holdVisibilitySeconds(T0 + 5_000, T0 + 4_000)).toBe(1);
    expect(holdVisibilitySeconds(T0 + 5_000, T0 + 6_000)).toBe(1);
  });

  it('a refused claim looks again shortly: the entry has news (a sync started or succeeded since the read)', () => {
    expect(claimRefusedHold(T0)).toEqual({ kind: 'hold', untilMs: T0 + 1_000, reason: 'sync-in-flight' });
  });

  it("splits one subscription's messages into the covered ones and the rest, all held or all synced now", () => {
    const messages = [at(T0 - 5_000), at(T0 + 200), at(T0 - 3_000), at(T0 + 900)];
    const cooling = planSubscription(messages, succeededAt(T0), T0 + 1_000, timing);
    expect(cooling.covered).toEqual([messages[0], messages[2]]);
    expect(cooling.held).toEqual([
      { message: messages[1], fate: { kind: 'hold', untilMs: T0 + 5_000, reason: 'cooldown' } },
      { message: messages[3], fate: { kind: 'hold', untilMs: T0 + 5_000, reason: 'cooldown' } },
    ]);
    expect(cooling.syncNow).toEqual([]);
    const later = planSubscription(messages, succeededAt(T0), T0 + 5_000, timing);
    expect(later).toEqual({ covered: [messages[0], messages[2]], held: [], syncNow: [messages[1], messages[3]] });
    // Under a sync in flight each message waits for its own reason.
    const inFlight = planSubscription(
      [at(T0 - 2_000), at(T0 + 100)],
      entry({ claim: { startedAt: T0, until: T0 + 30_000 } }),
      T0 + 200,
      timing,
    );
    expect(inFlight.held.map((held) => held.fate.untilMs)).toEqual([T0 + 1_200, T0 + 5_000]);
  });
});

describe('changeTimeOf: the time a message is judged by', () => {
  it('is the later of receivedAt and SentTimestamp, so a sender clock that runs behind SQS cannot make a sync cover it', () => {
    const tenMinutes = 10 * 60_000;
    const slowClock = { receivedAt: new Date(T0 - tenMinutes).toISOString(), sentAtMs: T0 };
    expect(changeTimeOf(slowClock)).toBe(T0);
    expect(ledgerFate(slowClock, succeededAt(T0 - tenMinutes / 2), T0 + 60_000, timing)).toEqual({ kind: 'sync-now' });
    // A receivedAt ahead of SQS is kept: stricter, never looser.
    expect(changeTimeOf({ receivedAt: new Date(T0 + 500).toISOString(), sentAtMs: T0 })).toBe(T0 + 500);
    expect(changeTimeOf(at(T0))).toBe(T0);
  });
});
