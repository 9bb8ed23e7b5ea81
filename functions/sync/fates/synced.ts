import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { SubscriptionPlan } from '../../ledger/batch-plan';
import { claimRefusedHold } from '../../ledger/ledger-fate';
import type { BreakerState } from '../../breaker/breaker-state';
import type { SyncOutcome, SyncResult } from '../../limio';
import { logKeys, visibilityOf, type MadeSyncs, type QueuedMessage, type Verdicts } from '../batch-messages';
import type { SyncContext } from '../sync-context';
import { SYNC_METRICS } from '../telemetry';
import { backOffOrDeadLetter } from './backed-off';
import { deadLetter } from './dead-lettered';
import { holdForBreaker } from './held-by-breaker';
import { holdForLedger } from './held-by-ledger';
import { OutcomeReport } from './outcome-report';
import { postpone } from './postponed';
import { returnForSlot } from './waited-for-slot';
import { limioCallKindOf, NO_SLOT, type CallReportOf } from '../limio-slots';

/** Time kept back after a Limio call for its ChangeMessageVisibility / DLQ calls and the batch response. */
const SQS_ACTIONS_RESERVE_MS = 2_000;

/**
 * One Limio call for every message of one subscription in the batch; each message then meets its fate: synced,
 * dead-lettered (terminal), backed off (retryable); or, without a call, postponed, held by the breaker or held
 * behind another invocation's claim.
 */
export async function syncSubscription(
  sync: SyncContext,
  subscriptionId: string,
  messages: readonly QueuedMessage[],
  context: Context | undefined,
  made: MadeSyncs,
  claim?: SubscriptionPlan<QueuedMessage>['claim'],
): Promise<Verdicts> {
  const { ledger } = sync;
  const claims = ledger !== undefined && claim !== undefined;
  // Not worth a claim that no sync would follow.
  if (claims && runningOutOfTime(sync, context)) return postpone(sync, subscriptionId, messages);
  const limiter = sync.limitLimioCalls;
  // Inside the slot, in this order: the time left, the breaker (a batch under way must stop calling Limio once it
  // opens; the state is cached for BREAKER_STATE_CACHE_SECONDS), then the claim, then the call. A claim is made only
  // when the call follows it: the sweep cannot tell a claim with no recorded answer from a sync whose answer was lost
  // (a Limio call may have read the change), so one no call follows would have a change queued again as unproven
  // during every outage. The claim's round trip is inside the slot, not in the latency the adaptive limit hears.
  const result = await limiter.run(
    async () => {
      if (runningOutOfTime(sync, context)) return 'postpone' as const;
      const breakerState = await sync.breaker.gate.current();
      if (breakerState.state === 'open') return breakerState;
      // Taken before the claim (without one, just before the call), so the start the ledger records is never later
      // than Limio's real start.
      const startedAt = sync.now();
      if (claims && !(await ledger.claim(subscriptionId, startedAt, leaseMsFor(sync, context), claim)))
        return 'claim-refused' as const;
      return { ...(await sync.limio.sync(subscriptionId)), startedAt };
    },
    limiter.boundsWaits ? slotWaitMsFor(sync, context) : Number.POSITIVE_INFINITY,
    reportOfCall,
  );
  if (result === NO_SLOT) return returnForSlot(sync, subscriptionId, messages, context);
  if (result === 'postpone') return postpone(sync, subscriptionId, messages);
  if (result === 'claim-refused')
    return holdForLedger(
      sync,
      subscriptionId,
      messages.map((message) => ({ message, fate: claimRefusedHold(sync.now()) })),
    );
  if (!('outcome' in result)) return holdForBreaker(sync, subscriptionId, messages, result);
  const { outcome, latencyMs } = result;
  // Written beside the rest of the batch's work, and awaited with the breaker's write before the batch returns (a
  // frozen Lambda would not send it): the messages' fates, and the event that reports them, do not wait for it.
  made.push({
    subscriptionId,
    outcome,
    recorded: ledger ? ledger.record(subscriptionId, result.startedAt, outcome, messages) : Promise.resolve(),
  });
  sync.metrics.addMetric(SYNC_METRICS.syncLatency, MetricUnit.Milliseconds, latencyMs);
  const report = new OutcomeReport(subscriptionId, result);
  const verdicts =
    outcome.class === 'synced'
      ? doneAsSynced(sync, messages, outcome, latencyMs, report)
      : outcome.class === 'terminal'
        ? await deadLetterTerminal(sync, messages, outcome, report)
        : await backOff(sync, messages, outcome, report);
  report.emit(sync.observer);
  return verdicts;
}

