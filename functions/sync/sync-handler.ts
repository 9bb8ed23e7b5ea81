import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { BreakerState } from '../breaker/breaker-state';
import type { BreakerStore } from '../breaker/breaker-store';
import { createSyncBreaker } from '../breaker/sync-breaker';
import { batchOutcomesOf } from '../breaker/sync-outcome';
import type { SubscriptionPlan } from '../ledger/batch-plan';
import { DynamoDbLedgerStore, ledgerDynamoDbClient } from '../ledger/dynamodb-ledger-store';
import { claimRefusedHold, holdVisibilitySeconds as ledgerHoldSeconds, type LedgerFate } from '../ledger/ledger-fate';
import type { LedgerStore } from '../ledger/ledger-store';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import type { FailureClass } from '../shared/dead-letter';
import { parseSyncRequest, type SyncRequest } from '../shared/queue-message';
import { createLimiter } from './concurrency';
import type { SyncConfig } from './config';
import { credentialsSourceFor, LimioClient, LimioTokenCache, type SyncOutcome, type SyncResult } from '../limio';
import { LedgerStep, planWithoutLedger, type LedgerSubscriptionPlan } from './ledger-step';
import { budgetStart, deadLetterRetrySeconds, decideRetry, holdVisibilitySeconds, queueRetentionNear, syncFailureOf } from './retry-budget';
import { createVisibilityBatcher, delayRedeliveries, sendToDeadLetterQueue } from './sqs-actions';
import { createSyncLogger, createSyncMetrics, SYNC_METRICS } from './telemetry';
import { withinVisibilityCeiling } from './visibility-ceiling';

/** What became of the messages of one subscription in one batch (or of one poison message). */
export interface SyncOutcomeEvent {
  /** Absent only for a message so broken that it names no subscription. */
  readonly subscriptionId?: string;
  readonly messageIds: readonly string[];
  readonly outcome: 'synced' | 'retry' | 'dead-lettered';
  readonly failureClass?: FailureClass;
  readonly httpStatus?: number;
  readonly limioId?: string;
  readonly owner?: string;
  readonly error?: string;
  /**
   * For `synced` without a Limio call: when the recorded successful sync that covers these messages started
   * (ISO-8601); they arrived before it, so Limio already has their change.
   */
  readonly coveredBySyncStartedAt?: string;
  /** Duration of the Limio sync (0 for poison, and for messages the ledger covered or held, which never reach Limio). */
  readonly latencyMs: number;
  /** Highest ApproximateReceiveCount among these messages. */
  readonly attempt: number;
  /** For `retry`: seconds until the messages come back, when the backoff could be set. */
  readonly visibilitySeconds?: number;
}

/** Lets the local runtime print one line per sync; the deployed handler has none. */
export interface SyncObserver {
  onSyncOutcome(event: SyncOutcomeEvent): void;
}

export interface SyncHandlerDependencies {
  /** Default: a client from the standard AWS environment (AWS_REGION, AWS_ENDPOINT_URL_SQS), with request timeouts. */
  readonly sqs?: SQSClient;
  /** Used only with LIMIO_SECRET_ID. */
  readonly secretsManager?: SecretsManagerClient;
  readonly now?: () => number;
  /** Backoff jitter. */
  readonly random?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly observer?: SyncObserver;
  /**
   * Where the circuit breaker lives. The local runtime passes its in-memory store; in AWS, BREAKER_TABLE_NAME
   * names the DynamoDB table. With neither, the breaker is off and only the time budget applies.
   */
  readonly breakerStore?: BreakerStore;
  /** Used only with BREAKER_TABLE_NAME and LEDGER_TABLE_NAME. */
  readonly dynamo?: DynamoDBClient;
  /**
   * The sync ledger (issue #13). The local runtime may pass its own; in AWS, LEDGER_TABLE_NAME names the DynamoDB
   * table. With neither, there is no ledger: every batch syncs each of its subscriptions.
   */
  readonly ledger?: LedgerStore;
  /** This instance moved the breaker (the local runtime then runs its probe at once, to pause the poller). */
  readonly onBreakerTransition?: (before: BreakerState, after: BreakerState) => void;
}

