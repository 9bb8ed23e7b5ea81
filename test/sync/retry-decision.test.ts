import fc from 'fast-check';
import { nextVisibility } from '../../functions/sync/backoff';
import { decideRetry } from '../../functions/sync/retry-decision';

const settings = { baseSeconds: 10, maxSeconds: 900 };

describe('nextVisibility', () => {
  it('grows exponentially up to the cap: the top of the jitter range doubles per receive', () => {
    const top = (count: number) => nextVisibility(count, settings, () => 0.999999);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(top)).toEqual([10, 20, 40, 80, 160, 320, 640, 900]);
  });

  it('stays within 1..min(cap, base*2^(n-1)) whatever the receive count and the draw (full jitter)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -5, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 43_200 }),
        (count, draw, base, extra) => {
          const cap = Math.min(43_200, base + extra);
          const seconds = nextVisibility(count, { baseSeconds: base, maxSeconds: cap }, () => draw);
          const ceiling = Math.min(cap, base * 2 ** (Math.max(count, 1) - 1));
          return Number.isInteger(seconds) && seconds >= 1 && seconds <= ceiling;
        },
      ),
    );
  });

  it('spreads retries: different draws give different delays', () => {
    const delays = new Set([0.05, 0.3, 0.55, 0.8].map((draw) => nextVisibility(5, settings, () => draw)));
    expect(delays.size).toBe(4);
  });
});

describe('decideRetry', () => {
  const base = { maxAttempts: 8, receivedAt: new Date('2026-11-25T12:00:00Z'), now: new Date('2026-11-25T12:05:00Z') };

  it('retries before the last attempt and dead-letters on it (and after it)', () => {
    expect(decideRetry({ ...base, receiveCount: 7 }, settings, () => 0.5)).toEqual({ action: 'retry', visibilitySeconds: 320 });
    expect(decideRetry({ ...base, receiveCount: 8 }, settings, () => 0.5)).toEqual({ action: 'dead-letter' });
    expect(decideRetry({ ...base, receiveCount: 9 }, settings, () => 0.5)).toEqual({ action: 'dead-letter' });
    expect(decideRetry({ ...base, maxAttempts: 1, receiveCount: 1 }, settings, () => 0.5)).toEqual({ action: 'dead-letter' });
  });

  it('honours a longer Retry-After, within the cap', () => {
    expect(decideRetry({ ...base, receiveCount: 1, retryAfterSeconds: 60 }, settings, () => 0.5)).toEqual({ action: 'retry', visibilitySeconds: 60 });
    expect(decideRetry({ ...base, receiveCount: 1, retryAfterSeconds: 86_400 }, settings, () => 0.5)).toEqual({
      action: 'retry',
      visibilitySeconds: 900,
    });
  });

  it('keeps its own backoff when Retry-After asks for less', () => {
    expect(decideRetry({ ...base, receiveCount: 4, retryAfterSeconds: 1 }, settings, () => 0.5)).toEqual({ action: 'retry', visibilitySeconds: 40 });
  });
});
