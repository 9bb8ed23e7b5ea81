import { matchLatencies } from '../../bench/end-to-end';
import { forEachLimited, formatRatio, median, percentile, renderTable } from '../../bench/figures';
import { burstOf, seededRandom, subscriptionNumbers } from '../../bench/pipeline';

describe('bench statistics', () => {
  it('takes nearest-rank percentiles of observed values', () => {
    const values = [5, 1, 4, 2, 3];
    expect(median(values)).toBe(3);
    expect(percentile(values, 99)).toBe(5);
    expect(percentile(values, 1)).toBe(1);
    expect(
      percentile(
        Array.from({ length: 100 }, (_, index) => index + 1),
        99,
      ),
    ).toBe(99);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('prints ratios readably at every scale', () => {
    expect(formatRatio(0.91)).toBe('0.91×');
    expect(formatRatio(12.14)).toBe('12.1×');
    expect(formatRatio(0.0001)).toBe('0.00010×');
    expect(formatRatio(0)).toBe('0×');
    expect(formatRatio(undefined)).toBe('—');
  });

  it('renders a Markdown table with the ratio beside the baseline and escapes pipes', () => {
    const table = renderTable([{ measure: 'a | b', value: '2 /s', baseline: 'limit 4 /s', ratio: 0.5 }]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('| a \\| b | 2 /s | limit 4 /s | 0.50× |  |');
  });

  it('runs work with at most the given number at a time, every item once', async () => {
    let running = 0;
    let most = 0;
    const seen: number[] = [];
    await forEachLimited([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(item);
      running--;
    });
    expect(most).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});

describe('bench bursts', () => {
  it('sends every subscription the same number of times, in the same order for the same seed', () => {
    const ids = subscriptionNumbers(50);
    const burst = burstOf(ids, 4, 3);
    expect(burst).toHaveLength(200);
    for (const id of ids) expect(burst.filter((item) => item === id)).toHaveLength(4);
    expect(burstOf(ids, 4, 3)).toEqual(burst);
    expect(burstOf(ids, 4, 4)).not.toEqual(burst);
    // Interleaved, not grouped: some neighbours differ.
    expect(burst.some((id, index) => index > 0 && burst[index - 1] !== id)).toBe(true);
  });

  it('draws numbers in [0, 1)', () => {
    const random = seededRandom(1);
    for (let index = 0; index < 1000; index++) {
      const value = random();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });
});

describe('callout-to-sync matching', () => {
  const callout = (subscriptionId: string, sentAt: number) => ({
    subscriptionId,
    sentAt,
    answeredAt: sentAt + 1,
    status: 200,
  });

  it('gives each sync as many callouts, in sending order, as it covered messages', () => {
    const accepted = [callout('A-S1', 30), callout('A-S1', 10), callout('A-S1', 20), callout('A-S2', 5)];
    const synced = new Map([
      [
        'A-S1',
        [
          { at: 100, messages: 2 },
          { at: 200, messages: 1 },
        ],
      ],
      ['A-S2', [{ at: 50, messages: 1 }]],
    ]);
    expect(matchLatencies(accepted, synced).sort((a, b) => a - b)).toEqual([45, 80, 90, 170]);
  });

  it('leaves out callouts no sync covered, rather than inventing a latency', () => {
    expect(
      matchLatencies([callout('A-S1', 0), callout('A-S1', 1)], new Map([['A-S1', [{ at: 10, messages: 1 }]]])),
    ).toEqual([10]);
    expect(matchLatencies([callout('A-S9', 0)], new Map())).toEqual([]);
  });
});
