import { LEDGER_DEFAULTS } from '../ledger/config';
import { AccountSubscriptions, ChangedAccounts } from './account-changes';
import { DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';
import { EnqueueFailed, SweepTally, type CoveragePort, type EnqueuePort, type SweepCounts } from './settle';
import {
  countSlices,
  LatestVersions,
  nextSliceSeconds,
  parseZuoraDateTime,
  sliceWindow,
  sweepWindow,
  type TimeRange,
  type WindowSettings,
} from './window';

/**
 * One run of the reconciliation sweep: read what Zuora changed in a window, slice by slice, and queue every
 * subscription whose change no successful sync provably read and no queued message will (coverage.ts). Everything
 * it touches is a port, so the same core serves the scheduled Lambda, `npm start`, the CLI backfill and the
 * tests. This module keeps the window, the deadline and the watermark; which subscriptions of a slice to queue is
 * settle.ts's job.
 */

/** Where changed subscriptions come from (Zuora's ZOQL query in production: see zuora-changes.ts). */
export interface ChangeSource {
  /**
   * Every version with `startMs <= UpdatedDate < endMs`, as raw records `{Name, UpdatedDate}`, page by page.
   * No request may run past `deadlineMs`: the source then throws an error whose `kind` is 'deadline'
   * (ZuoraApiError does), and the sweep keeps the slice for the next run.
   */
  changed(range: TimeRange, options: { deadlineMs?: number }): AsyncIterable<readonly unknown[]>;
}

/**
 * Where changed accounts and contacts, and the changed accounts' subscriptions, come from (ZOQL in production:
 * zuora-changes.ts). The same paging and deadline rules as ChangeSource.
 */
export interface AccountChangeSource {
  /** Account records `{Id, UpdatedDate}` with `startMs <= UpdatedDate < endMs`. */
  changedAccounts(range: TimeRange, options: { deadlineMs?: number }): AsyncIterable<readonly unknown[]>;
  /** Contact records `{AccountId, UpdatedDate}` with `startMs <= UpdatedDate < endMs`. */
  changedContacts(range: TimeRange, options: { deadlineMs?: number }): AsyncIterable<readonly unknown[]>;
  /** Every version `{Name, AccountId}` of the subscriptions of these accounts (at most ACCOUNT_IDS_PER_QUERY ids, 32 hex). */
  subscriptionsOf(accountIds: readonly string[], options: { deadlineMs?: number }): AsyncIterable<readonly unknown[]>;
}

export interface SweepWatermark {
  /**
   * Where the last completely read and settled window (or slice) ended; or, for a slice whose settle the deadline
   * cut short, the second of its oldest change not yet queued or found covered.
   */
  readonly completedUntilMs: number;
  /** The slice length the next run uses, when it differs from the configured maximum. */
  readonly sliceSeconds?: number;
}

/** Implementations must never move `completedUntilMs` backwards (two sweeps may overlap in time). */
export interface WatermarkStore {
  get(): Promise<SweepWatermark | undefined>;
  put(next: SweepWatermark): Promise<void>;
}

export type SweepProgress =
  | { readonly type: 'window'; readonly window: TimeRange; readonly slices: number; readonly sliceSeconds: number }
  | { readonly type: 'page'; readonly slice: number; readonly records: number; readonly read: number }
  | { readonly type: 'coverage-unavailable'; readonly ids: number; readonly error: string }
  | {
      readonly type: 'slice';
      readonly slice: number;
      readonly range: TimeRange;
      readonly counts: SweepCounts;
      readonly watermark?: SweepWatermark;
    };

type SweepOutcome =
  /** Every slice of the window was read and settled. */
  | 'complete'
  /** The watermark is already at the settle point. */
  | 'nothing-to-do'
  /**
   * The deadline came first; the slices before it count, the rest is read by the next run. A slice whose settle
   * the deadline cut short counts up to the time before which all its changes were queued or found covered.
   */
  | 'out-of-time'
  /**
   * Zuora, the queue or the watermark store failed, or Zuora answered outside the slice asked for; the watermark
   * stays where the last whole slice ended.
   */
  | 'failed';

export interface SweepReport {
  readonly outcome: SweepOutcome;
  readonly window?: TimeRange;
  readonly slicesPlanned: number;
  readonly slicesCompleted: number;
  readonly counts: SweepCounts;
  /** The watermark as this run left it (scheduled runs only). */
  readonly watermark?: SweepWatermark;
  /** How far the watermark is behind now: the sweep's lag (scheduled runs only). */
  readonly lagSeconds?: number;
  /** The ledger could not answer for some ids; they were queued rather than risked. */
  readonly coverageUnavailable: boolean;
  /** Up to five refused names, for the log line. */
  readonly invalidSamples: readonly string[];
  readonly error?: string;
  /**
   * ZuoraApiError kinds ('credentials', 'rate-limited', ...; an unreadable Zuora secret is 'credentials'), 'enqueue',
   * 'outside-slice' (OutsideSliceError), or 'other'.
   */
  readonly errorKind?: string;
  readonly durationMs: number;
  readonly dryRun: boolean;
}

export interface SweepDependencies {
  readonly source: ChangeSource;
  /**
   * Account and contact changes (issue #22): read in every slice beside the subscriptions, and each changed
   * account's subscriptions judged by that change. Without it only Subscription changes are read.
   */
  readonly accounts?: AccountChangeSource;
  readonly coverage: CoveragePort;
  readonly enqueue: EnqueuePort;
  /** Required for scheduled runs (no explicit window). */
  readonly watermarks?: WatermarkStore;
  readonly onProgress?: (event: SweepProgress) => void;
  readonly now?: () => number;
}

export interface SweepOptions {
  readonly settings: WindowSettings;
  /** SWEEP_COMMIT_LAG_SECONDS: a change is visible to every reader this long after its UpdatedDate (coverage.ts). */
  readonly commitLagSeconds: number;
  readonly rule?: SubscriptionIdRule;
  /** An explicit window (backfill): read it whole; the watermark is neither read nor moved. */
  readonly window?: TimeRange;
  /** The invocation's own deadline (ms since the epoch). */
  readonly deadlineMs?: number;
  /** Time kept, before the deadline, to settle a slice already read (ledger look-ups, queueing). Default 15 s. */
  readonly reserveMs?: number;
  /**
   * Time kept, before the deadline, for the watermark write after a settle cut short. Default 6 s: two tries of
   * the table's client (1 s to connect, 2 s to answer).
   */
  readonly watermarkReserveMs?: number;
  /** Neither queue nor move the watermark; `queued` says what would have been queued. */
  readonly dryRun?: boolean;
  /** Ids per ledger look-up and per enqueue call (default 100). */
  readonly batchSize?: number;
}

export const SWEEP_RUN_DEFAULTS = { reserveMs: 15_000, watermarkReserveMs: 6_000, batchSize: 100 } as const;

export async function runSweep(deps: SweepDependencies, options: SweepOptions): Promise<SweepReport> {
  const now = deps.now ?? Date.now;
  const startedMs = now();
  const reserveMs = options.reserveMs ?? SWEEP_RUN_DEFAULTS.reserveMs;
  const watermarkReserveMs = options.watermarkReserveMs ?? SWEEP_RUN_DEFAULTS.watermarkReserveMs;
  const dryRun = options.dryRun === true;
  const scheduled = options.window === undefined;
  const maxSliceSeconds = options.settings.maxSliceSeconds;
  if (scheduled && deps.watermarks === undefined)
    throw new Error('a scheduled sweep needs a watermark store (or pass an explicit window)');

  const tally = new SweepTally({
    coverage: deps.coverage,
    enqueue: deps.enqueue,
    rule: options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE,
    rules: { commitLagMs: options.commitLagSeconds * 1000, clockMarginMs: LEDGER_DEFAULTS.clockMarginSeconds * 1000 },
    batchSize: options.batchSize ?? SWEEP_RUN_DEFAULTS.batchSize,
    dryRun,
    onCoverageUnavailable: (ids, error) => deps.onProgress?.({ type: 'coverage-unavailable', ids, error }),
    now,
  });
  let window: TimeRange | undefined;
  let slicesPlanned = 0;
  let slicesCompleted = 0;
  let watermark: SweepWatermark | undefined;

  const finish = (outcome: SweepOutcome, error?: unknown): SweepReport => {
    const endedMs = now();
    return {
      outcome,
      ...(window !== undefined && { window }),
      slicesPlanned,
      slicesCompleted,
      counts: tally.counts(),
      ...(watermark !== undefined && {
        watermark,
        lagSeconds: Math.max(0, Math.round((endedMs - watermark.completedUntilMs) / 1000)),
      }),
      coverageUnavailable: tally.coverageUnavailable,
      invalidSamples: tally.invalidSamples(),
      ...(error !== undefined && { error: (error as Error)?.message ?? String(error), errorKind: errorKindOf(error) }),
      durationMs: endedMs - startedMs,
      dryRun,
    };
  };
  const outOfTime = (neededMs: number) =>
    options.deadlineMs !== undefined && now() + neededMs >= options.deadlineMs - reserveMs;

  /**
   * Reads one slice whole: its subscription changes, its account and contact changes and the changed accounts'
   * subscriptions; or says the deadline came first (the source stops at the deadline it is given). A slice is
   * only settled once all of it was read.
   */
  const readSlice = async (
    range: TimeRange,
    index: number,
  ): Promise<{ versions: LatestVersions; accounts?: AccountSubscriptions } | 'ran-out-of-time'> => {
    const versions = new LatestVersions();
    const deadlineMs = options.deadlineMs === undefined ? undefined : options.deadlineMs - reserveMs;
    const readOptions = { ...(deadlineMs !== undefined && { deadlineMs }) };
    try {
      for await (const page of deps.source.changed(range, readOptions)) {
        tally.read += page.length;
        checkWithinSlice(page, range);
        versions.add(page);
        deps.onProgress?.({ type: 'page', slice: index, records: page.length, read: tally.read });
      }
      if (deps.accounts === undefined) return { versions };
      const changed = new ChangedAccounts();
      for await (const page of deps.accounts.changedAccounts(range, readOptions)) {
        tally.accountsRead += page.length;
        checkWithinSlice(page, range);
        changed.addAccounts(page);
      }
      for await (const page of deps.accounts.changedContacts(range, readOptions)) {
        tally.contactsRead += page.length;
        checkWithinSlice(page, range);
        changed.addContacts(page);
      }
      // One query per group of 199 accounts, not one per account: 10,000 changed accounts cost 51 queries
      // (and their pages), not 10,000 requests against the tenant's limits that Limio's syncs share.
      const accounts = new AccountSubscriptions(changed);
      for (const group of changed.lookupGroups()) {
        for await (const page of deps.accounts.subscriptionsOf(group, readOptions)) accounts.add(page);
      }
      return { versions, accounts };
    } catch (error) {
      if ((error as { kind?: unknown })?.kind === 'deadline') return 'ran-out-of-time';
      throw error;
    }
  };

  try {
    let sliceSeconds = maxSliceSeconds;
    if (options.window !== undefined) {
      // ZOQL times are whole seconds: widen to them rather than drop a change in a partial second.
      window = {
        startMs: Math.floor(options.window.startMs / 1000) * 1000,
        endMs: Math.ceil(options.window.endMs / 1000) * 1000,
      };
      if (!(window.startMs < window.endMs)) throw new RangeError('the sweep window must end after it starts');
    } else {
      watermark = await deps.watermarks!.get();
      window = sweepWindow(startedMs, watermark?.completedUntilMs, options.settings);
      if (watermark?.sliceSeconds !== undefined)
        sliceSeconds = Math.min(maxSliceSeconds, Math.max(1, watermark.sliceSeconds));
    }
    if (window === undefined) return finish('nothing-to-do');
    slicesPlanned = countSlices(window, sliceSeconds);
    deps.onProgress?.({ type: 'window', window, slices: slicesPlanned, sliceSeconds });

    let lastSliceMs = 0;
    let index = -1;
    for (const slice of sliceWindow(window, sliceSeconds)) {
      index += 1;
      // Start a slice only when one like the last can still finish; a first slice always gets its chance.
      if (index > 0 && outOfTime(lastSliceMs * 1.5)) return finish('out-of-time');
      const sliceStartedMs = now();
      const read = await readSlice(slice, index);
      if (read === 'ran-out-of-time') {
        if (scheduled && !dryRun) {
          // The slice was too big for an invocation: the next run reads smaller ones from the same point.
          watermark = {
            completedUntilMs: watermark?.completedUntilMs ?? slice.startMs,
            sliceSeconds: nextSliceSeconds(sliceSeconds, 'ran-out-of-time', maxSliceSeconds),
          };
          await deps.watermarks!.put(watermark);
        }
        return finish('out-of-time');
      }
      // The read has ended: every change it returned was visible to it by now (coverage.ts, proof (c)).
      const sightedAtMs = now();
      const settled = await tally.settle(read.versions, {
        sightedAtMs,
        ...(read.accounts !== undefined && { accounts: read.accounts }),
        ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs - watermarkReserveMs }),
      });
      if (!settled.complete) {
        if (scheduled && !dryRun) {
          // Resume where everything before is queued or covered (ZOQL reads whole seconds), with a smaller slice.
          const settledUntilMs =
            settled.settledBeforeMs === undefined ? slice.startMs : Math.floor(settled.settledBeforeMs / 1000) * 1000;
          watermark = {
            completedUntilMs: Math.max(watermark?.completedUntilMs ?? slice.startMs, settledUntilMs),
            sliceSeconds: nextSliceSeconds(sliceSeconds, 'ran-out-of-time', maxSliceSeconds),
          };
          await deps.watermarks!.put(watermark);
        }
        return finish('out-of-time');
      }
      lastSliceMs = now() - sliceStartedMs;
      slicesCompleted += 1;
      if (scheduled && !dryRun) {
        const last = index === slicesPlanned - 1;
        const nextSlice = last ? nextSliceSeconds(sliceSeconds, 'completed', maxSliceSeconds) : sliceSeconds;
        watermark = {
          completedUntilMs: slice.endMs,
          ...(nextSlice !== maxSliceSeconds && { sliceSeconds: nextSlice }),
        };
        await deps.watermarks!.put(watermark);
      }
      deps.onProgress?.({
        type: 'slice',
        slice: index,
        range: slice,
        counts: tally.counts(),
        ...(scheduled && !dryRun && watermark !== undefined && { watermark }),
      });
    }
    return finish('complete');
  } catch (error) {
    return finish('failed', error);
  }
}

