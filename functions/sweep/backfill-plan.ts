import { ACCOUNT_IDS_PER_QUERY, countSlices, type TimeRange } from './window';

/**
 * What a backfill over an operator's window will cost before it runs, and whether it is longer than a backfill
 * reads without being told twice. Every slice is at least three ZOQL queries against API limits the tenant shares
 * with every other integration, so a year typed wrong (2006 for 2026) must not quietly become 525,000 queries.
 */

/** The longest window a backfill reads without `--allow-long-window`: a year and a month of slack. */
export const MAX_BACKFILL_DAYS = 400;

/** Records per ZOQL page: a slice holding more costs one queryMore per further page. */
const ZOQL_PAGE_RECORDS = 2000;

const DAY_MS = 86_400_000;

/** Subscription, Account and Contact changes: three queries a slice, before pages and account lookups. */
const ZOQL_QUERIES_PER_SLICE = 3;

export interface BackfillPlan {
  readonly window: TimeRange;
  /** Whole and partial days the window spans. */
  readonly days: number;
  readonly sliceSeconds: number;
  readonly slices: number;
  /**
   * Three queries per slice; each further page of ZOQL_PAGE_RECORDS records adds a queryMore, and each 199 changed
   * accounts one subscription lookup, neither known in advance.
   */
  readonly zoqlQueriesAtLeast: number;
  /** Longer than MAX_BACKFILL_DAYS: to be refused unless the operator confirmed it. */
  readonly overBound: boolean;
}

/** The plan of the window as runSweep reads it: widened to whole seconds, since ZOQL times are. */
export function planBackfill(
  requested: TimeRange,
  sliceSeconds: number,
  maxDays: number = MAX_BACKFILL_DAYS,
): BackfillPlan {
  const window = {
    startMs: Math.floor(requested.startMs / 1000) * 1000,
    endMs: Math.ceil(requested.endMs / 1000) * 1000,
  };
  const slices = countSlices(window, sliceSeconds);
  const lengthMs = Math.max(0, window.endMs - window.startMs);
  return {
    window,
    days: Math.ceil(lengthMs / DAY_MS),
    sliceSeconds,
    slices,
    zoqlQueriesAtLeast: slices * ZOQL_QUERIES_PER_SLICE,
    overBound: lengthMs > maxDays * DAY_MS,
  };
}

/** One line for the operator: `8,784 slice(s) of 3600 s over 366 day(s): at least 26,352 ZOQL queries (…)`. */
export function describeBackfillPlan(plan: BackfillPlan): string {
  const n = (value: number) => value.toLocaleString('en-US');
  return (
    `${n(plan.slices)} slice(s) of ${plan.sliceSeconds} s over ${n(plan.days)} day(s): at least ${n(plan.zoqlQueriesAtLeast)} ZOQL ` +
    `${plan.zoqlQueriesAtLeast === 1 ? 'query' : 'queries'} (subscriptions, accounts and contacts per slice, one more per ${n(ZOQL_PAGE_RECORDS)} records ` +
    `a query holds and per ${ACCOUNT_IDS_PER_QUERY} changed accounts)`
  );
}
