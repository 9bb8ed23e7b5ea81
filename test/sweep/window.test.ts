import fc from 'fast-check';
import { subscriptionIdRuleFrom } from '../../functions/shared/subscription-id';
import {
  changedSubscriptionsZoql,
  countSlices,
  latestVersions,
  MIN_SLICE_SECONDS,
  nextSliceSeconds,
  parseZuoraDateTime,
  partitionNames,
  sliceWindow,
  sweepWindow,
  zoqlDateTime,
  type WindowSettings,
} from '../../functions/sweep/window';

const settings: WindowSettings = {
  settleSeconds: 300,
  overlapSeconds: 600,
  initialLookbackSeconds: 3600,
  maxSliceSeconds: 3600,
};
const at = (iso: string) => Date.parse(iso);

describe('sweepWindow', () => {
  const now = at('2026-11-24T18:05:00.750Z');

  it('ends SWEEP_SETTLE_SECONDS before now, on a whole second', () => {
    expect(sweepWindow(now, undefined, settings)?.endMs).toBe(at('2026-11-24T18:00:00Z'));
  });

  it('looks back SWEEP_INITIAL_LOOKBACK_SECONDS on the first sweep', () => {
    expect(sweepWindow(now, undefined, settings)).toEqual({
      startMs: at('2026-11-24T17:00:00Z'),
      endMs: at('2026-11-24T18:00:00Z'),
    });
  });

  it('starts at the last completed watermark minus SWEEP_OVERLAP_SECONDS', () => {
    expect(sweepWindow(now, at('2026-11-24T17:45:00Z'), settings)).toEqual({
      startMs: at('2026-11-24T17:35:00Z'),
      endMs: at('2026-11-24T18:00:00Z'),
    });
  });

  it('reaches as far back as an old watermark, however old (a long outage is read, not skipped)', () => {
    const window = sweepWindow(now, at('2026-11-20T00:00:00Z'), settings)!;
    expect(window.startMs).toBe(at('2026-11-19T23:50:00Z'));
  });

  it('has nothing to read while the watermark is at or past the settle point', () => {
    const noOverlap = { ...settings, overlapSeconds: 0 };
    expect(sweepWindow(now, at('2026-11-24T18:00:00Z'), noOverlap)).toBeUndefined();
    expect(sweepWindow(now, at('2026-11-24T18:03:00Z'), noOverlap)).toBeUndefined();
    expect(sweepWindow(now, at('2026-11-24T17:59:59Z'), noOverlap)).toEqual({
      startMs: at('2026-11-24T17:59:59Z'),
      endMs: at('2026-11-24T18:00:00Z'),
    });
  });

  it('always gives whole-second bounds with start < end, ending settle seconds (or less than a second more) before now', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
        fc.option(fc.integer({ min: 0, max: 10 * 24 * 3600 * 1000 }), { nil: undefined }),
        fc.integer({ min: 0, max: 3600 }),
        fc.integer({ min: 0, max: 7200 }),
        (nowMs, behindMs, settle, overlap) => {
          const s = { ...settings, settleSeconds: settle, overlapSeconds: overlap };
          const window = sweepWindow(nowMs, behindMs === undefined ? undefined : nowMs - behindMs, s);
          if (window === undefined) return;
          expect(window.startMs % 1000).toBe(0);
          expect(window.endMs % 1000).toBe(0);
          expect(window.startMs).toBeLessThan(window.endMs);
          expect(nowMs - settle * 1000 - window.endMs).toBeGreaterThanOrEqual(0);
          expect(nowMs - settle * 1000 - window.endMs).toBeLessThan(1000);
        },
      ),
    );
  });
});

