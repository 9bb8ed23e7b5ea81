import fc from 'fast-check';
import { backoffSeconds, deadLetterRetrySeconds, holdVisibilitySeconds } from '../../functions/sync/retry-budget';
import {
  SQS_MAX_VISIBILITY_SECONDS,
  VISIBILITY_CEILING_MARGIN_SECONDS,
  withinVisibilityCeiling,
} from '../../functions/sync/visibility-ceiling';

const RECEIVED = Date.parse('2026-11-30T00:00:00Z');
const HOUR = 3_600_000;

describe('withinVisibilityCeiling: what is left of the 12 hours SQS allows from the receive, less a margin', () => {
  it('leaves a visibility well within the ceiling as asked', () => {
    expect(withinVisibilityCeiling(900, RECEIVED, RECEIVED + 5_000)).toBe(900);
  });

  it('cuts the 12-hour hold of a message received just now to 12 hours less the margin', () => {
    expect(withinVisibilityCeiling(43_200, RECEIVED, RECEIVED)).toBe(43_200 - VISIBILITY_CEILING_MARGIN_SECONDS);
    expect(VISIBILITY_CEILING_MARGIN_SECONDS).toBe(900);
  });

  it('counts the time spent since the receive against the ceiling', () => {
    expect(withinVisibilityCeiling(43_200, RECEIVED, RECEIVED + 2 * HOUR)).toBe(43_200 - 900 - 7_200);
    expect(withinVisibilityCeiling(43_200, RECEIVED, RECEIVED + 1_500)).toBe(42_298);
  });

  it('asks for whole seconds, never a negative one, and takes a receive time ahead of the clock as just now', () => {
    expect(withinVisibilityCeiling(10.7, RECEIVED, RECEIVED)).toBe(10);
    expect(withinVisibilityCeiling(60, RECEIVED, RECEIVED + 13 * HOUR)).toBe(0);
    expect(withinVisibilityCeiling(43_200, RECEIVED + HOUR, RECEIVED)).toBe(42_300);
    expect(withinVisibilityCeiling(100, RECEIVED, RECEIVED, 0)).toBe(100);
  });

  it('never asks for more than requested nor beyond the ceiling counted from the receive (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: SQS_MAX_VISIBILITY_SECONDS }),
        fc.integer({ min: 0, max: 12 * HOUR }),
        (requested, spentMs) => {
          const granted = withinVisibilityCeiling(requested, RECEIVED, RECEIVED + spentMs);
          expect(granted).toBeGreaterThanOrEqual(0);
          expect(granted).toBeLessThanOrEqual(requested);
          // What real SQS checks, even if the event source received it up to the margin before the invocation;
          // past that point nothing is left but 0.
          if (spentMs <= (SQS_MAX_VISIBILITY_SECONDS - VISIBILITY_CEILING_MARGIN_SECONDS) * 1000) {
            expect(granted * 1000 + spentMs + VISIBILITY_CEILING_MARGIN_SECONDS * 1000).toBeLessThanOrEqual(
              SQS_MAX_VISIBILITY_SECONDS * 1000,
            );
          } else {
            expect(granted).toBe(0);
          }
          if (granted < requested)
            expect(granted).toBe(
              Math.max(0, Math.floor(SQS_MAX_VISIBILITY_SECONDS - VISIBILITY_CEILING_MARGIN_SECONDS - spentMs / 1000)),
            );
        },
      ),
    );
  });

  it('keeps every hold and backoff the rules can ask for, BACKOFF_MAX_SECONDS=43200 included, within the ceiling (property)', () => {
    const settings = { holdSeconds: 60, backoffBaseSeconds: 10, backoffMaxSeconds: 43_200 };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 14 * 24 * 3_600 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.integer({ min: 0, max: 60_000 }),
        (receiveCount, openForSeconds, random, spentMs) => {
          const asked = [
            holdVisibilitySeconds({ settings, receiveCount, openForSeconds, random: () => random }),
            backoffSeconds(receiveCount, settings, () => random),
            deadLetterRetrySeconds(settings, () => random),
          ];
          for (const seconds of asked) {
            const granted = withinVisibilityCeiling(seconds, RECEIVED, RECEIVED + spentMs);
            expect(granted * 1000 + spentMs).toBeLessThanOrEqual(
              (SQS_MAX_VISIBILITY_SECONDS - VISIBILITY_CEILING_MARGIN_SECONDS) * 1000,
            );
          }
        },
      ),
    );
  });
});