export type SyncHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** A message's fate after this invocation: handled (deleted by Lambda) or reported as a batch item failure. */
type Verdict =
  | { readonly handled: true }
  /** `visibilitySeconds`: the backoff set before the message comes back, when one could be set. */
  | { readonly handled: false; readonly reason: string; readonly visibilitySeconds?: number };

/** A record of this batch, with when it was received at the latest (the invocation's start). */
interface ReceivedMessage {
  readonly record: SQSRecord;
  readonly receiveCount: number;
  /** SQS's 12-hour visibility limit counts from the receive, which happened no later than this (epoch ms). */
  readonly receivedAtMs: number;
}

interface QueuedMessage extends ReceivedMessage {
  readonly request: SyncRequest;
}

type LedgerHold = { readonly message: QueuedMessage; readonly fate: Extract<LedgerFate, { kind: 'hold' }> };

/** One invocation's Limio calls, reported to the breaker once the batch is done. */
type MadeSyncs = Array<{ readonly subscriptionId: string; readonly outcome: SyncOutcome }>;

/** Time kept back after a Limio call for its ChangeMessageVisibility / DLQ calls and the batch response. */
const SQS_ACTIONS_RESERVE_MS = 2_000;

/** Thrown inside the record handler so that Powertools reports the message in batchItemFailures. */
class MessageNotDone extends Error {
  override readonly name = 'MessageNotDone';
}

/**
 * Builds the sync Lambda's handler. Everything that must outlive one invocation (token cache, secret cache,
 * SQS client, keep-alive connections) lives here, once per container.
 */