describe('sliceWindow', () => {
  it('keeps a window that fits in one slice whole', () => {
    const window = { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') };
    expect([...sliceWindow(window, 3600)]).toEqual([window]);
  });

  it('cuts a large window into consecutive slices, the last one shorter', () => {
    const slices = [...sliceWindow({ startMs: at('2026-11-24T15:30:00Z'), endMs: at('2026-11-24T18:00:00Z') }, 3600)];
    expect(slices).toEqual([
      { startMs: at('2026-11-24T15:30:00Z'), endMs: at('2026-11-24T16:30:00Z') },
      { startMs: at('2026-11-24T16:30:00Z'), endMs: at('2026-11-24T17:30:00Z') },
      { startMs: at('2026-11-24T17:30:00Z'), endMs: at('2026-11-24T18:00:00Z') },
    ]);
  });

  it('covers the window exactly, without gaps or overlaps, for any size', () => {
    fc.assert(
      // At most a few hundred slices per case: the property is about the cut, not about volume.
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 1, max: 10 * 86400 }),
        fc.integer({ min: 1, max: 86400 }),
        (start, lengthSeconds, rawSlice) => {
          const slice = Math.max(rawSlice, Math.ceil(lengthSeconds / 100));
          const window = { startMs: start * 1000, endMs: (start + lengthSeconds) * 1000 };
          const slices = [...sliceWindow(window, slice)];
          expect(slices[0]!.startMs).toBe(window.startMs);
          expect(slices.at(-1)!.endMs).toBe(window.endMs);
          for (const [i, s] of slices.entries()) {
            expect(s.endMs - s.startMs).toBeLessThanOrEqual(slice * 1000);
            expect(s.endMs).toBeGreaterThan(s.startMs);
            if (i > 0) expect(s.startMs).toBe(slices[i - 1]!.endMs);
          }
        },
      ),
    );
  });

  it('makes slices one at a time as they are read, and counts them without making them', () => {
    const window = { startMs: at('1000-01-01T00:00:00Z'), endMs: at('2026-11-24T18:00:00Z') };
    const startedMs = Date.now();
    const slices = sliceWindow(window, 3600);
    expect(Array.isArray(slices)).toBe(false);
    const first = slices[Symbol.iterator]().next();
    expect(first).toEqual({ done: false, value: { startMs: window.startMs, endMs: window.startMs + 3_600_000 } });
    expect(countSlices(window, 3600)).toBe(Math.ceil((window.endMs - window.startMs) / 3_600_000));
    expect(Date.now() - startedMs).toBeLessThan(500);
  });

  it('counts exactly the slices it makes, the last one shorter, none for an empty window', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e9 }),
        fc.integer({ min: 0, max: 10 * 86400 }),
        fc.integer({ min: 600, max: 86400 }),
        (start, lengthSeconds, slice) => {
          const window = { startMs: start * 1000, endMs: (start + lengthSeconds) * 1000 };
          expect(countSlices(window, slice)).toBe([...sliceWindow(window, slice)].length);
        },
      ),
    );
  });

  it('refuses a slice length that is not a positive whole number', () => {
    expect(() => sliceWindow({ startMs: 0, endMs: 1000 }, 0)).toThrow(RangeError);
    expect(() => sliceWindow({ startMs: 0, endMs: 1000 }, 1.5)).toThrow(RangeError);
    expect(() => countSlices({ startMs: 0, endMs: 1000 }, 0)).toThrow(RangeError);
  });
});

describe('nextSliceSeconds', () => {
  it('halves after a slice ran out of time, not below the minimum', () => {
    expect(nextSliceSeconds(3600, 'ran-out-of-time', 3600)).toBe(1800);
    expect(nextSliceSeconds(100, 'ran-out-of-time', 3600)).toBe(MIN_SLICE_SECONDS);
  });

  it('doubles after a completed run, up to the configured maximum', () => {
    expect(nextSliceSeconds(900, 'completed', 3600)).toBe(1800);
    expect(nextSliceSeconds(1800, 'completed', 3600)).toBe(3600);
    expect(nextSliceSeconds(3600, 'completed', 3600)).toBe(3600);
  });
});

describe('ZOQL', () => {
  it('writes times with an explicit offset, Z or +00:00', () => {
    expect(zoqlDateTime(at('2026-11-24T18:00:00Z'))).toBe('2026-11-24T18:00:00+00:00');
    expect(zoqlDateTime(at('2026-11-24T18:00:00Z'), 'Z')).toBe('2026-11-24T18:00:00Z');
    expect(() => zoqlDateTime(at('2026-11-24T18:00:00.500Z'))).toThrow(RangeError);
  });

  it('asks for Name and UpdatedDate of subscriptions updated in the half-open window, keywords in lower case', () => {
    const zoql = changedSubscriptionsZoql(
      { startMs: at('2026-11-24T17:00:00Z'), endMs: at('2026-11-24T18:00:00Z') },
      'Z',
    );
    expect(zoql).toBe(
      "select Name, UpdatedDate from Subscription where UpdatedDate >= '2026-11-24T17:00:00Z' and UpdatedDate < '2026-11-24T18:00:00Z'",
    );
    for (const keyword of ['SELECT', 'FROM', 'WHERE', 'AND']) expect(zoql).not.toContain(keyword);
  });
});