/**
 * Zuora answered with changes outside the slice asked for: the tenant read the query's times in its own zone (it
 * ignored the offset). Counting the answer would move the watermark past changes never read.
 */
class OutsideSliceError extends Error {
  override readonly name = 'OutsideSliceError';
  readonly kind = 'outside-slice';
}

function checkWithinSlice(records: readonly unknown[], range: TimeRange): void {
  for (const record of records) {
    const updatedDate =
      typeof record === 'object' && record !== null ? (record as Record<string, unknown>).UpdatedDate : undefined;
    // An unreadable UpdatedDate is not evidence either way: the subscription is queued (LatestVersions).
    const updatedMs = parseZuoraDateTime(updatedDate);
    if (updatedMs !== undefined && !(range.startMs <= updatedMs && updatedMs < range.endMs)) {
      const iso = (ms: number) => new Date(ms).toISOString();
      throw new OutsideSliceError(
        `Zuora answered the query for ${iso(range.startMs)} .. ${iso(range.endMs)} with UpdatedDate ${String(updatedDate)}, outside it: ` +
          "the tenant reads the query's times in its own zone, not by their offset",
      );
    }
  }
}

function errorKindOf(error: unknown): string {
  if (error instanceof EnqueueFailed) return 'enqueue';
  // The Zuora secret could not be read or is not {"clientId","clientSecret"}: the same alarm text as refused ones.
  if ((error as Error)?.name === 'CredentialsError') return 'credentials';
  const kind = (error as { kind?: unknown })?.kind;
  return typeof kind === 'string' ? kind : 'other';
}

/** A watermark kept in memory: tests, dry runs, and the local runtime until a persistent store exists. */
export function memoryWatermarkStore(
  initial?: SweepWatermark,
): WatermarkStore & { readonly current: SweepWatermark | undefined; readonly puts: SweepWatermark[] } {
  let current = initial;
  const puts: SweepWatermark[] = [];
  return {
    get current() {
      return current;
    },
    puts,
    async get() {
      return current;
    },
    async put(next) {
      if (current !== undefined && next.completedUntilMs < current.completedUntilMs) return;
      current = next;
      puts.push(next);
    },
  };
}
