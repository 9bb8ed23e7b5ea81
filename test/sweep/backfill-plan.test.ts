import { describeBackfillPlan, MAX_BACKFILL_DAYS, planBackfill } from '../../functions/sweep/backfill-plan';

const at = (iso: string) => Date.parse(iso);
const DAY = 86_400_000;

describe('planBackfill', () => {
  it('counts a mistyped year (2006 for 2026) as 175,320 hourly slices, each at least three ZOQL queries (subscriptions, accounts, contacts), over the bound', () => {
    const plan = planBackfill({ startMs: at('2006-11-24T00:00:00Z'), endMs: at('2026-11-24T00:00:00Z') }, 3600);
    expect(plan).toMatchObject({
      days: 7305,
      sliceSeconds: 3600,
      slices: 175_320,
      zoqlQueriesAtLeast: 525_960,
      overBound: true,
    });
    expect(describeBackfillPlan(plan)).toBe(
      '175,320 slice(s) of 3600 s over 7,305 day(s): at least 525,960 ZOQL queries (subscriptions, accounts and contacts per slice, one more per 2,000 records a query holds and per 199 changed accounts)',
    );
  });

  it('plans a window from year 1000 without making its slices', () => {
    const startedMs = Date.now();
    const plan = planBackfill({ startMs: at('1000-01-01T00:00:00Z'), endMs: at('2026-11-24T00:00:00Z') }, 3600);
    expect(plan.slices).toBe(9_001_584);
    expect(Date.now() - startedMs).toBeLessThan(100);
  });

  it('takes up to 400 days as they are, and one second more as over the bound', () => {
    const startMs = at('2025-10-20T00:00:00Z');
    expect(MAX_BACKFILL_DAYS).toBe(400);
    expect(planBackfill({ startMs, endMs: startMs + 400 * DAY }, 3600)).toMatchObject({
      days: 400,
      slices: 9600,
      overBound: false,
    });
    expect(planBackfill({ startMs, endMs: startMs + 400 * DAY + 1000 }, 3600)).toMatchObject({
      days: 401,
      slices: 9601,
      overBound: true,
    });
  });

  it('plans the window as the sweep reads it, widened to whole seconds', () => {
    const plan = planBackfill({ startMs: at('2026-11-24T00:00:00.500Z'), endMs: at('2026-11-24T01:00:00.200Z') }, 3600);
    expect(plan).toMatchObject({
      window: { startMs: at('2026-11-24T00:00:00Z'), endMs: at('2026-11-24T01:00:01Z') },
      slices: 2,
      days: 1,
    });
  });
});