describe('parseZuoraDateTime', () => {
  it('reads the offset Zuora returns in the tenant zone', () => {
    expect(parseZuoraDateTime('2026-11-24T10:03:12.000-08:00')).toBe(at('2026-11-24T18:03:12Z'));
    expect(parseZuoraDateTime('2026-11-24T10:03:12-07:00')).toBe(at('2026-11-24T17:03:12Z'));
    expect(parseZuoraDateTime('2026-11-25T05:33:12.250+05:30')).toBe(at('2026-11-25T00:03:12.250Z'));
    expect(parseZuoraDateTime('2026-11-24T18:03:12Z')).toBe(at('2026-11-24T18:03:12Z'));
    expect(parseZuoraDateTime('2026-11-24T10:03:12.000-0800')).toBe(at('2026-11-24T18:03:12Z'));
  });

  it('crosses a day and a year boundary by the offset', () => {
    expect(parseZuoraDateTime('2026-12-31T20:00:00.000-08:00')).toBe(at('2027-01-01T04:00:00Z'));
  });

  it('refuses a value without an offset (its zone would be a guess) and anything malformed', () => {
    for (const value of [
      '2026-11-24T10:03:12.000',
      '2026-11-24',
      '2026-02-30T00:00:00Z',
      '2026-11-24T24:00:00Z',
      '2026-11-24T10:03:12+15:00',
      'yesterday',
      42,
      null,
      undefined,
    ]) {
      expect(parseZuoraDateTime(value)).toBeUndefined();
    }
  });

  it('agrees with Date for any instant written in any whole-quarter-hour offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000 }),
        fc.integer({ min: -48, max: 56 }),
        (seconds, quarterHours) => {
          const offsetMinutes = quarterHours * 15;
          const local = new Date(seconds * 1000 + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const abs = Math.abs(offsetMinutes);
          const text = `${local}${offsetMinutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
          expect(parseZuoraDateTime(text)).toBe(seconds * 1000);
        },
      ),
    );
  });
});

describe('latestVersions', () => {
  it('keeps one entry per Name with its latest UpdatedDate, whatever the offsets and the order', () => {
    const versions = latestVersions([
      { Name: 'A-S00000271', UpdatedDate: '2026-11-24T10:03:12.000-08:00' },
      { Name: 'A-S00000272', UpdatedDate: '2026-11-24T10:00:00.000-08:00' },
      { Name: 'A-S00000271', UpdatedDate: '2026-11-24T18:05:00.000Z' },
      { Name: 'A-S00000271', UpdatedDate: '2026-11-24T09:00:00.000-08:00' },
    ]);
    expect(versions.byName).toEqual(
      new Map([
        ['A-S00000271', at('2026-11-24T18:05:00Z')],
        ['A-S00000272', at('2026-11-24T18:00:00Z')],
      ]),
    );
    expect(versions.withoutName).toBe(0);
  });

  it('makes the time unknown when any version has an unreadable UpdatedDate, so it cannot pass as covered', () => {
    const versions = latestVersions([
      { Name: 'A-S1', UpdatedDate: '2026-11-24T10:03:12.000-08:00' },
      { Name: 'A-S1', UpdatedDate: '2026-11-24T10:04:00' },
      { Name: 'A-S2' },
    ]);
    expect(versions.byName.get('A-S1')).toBeUndefined();
    expect(versions.byName.has('A-S1')).toBe(true);
    expect(versions.byName.get('A-S2')).toBeUndefined();
  });

  it('counts records without a Name apart', () => {
    const versions = latestVersions([
      { UpdatedDate: '2026-11-24T10:03:12.000-08:00' },
      { Name: '  ' },
      null,
      { Name: 'A-S1' },
    ]);
    expect(versions.withoutName).toBe(3);
    expect([...versions.byName.keys()]).toEqual(['A-S1']);
  });

  it('accumulates across pages like one list', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ Name: fc.constantFrom('A-S1', 'A-S2', 'A-S3'), seconds: fc.integer({ min: 0, max: 1e9 }) }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 40 }),
        (rows, cut) => {
          const records = rows.map((row) => ({
            Name: row.Name,
            UpdatedDate: new Date(row.seconds * 1000).toISOString(),
          }));
          const whole = latestVersions(records);
          const paged = latestVersions(records.slice(0, cut)).add(records.slice(cut));
          expect(paged.byName).toEqual(whole.byName);
          for (const [name, updated] of whole.byName) {
            expect(updated).toBe(Math.max(...rows.filter((row) => row.Name === name).map((row) => row.seconds * 1000)));
          }
        },
      ),
    );
  });
});

describe('partitionNames', () => {
  it('keeps only what the shared subscription-id rule accepts', () => {
    expect(partitionNames(['A-S00000271', '../etc', 'A S1', '8a8082c45d3b4f8c015d3c4a4e2f0b1a'])).toEqual({
      valid: ['A-S00000271', '8a8082c45d3b4f8c015d3c4a4e2f0b1a'],
      invalid: ['../etc', 'A S1'],
    });
  });

  it('follows a configured pattern', () => {
    expect(partitionNames(['SUB-1', 'A-S1'], subscriptionIdRuleFrom('SUB-[0-9]+'))).toEqual({
      valid: ['SUB-1'],
      invalid: ['A-S1'],
    });
  });
});
