import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BreakerState } from '../breaker/breaker-state';
import { batchOutcomesOf } from '../breaker/sync-outcome';
import { splitBatch, type MadeSyncs, type QueuedMessage, type Verdict, type Verdicts } from './batch-messages';
import type { SyncConfig } from './config';
import { doneAsCovered } from './fates/covered';
import { deadLetterPoison } from './fates/dead-lettered';
import { holdForBreaker } from './fates/held-by-breaker';
import { holdForLedger } from './fates/held-by-ledger';
import { lookAgainThenHold, waitsOnlyForSyncInFlight } from './fates/looked-again';
import { syncSubscription } from './fates/synced';
import { planWithoutLedger, type LedgerBatchPlan, type LedgerSubscriptionPlan } from './ledger-step';
import { createSyncContext, type SyncContext, type SyncHandlerDependencies } from './sync-context';
import { SYNC_METRICS } from './telemetry';

export type { SyncObserver, SyncOutcomeEvent } from './outcome-event';
export type { SyncHandlerDependencies } from './sync-context';

export type SyncHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** Thrown inside the record handler so that Powertools reports the message in batchItemFailures. */
class MessageNotDone extends Error {
  override readonly name = 'MessageNotDone';
}

/**
 * Builds the sync Lambda's handler. Everything that must outlive one invocation (token cache, secret cache,
 * SQS client, keep-alive connections) is built here, once per container (createSyncContext). Each message's
 * fate (covered, synced, held, postponed, backed off, dead-lettered) is carried out in fates/.
 */
export function createSyncHandler(config: SyncConfig, dependencies: SyncHandlerDependencies = {}): SyncHandler {
  const sync = createSyncContext(config, dependencies);
  const { ledger, breaker, logger, metrics } = sync;

  return async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    if (context) logger.addContext(context);
    // The event source received every record before this invocation began: the 12-hour limit counts from then.
    const receivedAtMs = sync.now();
    const { poison, bySubscription, subscriptionByMessage } = splitBatch(event.Records, config, receivedAtMs);
    // The batch's one ledger read (which messages are covered, held, or share one call now) and the breaker's
    // state (open: no Limio call at all in this batch, the messages are held; poison still goes to the DLQ).
    // Neither depends on the other, so they are read side by side: one round trip before the first sync, not two.
    const [plans, breakerAtStart] = await Promise.all([
      ledger ? ledger.plan(bySubscription) : planWithoutLedger(bySubscription),
      breaker.gate.current(),
    ]);
    const made: MadeSyncs = [];
    const shares = carryOutPlans(sync, plans, breakerAtStart, context, made);
    const verdictFor = (subscriptionId: string, messageId: string): Promise<Verdict> =>
      shares.get(subscriptionId)!.then((verdicts) => verdicts.get(messageId)!);

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const poisonReason = poison.get(record.messageId);
      const verdict =
        poisonReason !== undefined
          ? await deadLetterPoison(sync, record, poisonReason, receivedAtMs)
          : await verdictFor(subscriptionByMessage.get(record.messageId)!, record.messageId);
      if (!verdict.handled) throw new MessageNotDone(verdict.reason);
    };

    try {
      const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
        context,
        // A batch that failed as a whole is still answered message by message: each already has its backoff set.
        throwOnFullBatchFailure: false,
      });
      // One write per batch, with one entry per Limio call made, beside the ledger's records of those calls; none
      // throws (the breaker and the ledger fail open).
      await Promise.all([breaker.gate.record(batchOutcomesOf(made)), ...made.map(({ recorded }) => recorded)]);
      return response;
    } finally {
      // Before the metrics go out: a record that failed counts one.
      await Promise.all(made.map(({ recorded }) => recorded));
      addLimitMetrics(sync);
      // Overlapping invocations of one container (the local runtime runs several) share the metrics, and the
      // first to finish publishes them all: the other would only warn that it had nothing left.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** The adaptive limit as this batch leaves it, beside the batch's own counts. */
function addLimitMetrics(sync: SyncContext): void {
  if (!sync.adaptiveLimit) return;
  const { limit, maxInFlight, unloadedLatencyMs, latencyRatio } = sync.adaptiveLimit.snapshot();
  sync.metrics.addMetric(SYNC_METRICS.limioConcurrencyLimit, MetricUnit.Count, limit);
  sync.metrics.addMetric(SYNC_METRICS.limioCallsInFlight, MetricUnit.Count, maxInFlight);
  if (unloadedLatencyMs !== undefined)
    sync.metrics.addMetric(SYNC_METRICS.limioUnloadedLatency, MetricUnit.Milliseconds, unloadedLatencyMs);
  if (latencyRatio !== undefined)
    sync.metrics.addMetric(SYNC_METRICS.limioLatencyRatio, MetricUnit.NoUnit, latencyRatio);
}

/**
 * Every subscription's share of the batch, all under way at once. When the batch calls Limio, the subscriptions
 * that only wait for another invocation's sync in flight are read again once those calls are done (the batch
 * lasts that long anyway), and what that sync covered by then is done instead of coming back for nothing.
 */
function carryOutPlans(
  sync: SyncContext,
  plans: LedgerBatchPlan<QueuedMessage>,
  breakerAtStart: BreakerState,
  context: Context | undefined,
  made: MadeSyncs,
): Map<string, Promise<Verdicts>> {
  const callsLimio = breakerAtStart.state !== 'open' && [...plans.values()].some((plan) => plan.syncNow.length > 0);
  const lookAgain = callsLimio && sync.ledger ? [...plans.values()].filter(waitsOnlyForSyncInFlight) : [];
  const shares = new Map<string, Promise<Verdicts>>();
  for (const plan of plans.values()) {
    if (!lookAgain.includes(plan))
      shares.set(plan.subscriptionId, carryOutPlan(sync, plan, breakerAtStart, context, made));
  }
  if (lookAgain.length > 0) {
    lookAgainThenHold(sync, lookAgain, Promise.allSettled(shares.values()), context).forEach((share, subscriptionId) =>
      shares.set(subscriptionId, share),
    );
  }
  // Started before the record handler awaits them: one that fails (a bug) fails its messages there, as before,
  // instead of first surfacing as an unhandled rejection.
  for (const share of shares.values()) share.catch(() => undefined);
  return shares;
}

/**
 * One subscription's messages of the batch, as the ledger planned them (without a ledger: all synced now).
 * Covered messages are done even while the breaker is open: they need no Limio call.
 */
async function carryOutPlan(
  sync: SyncContext,
  plan: LedgerSubscriptionPlan<QueuedMessage>,
  breakerAtStart: BreakerState,
  context: Context | undefined,
  made: MadeSyncs,
): Promise<Verdicts> {
  const { subscriptionId } = plan;
  const verdicts: Verdicts =
    plan.covered.length > 0
      ? doneAsCovered(sync, subscriptionId, plan.covered, plan.coveredBySyncStartedAt)
      : new Map();
  const waiting = [...plan.held.map((held) => held.message), ...plan.syncNow];
  if (waiting.length === 0) return verdicts;
  const rest =
    breakerAtStart.state === 'open'
      ? await holdForBreaker(sync, subscriptionId, waiting, breakerAtStart)
      : plan.syncNow.length > 0
        ? // Any held beside them share the call: syncing is never wrong, only sometimes one call too many.
          await syncSubscription(sync, subscriptionId, waiting, context, made, plan.claim)
        : await holdForLedger(sync, subscriptionId, plan.held);
  rest.forEach((verdict, messageId) => verdicts.set(messageId, verdict));
  return verdicts;
}