function doneAsSynced(
  sync: SyncContext,
  messages: readonly QueuedMessage[],
  outcome: Extract<SyncOutcome, { class: 'synced' }>,
  latencyMs: number,
  report: OutcomeReport,
): Verdicts {
  sync.metrics.addMetric(SYNC_METRICS.synced, MetricUnit.Count, 1);
  const verdicts: Verdicts = new Map();
  for (const message of messages) {
    sync.logger.info('subscription synced', {
      ...logKeys(message),
      limioId: outcome.limioId,
      owner: outcome.owner,
      latencyMs,
    });
    verdicts.set(message.record.messageId, { handled: true });
    report.add('synced', message);
  }
  return verdicts;
}

/** Limio refused the subscription for good (4xx): no retry can change that. */
async function deadLetterTerminal(
  sync: SyncContext,
  messages: readonly QueuedMessage[],
  outcome: Extract<SyncOutcome, { class: 'terminal' }>,
  report: OutcomeReport,
): Promise<Verdicts> {
  sync.metrics.addMetric(SYNC_METRICS.terminal, MetricUnit.Count, 1);
  const verdicts: Verdicts = new Map();
  for (const message of messages) {
    sync.logger.error('Limio refused the subscription: dead-lettering it', {
      ...logKeys(message),
      httpStatus: outcome.httpStatus,
      error: outcome.error,
    });
    const verdict = await deadLetter(sync, message, 'terminal', outcome.error, outcome.httpStatus);
    verdicts.set(message.record.messageId, verdict);
    report.add(
      verdict.handled ? 'dead-lettered' : 'retry',
      message,
      verdict.handled ? 'terminal' : undefined,
      visibilityOf(verdict),
    );
  }
  return verdicts;
}

async function backOff(
  sync: SyncContext,
  messages: readonly QueuedMessage[],
  outcome: Extract<SyncOutcome, { class: 'retryable' | 'refresh' }>,
  report: OutcomeReport,
): Promise<Verdicts> {
  sync.metrics.addMetric(SYNC_METRICS.retryable, MetricUnit.Count, 1);
  // Decided all at once, so their backoffs share one ChangeMessageVisibilityBatch; reported in order.
  const retried = await Promise.all(messages.map((message) => backOffOrDeadLetter(sync, message, outcome)));
  const verdicts: Verdicts = new Map();
  messages.forEach((message, index) => {
    const { verdict, reported } = retried[index]!;
    verdicts.set(message.record.messageId, verdict);
    report.add(reported.outcome, message, reported.failureClass, reported.visibilitySeconds);
  });
  return verdicts;
}

/** What the adaptive limit hears of one task: a Limio call's latency and kind, or nothing when none was made. */
function reportOfCall(
  result: 'postpone' | 'claim-refused' | BreakerState | (SyncResult & { startedAt: number }),
): ReturnType<CallReportOf<unknown>> {
  if (typeof result === 'string' || !('outcome' in result)) return undefined;
  const { outcome, latencyMs } = result;
  return {
    latencyMs,
    kind: limioCallKindOf(outcome),
    ...(outcome.class === 'retryable' &&
      outcome.retryAfterSeconds !== undefined && { retryAfterSeconds: outcome.retryAfterSeconds }),
  };
}

/**
 * The longest a message waits for a Limio slot: SYNC_SLOT_WAIT_SECONDS, and never so long that the sync could not
 * finish within the invocation (then it is postponed once the slot comes, as before).
 */
function slotWaitMsFor(sync: SyncContext, context: Context | undefined): number {
  const boundMs = (sync.config.adaptive?.slotWaitSeconds ?? 0) * 1000;
  if (typeof context?.getRemainingTimeInMillis !== 'function') return boundMs;
  const leftMs =
    context.getRemainingTimeInMillis() -
    (sync.config.limioTimeoutMs + SQS_ACTIONS_RESERVE_MS + (sync.ledger?.reserveMs ?? 0));
  return Math.max(0, Math.min(boundMs, leftMs));
}

/** A claim lasts as long as this invocation could still record its outcome. */
function leaseMsFor(sync: SyncContext, context: Context | undefined): number {
  if (typeof context?.getRemainingTimeInMillis === 'function') return Math.max(1, context.getRemainingTimeInMillis());
  return sync.config.limioTimeoutMs + SQS_ACTIONS_RESERVE_MS;
}

/**
 * Whether a sync started now might outlive the invocation (timeout plus time for the SQS calls after it, and
 * for the ledger's claim and record when there is a ledger).
 */
function runningOutOfTime(sync: SyncContext, context: Context | undefined): boolean {
  if (typeof context?.getRemainingTimeInMillis !== 'function') return false;
  return (
    context.getRemainingTimeInMillis() <
    sync.config.limioTimeoutMs + SQS_ACTIONS_RESERVE_MS + (sync.ledger?.reserveMs ?? 0)
  );
}
