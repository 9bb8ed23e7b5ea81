import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { applyBreakerEvent } from './apply-event';
import type { BreakerPhase, BreakerState } from './breaker-state';
import type { BreakerStore } from './breaker-store';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from './settings';

/**
 * What the CLI's `breaker open --reason`, `breaker close` and `status` call. They only write the shared state;
 * the probe Lambda (every minute; at once locally) makes the sync event source follow it.
 */

export interface OperatorOptions {
  readonly now?: number;
  readonly settings?: BreakerSettings;
}

/** Holds the breaker open (a Limio maintenance window): probes will not close it; only closeBreaker does. */
export async function openBreaker(
  store: BreakerStore,
  reason: string,
  options: OperatorOptions = {},
): Promise<BreakerState> {
  const trimmed = reason.trim();
  if (!trimmed) throw new Error('a reason is required to open the breaker by hand (it is shown in status and logs)');
  const applied = await applyBreakerEvent(
    store,
    { type: 'manual-open', reason: trimmed },
    options.now ?? Date.now(),
    options.settings ?? DEFAULT_BREAKER_SETTINGS,
  );
  return applied.after;
}

/** Closes it, whoever opened it: syncing resumes at full speed (the rule may trip it again if Limio is still down). */
export async function closeBreaker(
  store: BreakerStore,
  options: OperatorOptions & { readonly reason?: string } = {},
): Promise<BreakerState> {
  const event = { type: 'manual-close', ...(options.reason?.trim() && { reason: options.reason.trim() }) } as const;
  const applied = await applyBreakerEvent(
    store,
    event,
    options.now ?? Date.now(),
    options.settings ?? DEFAULT_BREAKER_SETTINGS,
  );
  return applied.after;
}

export interface QueueBacklog {
  /** Waiting to be received. */
  readonly waiting: number;
  /** Received and not yet deleted: being synced, or backing off. */
  readonly inFlight: number;
  /** Sent with a delay that has not passed. */
  readonly delayed: number;
}

export interface BreakerStatus {
  readonly state: BreakerPhase;
  /** ISO time of the last change of phase; absent if the breaker never moved. */
  readonly since?: string;
  readonly forSeconds?: number;
  readonly reason: string;
  readonly openedBy: 'auto' | 'manual';
  /** Not-closed time within the last 24 hours, in seconds. */
  readonly openSecondsLast24h: number;
  readonly backlog?: QueueBacklog;
}

export async function breakerStatus(
  store: BreakerStore,
  options: { readonly now?: number; readonly backlog?: () => Promise<QueueBacklog> } = {},
): Promise<BreakerStatus> {
  const now = options.now ?? Date.now();
  const [{ breaker }, backlog] = await Promise.all([store.read(), options.backlog?.()]);
  const dayAgo = now - 24 * 60 * 60 * 1000;
  const openMs = breaker.openIntervals.reduce(
    (sum, { from, to }) => sum + Math.max(0, Math.min(to ?? now, now) - Math.max(from, dayAgo)),
    0,
  );
  return {
    state: breaker.state,
    ...(breaker.since > 0 && {
      since: new Date(breaker.since).toISOString(),
      forSeconds: Math.max(0, Math.round((now - breaker.since) / 1000)),
    }),
    reason: breaker.reason,
    openedBy: breaker.openedBy,
    openSecondsLast24h: Math.round(openMs / 1000),
    ...(backlog && { backlog }),
  };
}

/** The main queue's backlog, for status: approximate, as SQS's counters are. */
export async function readQueueBacklog(sqs: SQSClient, queueUrl: string): Promise<QueueBacklog> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const count = (name: string) => Number(Attributes[name as keyof typeof Attributes] ?? 0) || 0;
  return {
    waiting: count('ApproximateNumberOfMessages'),
    inFlight: count('ApproximateNumberOfMessagesNotVisible'),
    delayed: count('ApproximateNumberOfMessagesDelayed'),
  };
}