export function createSyncHandler(config: SyncConfig, dependencies: SyncHandlerDependencies = {}): SyncHandler {
  const now = dependencies.now ?? Date.now;
  const random = dependencies.random ?? Math.random;
  const logger = dependencies.logger ?? createSyncLogger();
  const metrics = dependencies.metrics ?? createSyncMetrics();
  const sqs = dependencies.sqs ?? new SQSClient(BATCH_AWS_CLIENT_OPTIONS);
  const observer = dependencies.observer && guarded(dependencies.observer, logger);
  const tokens = new LimioTokenCache({
    baseUrl: config.limioBaseUrl,
    credentials: credentialsSourceFor(config.credentials, dependencies.secretsManager),
    timeoutMs: config.limioTimeoutMs,
    expiryMarginSeconds: config.tokenExpiryMarginSeconds,
    now,
    onTokenFetch: () => metrics.addMetric(SYNC_METRICS.tokenFetches, MetricUnit.Count, 1),
  });
  const limio = new LimioClient({ baseUrl: config.limioBaseUrl, tokens, timeoutMs: config.limioTimeoutMs, now });
  // Shared by concurrent invocations too (the local runtime may run several), so Limio sees at most this many.
  const limitLimioCalls = createLimiter(config.syncConcurrency);
  // Once per container, so the cached breaker state is shared by its invocations.
  const breaker = createSyncBreaker(config.breaker, {
    ...(dependencies.breakerStore && { store: dependencies.breakerStore }),
    ...(dependencies.dynamo && { dynamo: dependencies.dynamo }),
    now,
    // Fails open: without the shared state the instance syncs as if the breaker were closed.
    onError: (error, during) => logger.warn('breaker state unavailable; syncing as if closed', { during, error: (error as Error)?.message ?? String(error) }),
    onTransition: (before, after) => {
      const context = { from: before.state, to: after.state, reason: after.reason, since: new Date(after.since).toISOString() };
      if (after.state === 'open') logger.warn('breaker opened by this instance: Limio judged down, messages are held in the queue', context);
      else logger.info('breaker moved by this instance', context);
      dependencies.onBreakerTransition?.(before, after);
    },
  });

  const ledgerStore =
    dependencies.ledger ??
    (config.ledger.tableName !== undefined ? new DynamoDbLedgerStore(dependencies.dynamo ?? ledgerDynamoDbClient(), config.ledger.tableName) : undefined);
  const ledger =
    ledgerStore &&
    new LedgerStep({ store: ledgerStore, timing: config.ledger.timing, maxAttempts: config.breaker.retry.maxAttempts, now, logger, metrics });
  // The holds, postponements and backoffs asked for together go to SQS together, up to 10 per request.
  const changeVisibility = createVisibilityBatcher((changes) => delayRedeliveries(sqs, config.queueUrl, changes));

  /**
   * Sets how long a message stays invisible, within what SQS allows since its receive (withinVisibilityCeiling).
   * The seconds set, or undefined when SQS refused: then the message comes back after the queue's visibility
   * timeout, one more receive, so a refusal is logged as an error and counted (visibilityRefused), never dropped.
   */
  async function setVisibility(message: ReceivedMessage, requestedSeconds: number, purpose: string): Promise<number | undefined> {
    const visibilitySeconds = withinVisibilityCeiling(requestedSeconds, message.receivedAtMs, now());
    const answer = await changeVisibility({ receiptHandle: message.record.receiptHandle, visibilitySeconds });
    if (answer.ok) return visibilitySeconds;
    metrics.addMetric(SYNC_METRICS.visibilityRefused, MetricUnit.Count, 1);
    logger.error(`SQS refused the ${purpose} visibility: the message comes back after the queue's visibility timeout`, {
      messageId: message.record.messageId,
      attempt: message.receiveCount,
      visibilitySeconds,
      errorCode: answer.errorCode,
      error: answer.error,
    });
    return undefined;
  }

  async function deadLetter(
    message: ReceivedMessage,
    failureClass: FailureClass,
    error: string,
    httpStatus?: number,
  ): Promise<Verdict> {
    try {
      await sendToDeadLetterQueue(sqs, config.deadLetterQueueUrl, message.record.body, {
        failureClass,
        error,
        httpStatus,
        failedAt: new Date(now()).toISOString(),
        attempts: message.receiveCount,
      });
      metrics.addMetric(SYNC_METRICS.deadLettered, MetricUnit.Count, 1);
      return { handled: true };
    } catch (sendError) {
      // Not on the DLQ, so it must stay on the main queue: SQS redelivers it and its redrive is the backstop. A
      // long backoff keeps it from coming back after the queue's visibility timeout to call Limio again.
      const visibilitySeconds = await setVisibility(message, deadLetterRetrySeconds(breaker.retry, random), 'dead-letter retry');
      logger.error('could not send the message to the DLQ; leaving it on the queue', {
        messageId: message.record.messageId,
        failureClass,
        error: (sendError as Error).message,
        ...(visibilitySeconds !== undefined && { visibilitySeconds }),
      });
      return { handled: false, reason: `dead-lettering failed: ${(sendError as Error).message}`, ...(visibilitySeconds !== undefined && { visibilitySeconds }) };
    }
  }

  async function handlePoison(record: SQSRecord, reason: string, receivedAtMs: number): Promise<Verdict> {
    const receiveCount = receiveCountOf(record);
    const subscriptionId = looseSubscriptionId(record.body);
    logger.error('poison message: dead-lettering it without a sync', { messageId: record.messageId, subscriptionId, error: reason });
    const verdict = await deadLetter({ record, receiveCount, receivedAtMs }, 'poison', reason);
    reportDeadLetterAttempt(subscriptionId, record, receiveCount, verdict, 'poison', reason);
    return verdict;
  }

  /** One message sent to the DLQ without a Limio call: dead-lettered, or back on the queue if the DLQ refused it. */
  function reportDeadLetterAttempt(
    subscriptionId: string | undefined,
    record: SQSRecord,
    receiveCount: number,
    verdict: Verdict,
    failureClass: FailureClass,
    reason: string,
  ): void {
    const visibilitySeconds = visibilityOf(verdict);
    observer?.onSyncOutcome({
      ...(subscriptionId !== undefined && { subscriptionId }),
      messageIds: [record.messageId],
      ...(verdict.handled
        ? { outcome: 'dead-lettered', failureClass, error: reason }
        : { outcome: 'retry', error: verdict.reason, ...(visibilitySeconds !== undefined && { visibilitySeconds }) }),
      latencyMs: 0,
      attempt: receiveCount,
    });
  }

  /**
   * One subscription's messages of the batch, as the ledger planned them (without a ledger: all synced now).
   * Covered messages are done even while the breaker is open: they need no Limio call.
   */
  async function carryOutPlan(plan: LedgerSubscriptionPlan<QueuedMessage>, breakerAtStart: BreakerState, context: Context | undefined, made: MadeSyncs) {
    const { subscriptionId } = plan;
    const verdicts = plan.covered.length > 0 ? doneAsCovered(subscriptionId, plan.covered, plan.coveredBySyncStartedAt) : new Map<string, Verdict>();
    const waiting = [...plan.held.map((held) => held.message), ...plan.syncNow];
    if (waiting.length === 0) return verdicts;
    const rest =
      breakerAtStart.state === 'open'
        ? await hold(subscriptionId, waiting, breakerAtStart)
        : plan.syncNow.length > 0
          ? // Any held beside them share the call: syncing is never wrong, only sometimes one call too many.
            await syncSubscription(subscriptionId, waiting, context, made, plan.claim)
          : await holdForLedger(subscriptionId, plan.held);
    rest.forEach((verdict, messageId) => verdicts.set(messageId, verdict));
    return verdicts;
  }

  /** Messages a recorded successful sync covers: Limio already has their change. */
  function doneAsCovered(subscriptionId: string, messages: readonly QueuedMessage[], syncStartedAt: number | undefined): Map<string, Verdict> {
    const covering = syncStartedAt === undefined ? {} : { coveredBySyncStartedAt: new Date(syncStartedAt).toISOString() };
    for (const message of messages) {
      logger.info('covered by a sync that started after it arrived: done without a Limio call', { ...logKeys(message), ...covering });
      metrics.addMetric(SYNC_METRICS.coveredByLedger, MetricUnit.Count, 1);
    }
    observer?.onSyncOutcome({
      subscriptionId,
      messageIds: messages.map((message) => message.record.messageId),
      outcome: 'synced',
      ...covering,
      latencyMs: 0,
      attempt: Math.max(...messages.map((message) => message.receiveCount)),
    });
    return new Map(messages.map((message) => [message.record.messageId, { handled: true }]));
  }

  /**
   * Put back by the ledger, each until its own time, to share the call after a cooldown or to be covered by a
   * sync in flight. Not a failure: the breaker never hears of it and the retry budget is not touched (receives
   * spent on holds are bounded by ledgerHoldReceiveLimit).
   */
  async function holdForLedger(subscriptionId: string, held: readonly LedgerHold[]): Promise<Map<string, Verdict>> {
    const verdicts = new Map<string, Verdict>();
    let longest: number | undefined;
    const error = held.some(({ fate }) => fate.reason === 'cooldown')
      ? 'held: a sync of this subscription started less than SYNC_COOLDOWN_SECONDS ago'
      : 'held: a sync of this subscription is in flight';
    // Asked for all at once, so they share one ChangeMessageVisibilityBatch.
    const set = await Promise.all(held.map(({ message, fate }) => setVisibility(message, ledgerHoldSeconds(fate.untilMs, now()), 'ledger hold')));
    held.forEach(({ message, fate }, index) => {
      const visibilitySeconds = set[index];
      if (visibilitySeconds !== undefined) longest = Math.max(longest ?? 0, visibilitySeconds);
      logger.info('sync held by the ledger', { ...logKeys(message), reason: fate.reason, visibilitySeconds });
      metrics.addMetric(SYNC_METRICS.heldForCooldown, MetricUnit.Count, 1);
      verdicts.set(message.record.messageId, { handled: false, reason: error });
    });
    reportUntried(subscriptionId, held.map((entry) => entry.message), error, longest);
    return verdicts;
  }

  /** One Limio call for every message of one subscription in the batch; each message then meets its fate. */
  async function syncSubscription(
    subscriptionId: string,
    messages: readonly QueuedMessage[],
    context: Context | undefined,
    made: MadeSyncs,
    claim?: SubscriptionPlan<QueuedMessage>['claim'],
  ): Promise<Map<string, Verdict>> {
    // Both checked once a slot is free: waiting for it is what can use up the invocation, and a batch under way
    // must stop calling Limio once the breaker opens (the state is cached for BREAKER_STATE_CACHE_SECONDS).
    const result = await limitLimioCalls(async () => {
      if (runningOutOfTime(context)) return 'postpone' as const;
      // Taken before the claim, so the start the ledger records is never later than Limio's real start.
      const startedAt = now();
      // Side by side: one round trip before the call, not two. A claim made while the breaker turned open is left
      // to its lease (the rest of this invocation): it only holds this subscription's messages meanwhile, as
      // every message is held while the breaker is open, and the ledger's rules already allow for a claim that
      // no answer follows (an invocation that dies after claiming).
      const [breakerState, claimed] = await Promise.all([
        breaker.gate.current(),
        ledger && claim ? ledger.claim(subscriptionId, startedAt, leaseMsFor(context), claim) : true,
      ]);
      if (breakerState.state === 'open') return breakerState;
      if (!claimed) return 'claim-refused' as const;
      return { ...(await limio.sync(subscriptionId)), startedAt };
    });
    if (result === 'postpone') return postpone(subscriptionId, messages);
    if (result === 'claim-refused') return holdForLedger(subscriptionId, messages.map((message) => ({ message, fate: claimRefusedHold(now()) })));
    if (!('outcome' in result)) return hold(subscriptionId, messages, result);
    const { outcome, latencyMs } = result;
    made.push({ subscriptionId, outcome });
    if (ledger) await ledger.record(subscriptionId, result.startedAt, outcome);
    metrics.addMetric(SYNC_METRICS.syncLatency, MetricUnit.Milliseconds, latencyMs);
    const verdicts = new Map<string, Verdict>();
    const report = new OutcomeReport(subscriptionId, result);

    switch (outcome.class) {
      case 'synced':
        metrics.addMetric(SYNC_METRICS.synced, MetricUnit.Count, 1);
        for (const message of messages) {
          logger.info('subscription synced', { ...logKeys(message), limioId: outcome.limioId, owner: outcome.owner, latencyMs });
          verdicts.set(message.record.messageId, { handled: true });
          report.add('synced', message);
        }
        break;
      case 'terminal':
        metrics.addMetric(SYNC_METRICS.terminal, MetricUnit.Count, 1);
        for (const message of messages) {
          logger.error('Limio refused the subscription: dead-lettering it', { ...logKeys(message), httpStatus: outcome.httpStatus, error: outcome.error });
          const verdict = await deadLetter(message, 'terminal', outcome.error, outcome.httpStatus);
          verdicts.set(message.record.messageId, verdict);
          report.add(verdict.handled ? 'dead-lettered' : 'retry', message, verdict.handled ? 'terminal' : undefined, visibilityOf(verdict));
        }
        break;
      case 'retryable':
      case 'refresh':
        metrics.addMetric(SYNC_METRICS.retryable, MetricUnit.Count, 1);
        {
          // Decided all at once, so their backoffs share one ChangeMessageVisibilityBatch; reported in order.
          const retried = await Promise.all(messages.map((message) => handleRetryable(message, outcome)));
          messages.forEach((message, index) => {
            const { verdict, reported } = retried[index]!;
            verdicts.set(message.record.messageId, verdict);
            report.add(reported.outcome, message, reported.failureClass, reported.visibilitySeconds);
          });
        }
        break;
    }
    report.emit(observer);
    return verdicts;
  }

  /** A claim lasts as long as this invocation could still record its outcome. */
  function leaseMsFor(context: Context | undefined): number {
    if (typeof context?.getRemainingTimeInMillis === 'function') return Math.max(1, context.getRemainingTimeInMillis());
    return config.limioTimeoutMs + SQS_ACTIONS_RESERVE_MS;
  }

  /**
   * Whether a sync started now might outlive the invocation (timeout plus time for the SQS calls after it, and
   * for the ledger's claim and record when there is a ledger).
   */
  function runningOutOfTime(context: Context | undefined): boolean {
    if (typeof context?.getRemainingTimeInMillis !== 'function') return false;
    return context.getRemainingTimeInMillis() < config.limioTimeoutMs + SQS_ACTIONS_RESERVE_MS + (ledger?.reserveMs ?? 0);
  }

  /**
   * Not attempted: a Lambda timeout would put back the whole batch, synced messages included, after the full
   * visibility timeout. These come back in a second instead, in another invocation.
   */
  async function postpone(subscriptionId: string, messages: readonly QueuedMessage[]): Promise<Map<string, Verdict>> {
    const error = 'not attempted: the invocation was running out of time';
    const verdicts = new Map<string, Verdict>();
    await Promise.all(
      messages.map(async (message) => {
        logger.warn('sync postponed', { ...logKeys(message), error });
        await setVisibility(message, 1, 'postponed');
        verdicts.set(message.record.messageId, { handled: false, reason: error });
      }),
    );
    reportUntried(subscriptionId, messages, error, 1);
    return verdicts;
  }

  /**
   * The breaker is open: the messages go back untried, without a Limio call, for a hold that starts at
   * BREAKER_HOLD_SECONDS and doubles with each receive (see holdVisibilitySeconds). Nothing is dead-lettered here,
   * whatever the budget: the open time does not count against it. In AWS this happens only in the minute before
   * the probe disables the event source mapping (or for as long as it fails to); locally the poller pauses.
   */
  async function hold(subscriptionId: string, messages: readonly QueuedMessage[], breakerState: BreakerState): Promise<Map<string, Verdict>> {
    const error = `held: the circuit breaker is open (${breakerState.reason})`;
    const openForSeconds = Math.max(0, (now() - breakerState.since) / 1000);
    const verdicts = new Map<string, Verdict>();
    // Each message at once, so the holds share one ChangeMessageVisibilityBatch.
    const fates = await Promise.all(
      messages.map(async (message): Promise<{ verdict: Verdict; heldFor?: number | undefined }> => {
        // Open time does not spend the budget but does not stop SQS's retention either: dead-letter it in time.
        const retentionNear = queueRetentionNear(sentTimestampOf(message.record), now());
        if (retentionNear !== undefined) {
          const reason = `${retentionNear}; ${error}`;
          logger.error('queue retention near: dead-lettering a held message', { ...logKeys(message), error: reason });
          const verdict = await deadLetter(message, 'exhausted', reason);
          reportDeadLetterAttempt(subscriptionId, message.record, message.receiveCount, verdict, 'exhausted', reason);
          return { verdict };
        }
        // Holds that SQS keeps refusing bring the message back every visibility timeout; before SQS's redrive moves
        // it to the DLQ with no reason (one receive after MAX_ATTEMPTS), it goes there with one.
        if (message.receiveCount >= breaker.retry.maxAttempts) {
          const reason = `received ${message.receiveCount} times (MAX_ATTEMPTS ${breaker.retry.maxAttempts}) while the breaker was open, dead-lettered before SQS's redrive moves it without a reason; ${error}`;
          logger.error('held message received MAX_ATTEMPTS times: dead-lettering it', { ...logKeys(message), error: reason });
          const verdict = await deadLetter(message, 'exhausted', reason);
          reportDeadLetterAttempt(subscriptionId, message.record, message.receiveCount, verdict, 'exhausted', reason);
          return { verdict };
        }
        const wanted = holdVisibilitySeconds({ settings: breaker.retry, receiveCount: message.receiveCount, openForSeconds, random });
        const visibilitySeconds = await setVisibility(message, wanted, 'hold');
        logger.info('sync held: breaker open', { ...logKeys(message), visibilitySeconds });
        metrics.addMetric(SYNC_METRICS.held, MetricUnit.Count, 1);
        return { verdict: { handled: false, reason: error }, heldFor: visibilitySeconds };
      }),
    );
    let longest: number | undefined;
    const held: QueuedMessage[] = [];
    messages.forEach((message, index) => {
      const fate = fates[index]!;
      verdicts.set(message.record.messageId, fate.verdict);
      if (!('heldFor' in fate)) return;
      held.push(message);
      if (fate.heldFor !== undefined) longest = Math.max(longest ?? 0, fate.heldFor);
    });
    if (held.length > 0) reportUntried(subscriptionId, held, error, longest);
    return verdicts;
  }

  /** Postponed or held: one retry event for the subscription's messages, none of which reached Limio. */
  function reportUntried(subscriptionId: string, messages: readonly QueuedMessage[], error: string, visibilitySeconds: number | undefined): void {
    observer?.onSyncOutcome({
      subscriptionId,
      messageIds: messages.map((message) => message.record.messageId),
      outcome: 'retry',
      error,
      latencyMs: 0,
      attempt: Math.max(...messages.map((message) => message.receiveCount)),
      ...(visibilitySeconds !== undefined && { visibilitySeconds }),
    });
  }

  async function handleRetryable(
    message: QueuedMessage,
    outcome: Extract<SyncOutcome, { class: 'retryable' | 'refresh' }>,
  ): Promise<{ verdict: Verdict; reported: { outcome: SyncOutcomeEvent['outcome']; failureClass?: FailureClass; visibilitySeconds?: number } }> {
    // The breaker's open intervals (cached) are what the budget does not count.
    const breakerState = await breaker.gate.current();
    const decision = decideRetry({
      failure: syncFailureOf(outcome),
      receiveCount: message.receiveCount,
      receivedAt: budgetStart(message.request, sentTimestampOf(message.record)),
      sentAt: sentTimestampOf(message.record),
      now: now(),
      openIntervals: breakerState.openIntervals,
      settings: breaker.retry,
      random,
    });
    if (decision.action === 'dead-letter') {
      logger.error('retry budget spent: dead-lettering it', { ...logKeys(message), httpStatus: outcome.httpStatus, error: decision.reason });
      const verdict = await deadLetter(message, decision.failureClass, decision.reason, outcome.httpStatus);
      return {
        verdict,
        reported: verdict.handled ? { outcome: 'dead-lettered', failureClass: decision.failureClass } : { outcome: 'retry', visibilitySeconds: visibilityOf(verdict) },
      };
    }
    const visibilitySeconds = await setVisibility(message, decision.visibilitySeconds, 'backoff');
    logger.warn('sync failed, will retry', {
      ...logKeys(message),
      httpStatus: outcome.httpStatus,
      error: outcome.error,
      visibilitySeconds,
      remainingBudgetSeconds: Math.round(decision.remainingBudgetSeconds),
    });
    return { verdict: { handled: false, reason: outcome.error }, reported: { outcome: 'retry', visibilitySeconds } };
  }

  return async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    if (context) logger.addContext(context);
    // The event source received every record before this invocation began: the 12-hour limit counts from then.
    const receivedAtMs = now();
    const { poison, bySubscription, subscriptionByMessage } = planBatch(event.Records, config, receivedAtMs);
    // The batch's one ledger read (which messages are covered, held, or share one call now) and the breaker's
    // state (open: no Limio call at all in this batch, the messages are held; poison still goes to the DLQ).
    // Neither depends on the other, so they are read side by side: one round trip before the first sync, not two.
    const [plans, breakerAtStart] = await Promise.all([ledger ? ledger.plan(bySubscription) : planWithoutLedger(bySubscription), breaker.gate.current()]);
    const made: MadeSyncs = [];
    const pendingSyncs = new Map<string, Promise<Map<string, Verdict>>>();
    const verdictFor = (subscriptionId: string, messageId: string): Promise<Verdict> => {
      let pending = pendingSyncs.get(subscriptionId);
      if (!pending) {
        pending = carryOutPlan(plans.get(subscriptionId)!, breakerAtStart, context, made);
        pendingSyncs.set(subscriptionId, pending);
      }
      return pending.then((verdicts) => verdicts.get(messageId)!);
    };

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const poisonReason = poison.get(record.messageId);
      const verdict =
        poisonReason !== undefined
          ? await handlePoison(record, poisonReason, receivedAtMs)
          : await verdictFor(subscriptionByMessage.get(record.messageId)!, record.messageId);
      if (!verdict.handled) throw new MessageNotDone(verdict.reason);
    };

    try {
      const response = await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
        context,
        // A batch that failed as a whole is still answered message by message: each already has its backoff set.
        throwOnFullBatchFailure: false,
      });
      // One write per batch, with one entry per Limio call made; never throws (the breaker fails open).
      await breaker.gate.record(batchOutcomesOf(made));
      return response;
    } finally {
      // Overlapping invocations of one container (the local runtime runs several) share the metrics, and the
      // first to finish publishes them all: the other would only warn that it had nothing left.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** Splits a batch into poison messages and, per subscription, the messages that ask for it. */
function planBatch(records: readonly SQSRecord[], config: SyncConfig, receivedAtMs: number) {
  const poison = new Map<string, string>();
  const bySubscription = new Map<string, QueuedMessage[]>();
  const subscriptionByMessage = new Map<string, string>();
  for (const record of records) {
    const parsed = parseSyncRequest(record.body, config.subscriptionIdRule);
    if (!parsed.ok) {
      poison.set(record.messageId, parsed.reason);
      continue;
    }
    const message: QueuedMessage = { record, receiveCount: receiveCountOf(record), receivedAtMs, request: parsed.request };
    subscriptionByMessage.set(record.messageId, parsed.request.subscriptionId);
    const group = bySubscription.get(parsed.request.subscriptionId);
    if (group) group.push(message);
    else bySubscription.set(parsed.request.subscriptionId, [message]);
  }
  return { poison, bySubscription, subscriptionByMessage };
}

/** The observer is a convenience for the local runtime: its failure must not change any message's fate. */
function guarded(observer: SyncObserver, logger: Logger): SyncObserver {
  return {
    onSyncOutcome(event) {
      try {
        observer.onSyncOutcome(event);
      } catch (error) {
        logger.warn('sync observer failed', { error: (error as Error).message });
      }
    },
  };
}

/** SQS SentTimestamp (epoch ms), when the record carries a readable one. */
function sentTimestampOf(record: SQSRecord): number | undefined {
  const sentAt = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sentAt) && sentAt > 0 ? sentAt : undefined;
}

