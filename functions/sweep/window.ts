import { checkSubscriptionId, DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';

/**
 * The pure part of the reconciliation sweep: which span of Zuora time one run reads, how it is cut into slices,
 * the ZOQL that reads a slice, and what the answer means (versions of one subscription, time-zone offsets,
 * names the bridge may send to Limio). Every time here is milliseconds since the epoch, UTC.
 */

export interface WindowSettings {
  /** The newest changes are left to their callouts: a window ends this long before now. */
  readonly settleSeconds: number;
  /** A window starts this long before the last completed one ended (UpdatedDate is not a commit order). */
  readonly overlapSeconds: number;
  /** How far back the very first sweep looks, when no watermark exists yet. */
  readonly initialLookbackSeconds: number;
  /** The longest slice one query reads; a larger window is cut into slices of at most this. */
  readonly maxSliceSeconds: number;
}

/** Half-open: `startMs <= UpdatedDate < endMs`, so consecutive slices neither overlap nor leave a gap. */
export interface TimeRange {
  readonly startMs: number;
  readonly endMs: number;
}

/** Shortest slice the sweep shrinks to when slices keep running out of time. */
export const MIN_SLICE_SECONDS = 60;

const SECOND_MS = 1000;

/** ZOQL filters and Zuora's UpdatedDate have whole seconds; a window on whole seconds means what it says. */
function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}

/**
 * The span a scheduled sweep reads now, or undefined when there is nothing to read yet (the watermark is already
 * at or past the settle point). `completedUntilMs` is where the last completely read window ended.
 */
export function sweepWindow(
  nowMs: number,
  completedUntilMs: number | undefined,
  settings: WindowSettings,
): TimeRange | undefined {
  const endMs = floorToSecond(nowMs - settings.settleSeconds * SECOND_MS);
  const startMs =
    completedUntilMs === undefined
      ? endMs - settings.initialLookbackSeconds * SECOND_MS
      : floorToSecond(completedUntilMs) - settings.overlapSeconds * SECOND_MS;
  return startMs < endMs ? { startMs, endMs } : undefined;
}

/**
 * Consecutive slices of at most `sliceSeconds`, oldest first, covering the range exactly. Made one at a time as
 * they are read: a window mistyped by centuries would otherwise cost millions of objects before the first request.
 */
export function sliceWindow(range: TimeRange, sliceSeconds: number): IterableIterator<TimeRange> {
  // Checked here, not in the generator, whose body would only run at the first slice.
  checkSliceSeconds(sliceSeconds);
  const sliceMs = sliceSeconds * SECOND_MS;
  return (function* slices() {
    for (let startMs = range.startMs; startMs < range.endMs; startMs += sliceMs)
      yield { startMs, endMs: Math.min(range.endMs, startMs + sliceMs) };
  })();
}

/** How many slices sliceWindow makes of the range, without making them. */
export function countSlices(range: TimeRange, sliceSeconds: number): number {
  checkSliceSeconds(sliceSeconds);
  return range.startMs < range.endMs ? Math.ceil((range.endMs - range.startMs) / (sliceSeconds * SECOND_MS)) : 0;
}

function checkSliceSeconds(sliceSeconds: number): void {
  if (!(Number.isInteger(sliceSeconds) && sliceSeconds >= 1))
    throw new RangeError(`sliceSeconds must be a whole number >= 1, got ${sliceSeconds}`);
}

/**
 * The slice length the next run uses. A slice that could not be read before the invocation's deadline is halved
 * (a dense hour of changes must still fit one invocation); a run that read all it planned lets it grow back,
 * doubling, up to the configured maximum.
 */
export function nextSliceSeconds(
  current: number,
  outcome: 'completed' | 'ran-out-of-time',
  maxSliceSeconds: number,
): number {
  const next = outcome === 'ran-out-of-time' ? Math.floor(current / 2) : current * 2;
  return Math.min(maxSliceSeconds, Math.max(Math.min(MIN_SLICE_SECONDS, maxSliceSeconds), next));
}

export type ZoqlOffsetStyle = 'Z' | '+00:00';

/** `2026-11-24T18:00:00+00:00`: an explicit offset, since a value without one is read in the tenant's zone. */
export function zoqlDateTime(ms: number, style: ZoqlOffsetStyle = '+00:00'): string {
  if (!Number.isFinite(ms) || ms % SECOND_MS !== 0)
    throw new RangeError(`a ZOQL time must be on a whole second, got ${ms}`);
  return `${new Date(ms).toISOString().slice(0, 19)}${style === 'Z' ? 'Z' : '+00:00'}`;
}

/** ZOQL keywords must be lower case; ZOQL has no ordering, so the whole answer must be read before it counts. */
export function changedSubscriptionsZoql(range: TimeRange, style: ZoqlOffsetStyle = '+00:00'): string {
  return (
    `select Name, UpdatedDate from Subscription where UpdatedDate >= '${zoqlDateTime(range.startMs, style)}'` +
    ` and UpdatedDate < '${zoqlDateTime(range.endMs, style)}'`
  );
}

/** Changed accounts in a slice: the same bounds, offsets and rules as changedSubscriptionsZoql. */
export function changedAccountsZoql(range: TimeRange, style: ZoqlOffsetStyle = '+00:00'): string {
  return `select Id, UpdatedDate from Account where UpdatedDate >= '${zoqlDateTime(range.startMs, style)}' and UpdatedDate < '${zoqlDateTime(range.endMs, style)}'`;
}

