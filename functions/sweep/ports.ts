import { enqueueMessages, type SqsSender } from '../shared/enqueue';
import { readLedgerFailOpen } from '../ledger/fail-open';
import type { LedgerStore } from '../ledger/ledger-store';
import { createSyncRequest, type MessageSource } from '../shared/queue-message';
import { DEFAULT_SUBSCRIPTION_ID_RULE, type SubscriptionIdRule } from '../shared/subscription-id';
import type { CoveragePort, EnqueuePort } from './settle';
import type { SweepReport } from './sweep';

/**
 * The sweep's ports over the project's real parts: the sync ledger (functions/ledger) and the main queue (the
 * shared message schema, sent in batches of ten like the callout Lambda sends).
 */

/**
 * Coverage from the sync ledger: the start of each subscription's newest successful sync. A ledger that does not
 * answer in time throws, so the sweep queues that batch and the rest of the run unchecked and reports the ledger
 * unavailable; ids the ledger could not read (unprocessed keys) have no known sync and are queued.
 */
export function ledgerCoverage(store: LedgerStore, options: { readonly timeoutMs: number }): CoveragePort {
  return async (ids) => {
    const lookup = await readLedgerFailOpen(store, ids, options.timeoutMs);
    if (lookup.failure !== undefined) throw new Error(`the sync ledger could not be read: ${lookup.failure}`);
    return new Map(ids.map((id) => [id, lookup.entries.get(id)?.lastSuccess?.startedAt]));
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
}

/** Sync requests on the main queue, `receivedAt` = now: a sync that starts after it covers the change. */
export function sqsEnqueue(sqs: SqsSender, options: SqsEnqueueOptions): EnqueuePort {
  const now = options.now ?? Date.now;
  const rule = options.rule ?? DEFAULT_SUBSCRIPTION_ID_RULE;
  return async (ids) => {
    const receivedAt = new Date(now());
    const requests = ids.map((subscriptionId) => createSyncRequest({ subscriptionId, source: options.source, receivedAt }, rule));
    const result = await enqueueMessages(sqs, requests, {
      queueUrl: options.queueUrl,
      delaySeconds: 0,
      ...(options.sleep !== undefined && { sleep: options.sleep }),
    });
    return result.ok ? { notQueued: [] } : { notQueued: result.notQueued, error: result.error };
  };
}

/**
 * One line per sweep for logs and the local runtime's output: window, read, covered, queued and how it ended.
 * Times are UTC ISO-8601 to the second.
 */
export function describeSweep(report: SweepReport): string {
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
  const window = report.window === undefined ? 'no window' : `${iso(report.window.startMs)} .. ${iso(report.window.endMs)}`;
  const { read, distinct, covered, queued, invalid } = report.counts;
  const parts = [
    `sweep ${report.outcome}${report.dryRun ? ' (dry run)' : ''}: ${window}`,
    `read ${read} (${distinct} subscriptions)`,
    `covered ${covered}`,
    `${report.dryRun ? 'would queue' : 'queued'} ${queued}`,
  ];
  if (invalid > 0) parts.push(`invalid ${invalid} (e.g. ${report.invalidSamples.join(', ')})`);
  if (report.slicesPlanned > 1) parts.push(`slices ${report.slicesCompleted}/${report.slicesPlanned}`);
  if (report.lagSeconds !== undefined) parts.push(`lag ${report.lagSeconds} s`);
  if (report.coverageUnavailable) parts.push('ledger unavailable: queued without checking');
  parts.push(`${report.durationMs} ms`);
  if (report.error !== undefined) parts.push(`error (${report.errorKind}): ${report.error}`);
  return parts.join(', ');
}