function visibilityOf(verdict: Verdict): number | undefined {
  return verdict.handled ? undefined : verdict.visibilitySeconds;
}

function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

function logKeys(message: QueuedMessage) {
  return {
    subscriptionId: message.request.subscriptionId,
    messageId: message.record.messageId,
    attempt: message.receiveCount,
    ...(message.request.zuoraRequestId !== undefined && { zuoraRequestId: message.request.zuoraRequestId }),
    ...(message.request.zuoraNotificationId !== undefined && { zuoraNotificationId: message.request.zuoraNotificationId }),
  };
}

/** For the log and the observer only: whatever subscriptionId a poison message claims, if it is a string. */
function looseSubscriptionId(body: string): string | undefined {
  try {
    const value = (JSON.parse(body) as { subscriptionId?: unknown }).subscriptionId;
    return typeof value === 'string' ? value.slice(0, 80) : undefined;
  } catch {
    return undefined;
  }
}

/** Gathers the messages of one sync by what became of them, for one observer event per fate. */
class OutcomeReport {
  private readonly groups = new Map<
    string,
    { outcome: SyncOutcomeEvent['outcome']; failureClass?: FailureClass; messageIds: string[]; attempt: number; visibilitySeconds?: number }
  >();

  constructor(
    private readonly subscriptionId: string,
    private readonly result: SyncResult,
  ) {}

