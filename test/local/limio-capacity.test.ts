import { capacityVerdict, checkCapacity, refusalThreshold } from '../../local/limio-capacity';

describe('the Limio sandbox capacity model', () => {
  it('serves every call at the latency when the capacity is unlimited', () => {
    expect(capacityVerdict(1, undefined, 200)).toEqual({ kind: 'serve', afterMs: 200 });
    expect(capacityVerdict(10_000, undefined, 200)).toEqual({ kind: 'serve', afterMs: 200 });
  });

  it('serves up to the capacity at the latency', () => {
    expect(capacityVerdict(1, 8, 200)).toEqual({ kind: 'serve', afterMs: 200 });
    expect(capacityVerdict(8, 8, 200)).toEqual({ kind: 'serve', afterMs: 200 });
  });

  it('beyond the capacity, shares its work among the calls in flight: latency × n / capacity', () => {
    expect(capacityVerdict(9, 8, 200)).toEqual({ kind: 'serve', afterMs: 225 });
    expect(capacityVerdict(12, 8, 200)).toEqual({ kind: 'serve', afterMs: 300 });
    expect(capacityVerdict(6, 4, 100)).toEqual({ kind: 'serve', afterMs: 150 });
  });

  it('refuses beyond floor(1.5 × capacity)', () => {
    expect(capacityVerdict(13, 8, 200)).toEqual({ kind: 'refuse' });
    expect(capacityVerdict(7, 4, 100)).toEqual({ kind: 'refuse' });
    expect(refusalThreshold(3)).toBe(4);
    // Capacity 1 has no slow zone: the second call in flight is refused.
    expect(capacityVerdict(2, 1, 100)).toEqual({ kind: 'refuse' });
  });

  it('at latency 0 has only refusals to show', () => {
    expect(capacityVerdict(5, 4, 0)).toEqual({ kind: 'serve', afterMs: 0 });
    expect(capacityVerdict(7, 4, 0)).toEqual({ kind: 'refuse' });
  });

  it('takes a positive whole number or undefined as capacity', () => {
    expect(checkCapacity(undefined)).toBeUndefined();
    expect(checkCapacity(8)).toBe(8);
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => checkCapacity(bad)).toThrow(RangeError);
  });
});
