import { classifyChange, type CoverageFacts } from '../../functions/sweep/coverage';

const rules = { commitLagMs: 60_000, clockMarginMs: 1_000 };
const U = Date.parse('2026-11-24T17:10:00Z');
const SIGHTED = U + 6 * 60_000;
const of = (facts: CoverageFacts | undefined, updated: number | 'unreadable' = U) =>
  classifyChange(updated === 'unreadable' ? undefined : updated, facts, SIGHTED, rules);

describe('classifyChange', () => {
  it('covers a change by (a) a success started after U + the commit lag + the clock margin, (b) provenThrough naming the second of U (one version in it) or L after U, (c) a success started after the sighting', () => {
    expect(of({ lastSuccessStartedAt: U + 61_001 })).toBe('covered');
    expect(of({ lastSuccessStartedAt: U + 61_000 })).not.toBe('covered');
    expect(of({ lastSuccessStartedAt: U + 2_500, provenThrough: U })).toBe('covered');
    expect(of({ lastSuccessStartedAt: U + 2_500, provenThrough: U - 1 })).not.toBe('covered');
    // A later change named proves an earlier one only once that was committed: L after it.
    expect(of({ lastSuccessStartedAt: U + 2_500, provenThrough: U + 1_000 })).not.toBe('covered');
    expect(of({ lastSuccessStartedAt: U + 2_500, provenThrough: U + 60_000 })).toBe('covered');
    // Two versions in U's second: a callout naming it cannot say which.
    expect(
      classifyChange(
        U,
        { provenThrough: U, lastQueuedAt: U + 1_000, lastSuccessStartedAt: U + 2_500 },
        SIGHTED,
        rules,
        2,
      ),
    ).toBe('unproven');
    expect(
      classifyChange(
        U,
        { provenThrough: U, lastQueuedAt: U + 1_000, lastSuccessStartedAt: U + 2_500 },
        SIGHTED,
        rules,
        1,
      ),
    ).toBe('covered');
    expect(of({ lastSuccessStartedAt: SIGHTED + 1_001 }, 'unreadable')).toBe('covered');
    expect(of({ lastSuccessStartedAt: SIGHTED + 1_000 }, 'unreadable')).not.toBe('covered');
  });

  it('does not take a success 2.5 s after U for a read of it: missing when nothing was queued since U', () => {
    expect(of({ lastSuccessStartedAt: U + 2_500, lastQueuedAt: U - 19_000 })).toBe('missing');
    expect(of({ lastSuccessStartedAt: U + 2_500 })).toBe('missing');
    expect(of(undefined)).toBe('missing');
  });

  it('is pending while a message queued at or after U has no success since and no unrecorded claimed sync began between its queueing and the sighting', () => {
    expect(of({ lastQueuedAt: U + 2_000 })).toBe('pending');
    expect(of({ lastQueuedAt: U })).toBe('pending');
    expect(of({ lastQueuedAt: U + 2_000, lastSuccessStartedAt: U - 60_000 })).toBe('pending');
    // A claimed sync that started after the sighting reads U by (c); one that started before the message was sent
    // cannot have received it.
    expect(of({ lastQueuedAt: U + 2_000, unrecordedClaimStartedAt: SIGHTED + 1_500 })).toBe('pending');
    expect(of({ lastQueuedAt: U + 2_000, unrecordedClaimStartedAt: U - 5_000 })).toBe('pending');
  });

  it('is unproven when a message came after U but a sync that may have served it cannot be shown to have read U', () => {
    // A success that started after the message was queued (within the clock margin too): it may have served it.
    expect(of({ lastQueuedAt: U + 2_000, lastSuccessStartedAt: U + 3_000 })).toBe('unproven');
    expect(of({ lastQueuedAt: U + 2_000, lastSuccessStartedAt: U + 1_500 })).toBe('unproven');
    // A claimed sync that began between the queueing and the sighting, unrecorded: in flight, or its record lost.
    expect(of({ lastQueuedAt: U + 2_000, unrecordedClaimStartedAt: U + 5_000 })).toBe('unproven');
    // Without a readable UpdatedDate nothing says the message came after the change.
    expect(of({ lastQueuedAt: U + 2_000 }, 'unreadable')).toBe('unproven');
    expect(of(undefined, 'unreadable')).toBe('missing');
  });
});