  add(outcome: SyncOutcomeEvent['outcome'], message: QueuedMessage, failureClass?: FailureClass, visibilitySeconds?: number): void {
    const key = `${outcome}/${failureClass ?? ''}`;
    const group = this.groups.get(key) ?? { outcome, failureClass, messageIds: [], attempt: 0 };
    group.messageIds.push(message.record.messageId);
    group.attempt = Math.max(group.attempt, message.receiveCount);
    if (visibilitySeconds !== undefined) group.visibilitySeconds = Math.max(group.visibilitySeconds ?? 0, visibilitySeconds);
    this.groups.set(key, group);
  }

  emit(observer: SyncObserver | undefined): void {
    if (!observer) return;
    const { outcome, latencyMs } = this.result;
    for (const group of this.groups.values()) {
      observer.onSyncOutcome({
        subscriptionId: this.subscriptionId,
        messageIds: group.messageIds,
        outcome: group.outcome,
        ...(group.failureClass !== undefined && { failureClass: group.failureClass }),
        ...(outcome.httpStatus !== undefined && { httpStatus: outcome.httpStatus }),
        ...(outcome.class === 'synced' && outcome.limioId !== undefined && { limioId: outcome.limioId }),
        ...(outcome.class === 'synced' && outcome.owner !== undefined && { owner: outcome.owner }),
        ...(outcome.class !== 'synced' && { error: outcome.error }),
        latencyMs,
        attempt: group.attempt,
        ...(group.visibilitySeconds !== undefined && { visibilitySeconds: group.visibilitySeconds }),
      });
    }
  }
}
