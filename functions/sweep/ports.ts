import { enqueueMessages, type SqsSender } from '../shared/enqueue';
import { readLedgerFailOpen } from '../ledger/fail-open';
import type { LedgerStore } from '../ledger/ledger-store';
import { markQueuedFailOpen } from '../ledger/queued-mark';
import { createSyncRequest, type MessageSource } from '../shared/queue-message';
import { DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';
import type { CoverageFacts } from './coverage';
import type { CoveragePort, EnqueuePort } from './settle';
import type { SweepReport } from './sweep';

/**
 * The sweep's ports over the project's real parts: the sync ledger (functions/ledger) and the main queue (the
 * shared message schema, sent in batches of ten like the callout Lambda sends).
 */

/**
 * Coverage from the sync ledger: each subscription's newest successful sync, provenThrough, lastQueuedAt, and a
 * claimed sync whose answer is not recorded (in flight, or its invocation died or its record failed). A ledger that does not answer in time throws, so the sweep queues that batch
 * and the rest of the run unchecked and reports the ledger unavailable; ids the ledger could not read
 * (unprocessed keys) have no known entry and are queued.
 */
export function ledgerCoverage(store: LedgerStore, options: { readonly timeoutMs: number }): CoveragePort {
  return async (ids) => {
    const lookup = await readLedgerFailOpen(store, ids, options.timeoutMs);
    if (lookup.failure !== undefined) throw new Error(`the sync ledger could not be read: ${lookup.failure}`);
    return new Map(
      ids.map((id): [string, CoverageFacts | undefined] => {
        const entry = lookup.entries.get(id);
        if (entry === undefined) return [id, undefined];
        const claim = entry.claim;
        // A claim is answered once an attempt as new as it is recorded (ledger-entry.ts, claimInFlight).
        const unrecorded =
          claim !== undefined && (entry.lastAttempt === undefined || claim.startedAt > entry.lastAttempt.startedAt);
        return [
          id,
          {
            ...(entry.lastSuccess !== undefined && { lastSuccessStartedAt: entry.lastSuccess.startedAt }),
            ...(entry.provenThrough !== undefined && { provenThrough: entry.provenThrough }),
            ...(entry.lastQueuedAt !== undefined && { lastQueuedAt: entry.lastQueuedAt }),
            ...(unrecorded && { unrecordedClaimStartedAt: claim.startedAt }),
          },
        ];
      }),
    );
  };
}

export interface SqsEnqueueOptions {
  readonly queueUrl: string;
  /** "sweep" once queue-message.ts allows it (the sync Lambda refuses sources it does not know). */
  readonly source: MessageSource;
  readonly rule?: SubscriptionIdRule;
  readonly now?: () => number;
  /** Passed to enqueueMessages (tests). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Marks lastQueuedAt for what was queued, so the next sweep finds it pending rather than missing. */
  readonly ledger?: LedgerStore;
  /** The marks' bound (fail open: an unmarked id is only queued again by a later sweep). Default 3 s. */
  readonly markTimeoutMs?: number;
}

/**
 * Sync requests on the main queue, `receivedAt` = now, each with the UpdatedDate the sweep read as zuoraUpdatedAt:
 * the sweep read that change before sending, so the sync that serves the message proves it read it
 * (provenThrough). Then lastQueuedAt is marked for the ids queued.
 */
export function sqsEnqueue(sqs: SqsSender, options: SqsEnqueueOptions): EnqueuePort {
  const now = options.now ?? Date.now;
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  return async (ids, updatedMsById) => {
    const receivedAt = new Date(now());
    const requests = ids.map((subscriptionId) => {
      const updatedMs = updatedMsById?.get(subscriptionId);
      return createSyncRequest(
        {
          subscriptionId,
          source: options.source,
          receivedAt,
          ...(updatedMs !== undefined && { zuoraUpdatedAt: new Date(updatedMs).toISOString() }),
        },
        rule,
      );
    });
    const result = await enqueueMessages(sqs, requests, {
      queueUrl: options.queueUrl,
      delaySeconds: 0,
      ...(options.sleep !== undefined && { sleep: options.sleep }),
    });
    if (options.ledger !== undefined) {
      const notQueued = new Set(result.ok ? [] : result.notQueued);
      await markQueuedFailOpen(
        options.ledger,
        ids.filter((id) => !notQueued.has(id)),
        receivedAt.getTime(),
        options.markTimeoutMs ?? 3_000,
      );
    }
    return result.ok ? { notQueued: [] } : { notQueued: result.notQueued, error: result.error };
  };
}

/**
 * One line per sweep for logs and the local runtime's output: window, read (subscriptions, accounts and contacts),
 * covered, pending, queued (missing callouts and unproven syncs) and how it ended.
 * Times are UTC ISO-8601 to the second.
 */
export function describeSweep(report: SweepReport): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const window =
    report.window === undefined ? 'no window' : `${iso(report.window.startMs)} .. ${iso(report.window.endMs)}`;
  const {
    read,
    distinct,
    covered,
    pending,
    unproven,
    missing,
    queued,
    invalid,
    accountsRead,
    contactsRead,
    accountsChanged,
    accountSubscriptions,
  } = report.counts;
  const parts = [
    `sweep ${report.outcome}${report.dryRun ? ' (dry run)' : ''}: ${window}`,
    `read ${read} (${distinct} subscriptions)`,
    `accounts ${accountsRead} and contacts ${contactsRead} read (${accountsChanged} accounts changed, ${accountSubscriptions} of their subscriptions)`,
    `covered ${covered}`,
    `pending ${pending}`,
    `${report.dryRun ? 'would queue' : 'queued'} ${queued} (missing ${missing}, unproven ${unproven})`,
  ];
  if (invalid > 0) parts.push(`invalid ${invalid} (e.g. ${report.invalidSamples.join(', ')})`);
  if (report.slicesPlanned > 1) parts.push(`slices ${report.slicesCompleted}/${report.slicesPlanned}`);
  if (report.lagSeconds !== undefined) parts.push(`lag ${report.lagSeconds} s`);
  if (report.coverageUnavailable) parts.push('ledger unavailable: queued without checking');
  parts.push(`${report.durationMs} ms`);
  if (report.error !== undefined) parts.push(`error (${report.errorKind}): ${report.error}`);
  return parts.join(', ');
}