/** Changed contacts (bill-to, sold-to, any) in a slice, by the account they belong to. */
export function changedContactsZoql(range: TimeRange, style: ZoqlOffsetStyle = '+00:00'): string {
  return `select AccountId, UpdatedDate from Contact where UpdatedDate >= '${zoqlDateTime(range.startMs, style)}' and UpdatedDate < '${zoqlDateTime(range.endMs, style)}'`;
}

/**
 * Account ids per subscription lookup: ZOQL allows at most 200 conditions and has no `in`, so the accounts are
 * asked about 199 at a time, one `or` each, a condition short of the limit.
 */
export const ACCOUNT_IDS_PER_QUERY = 199;

const ZUORA_OBJECT_ID = /^[0-9a-f]{32}$/;

/** A Zuora object id (32 lowercase hex): the only account id that may be put in a query's quotes. */
export function isZuoraObjectId(value: unknown): value is string {
  return typeof value === 'string' && ZUORA_OBJECT_ID.test(value);
}

/**
 * Every version of the subscriptions of up to ACCOUNT_IDS_PER_QUERY accounts (de-duplicate by Name). Ids are
 * checked again here: a value from an answer goes between quotes, and a quote in it would change the query.
 */
export function subscriptionsOfAccountsZoql(accountIds: readonly string[]): string {
  if (accountIds.length === 0 || accountIds.length > ACCOUNT_IDS_PER_QUERY) {
    throw new RangeError(`between 1 and ${ACCOUNT_IDS_PER_QUERY} account ids per query, got ${accountIds.length}`);
  }
  const bad = accountIds.find((id) => !ZUORA_OBJECT_ID.test(id));
  if (bad !== undefined) throw new RangeError(`not a Zuora account id: ${JSON.stringify(bad.slice(0, 40))}`);
  return `select Name, AccountId from Subscription where ${accountIds.map((id) => `AccountId = '${id}'`).join(' or ')}`;
}

const ZUORA_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Reads a Zuora datetime such as `2026-11-24T10:03:12.000-08:00` by its own offset. A value without an offset
 * (or anything else unexpected) gives undefined: guessing the tenant's zone could place a change hours off.
 */
export function parseZuoraDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const match = ZUORA_DATE_TIME.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, zone, sign, offsetHours, offsetMinutes] = match;
  const y = Number(year);
  const mo = Number(month);
  const d = Number(day);
  const h = Number(hour);
  const mi = Number(minute);
  const s = Number(second);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  let offsetMs = 0;
  if (zone !== 'Z') {
    const oh = Number(offsetHours);
    const om = Number(offsetMinutes);
    if (oh > 14 || om > 59) return undefined;
    offsetMs = (sign === '-' ? -1 : 1) * (oh * 60 + om) * 60 * SECOND_MS;
  }
  const milliseconds = fraction === undefined ? 0 : Number(fraction.slice(0, 3).padEnd(3, '0'));
  return Date.UTC(y, mo - 1, d, h, mi, s, milliseconds) - offsetMs;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Subscription versions de-duplicated by Name (the subscription number Limio syncs), keeping the latest
 * UpdatedDate. A version whose UpdatedDate cannot be read makes the subscription's time unknown (undefined):
 * it can then never count as already synced, so it is queued rather than missed.
 */
export class LatestVersions {
  readonly byName = new Map<string, number | undefined>();
  /**
   * Each subscription's versions by their UpdatedDate's second (ms at the second -> how many). Every version is
   * judged, not only the latest: one stamped earlier may have been committed later (coverage.ts).
   */
  readonly secondsByName = new Map<string, Map<number, number>>();
  /** Records that carried no usable Name (Zuora leaves null fields out of a record). */
  withoutName = 0;

  add(records: Iterable<unknown>): this {
    for (const record of records) {
      const fields = typeof record === 'object' && record !== null ? (record as Record<string, unknown>) : {};
      const name = typeof fields.Name === 'string' ? fields.Name.trim() : '';
      if (name === '') {
        this.withoutName += 1;
        continue;
      }
      const updatedMs = parseZuoraDateTime(fields.UpdatedDate);
      if (updatedMs !== undefined) {
        const seconds = this.secondsByName.get(name) ?? new Map<number, number>();
        const second = Math.floor(updatedMs / 1000) * 1000;
        seconds.set(second, (seconds.get(second) ?? 0) + 1);
        this.secondsByName.set(name, seconds);
      }
      if (!this.byName.has(name)) {
        this.byName.set(name, updatedMs);
        continue;
      }
      const known = this.byName.get(name);
      this.byName.set(name, known === undefined || updatedMs === undefined ? undefined : Math.max(known, updatedMs));
    }
    return this;
  }
}

export function latestVersions(records: Iterable<unknown>): LatestVersions {
  return new LatestVersions().add(records);
}

/** Names the bridge may send to Limio (the rule every producer shares), and the rest, which are only counted. */
export function partitionNames(
  names: Iterable<string>,
  rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE,
): { readonly valid: string[]; readonly invalid: string[] } {
  const valid: string[] = [];
  const invalid: string[] = [];
  for (const name of names) (checkSubscriptionId(name, rule).ok ? valid : invalid).push(name);
  return { valid, invalid };
}
