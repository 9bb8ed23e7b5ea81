import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ledgerDynamoDbClient } from '../ledger/dynamodb-ledger-store';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import type { FailureClass } from '../shared/dead-letter';
import { enqueueMessages } from '../shared/enqueue';
import {
  isAccountRequest,
  parseQueueMessage,
  unreadableBodyReason,
  type AccountRequest,
  type QueueMessage,
} from '../shared/queue-message';
import { createZuoraClient, type ZuoraClient, type ZuoraRequestEvent } from '../sweep/zuora-client';
import { receiveCountOf, sentTimestampOf } from '../sync/batch-messages';
import { budgetStart, deadLetterRetrySeconds } from '../sync/retry-budget';
import { delayRedeliveries, sendToDeadLetterQueue } from '../sync/sqs-actions';
import { withinVisibilityCeiling } from '../sync/visibility-ceiling';
import { FANOUT_DEFAULTS, type FanOutConfig } from './config';
import { classifyFanOutError, decideFanOutRetry, FanOutQueueError, UNKNOWN_ACCOUNT_CLASS } from './failure';
import { fanOutAccount, type FanOutResult } from './fan-out';
import { DynamoDbQueuedMarks, NO_LEDGER_QUEUED_MARKS, type QueuedMarks } from './queued-marks';
import { createFanOutLogger, createFanOutMetrics, FANOUT_METRICS } from './telemetry';

export type FanOutHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

export interface FanOutHandlerDependencies {
  /** Default: a client from the standard AWS environment, with the batch clients' timeouts. */
  readonly sqs?: SQSClient;
  /** Default: the sweep's client for config.zuora. */
  readonly zuora?: Pick<ZuoraClient, 'queryPage'>;
  readonly secretsManager?: SecretsManagerClient;
  readonly dynamo?: DynamoDBClient;
  /** Default: lastQueuedAt in LEDGER_TABLE_NAME, or nothing without one. */
  readonly queuedMarks?: QueuedMarks;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Told of each account message's end: for the local runtime's output and the tests. */
  readonly observer?: (event: FanOutEvent) => void;
}

export type FanOutEvent =
  | {
      readonly accountKey: string;
      readonly messageId: string;
      readonly outcome: 'done' | 'continued';
      readonly queued: number;
      readonly pages: number;
      readonly restarted: boolean;
    }
  | {
      readonly accountKey?: string;
      readonly messageId: string;
      readonly outcome: 'dead-lettered';
      readonly failureClass: FailureClass;
      readonly error: string;
    }
  | {
      readonly accountKey: string;
      readonly messageId: string;
      readonly outcome: 'retry';
      readonly error: string;
      readonly visibilitySeconds?: number;
    };

/**
 * Inside Lambda the Zuora client tries a request twice (a blip costs a second, not a redelivery); what is still
 * failing after that backs the message off by its visibility, within the retry budget, so that a throttled or
 * down Zuora does not hold the invocation for minutes.
 */
const ZUORA_ATTEMPTS_IN_INVOCATION = 2;
const ZUORA_LONGEST_RETRY_AFTER_IN_INVOCATION_MS = 10_000;

/** Thrown inside the record handler so that Powertools reports the message in batchItemFailures. */
class MessageNotDone extends Error {
  override readonly name = 'MessageNotDone';
}

/**
 * The fan-out Lambda: each account message of the batch, one after the other (Zuora is asked one request at a
 * time), resolved to its subscriptions and queued as subscription messages. Built once per container: the token,
 * the secret and the connections outlive an invocation.
 */
export function createFanOutHandler(config: FanOutConfig, dependencies: FanOutHandlerDependencies = {}): FanOutHandler {
  const now = dependencies.now ?? Date.now;
  const random = dependencies.random ?? Math.random;
  const logger = dependencies.logger ?? createFanOutLogger();
  const metrics = dependencies.metrics ?? createFanOutMetrics();
  const sqs = dependencies.sqs ?? new SQSClient(BATCH_AWS_CLIENT_OPTIONS);
  const zuora =
    dependencies.zuora ??
    createZuoraClient(config.zuora, {
      maxAttempts: ZUORA_ATTEMPTS_IN_INVOCATION,
      maxRetryAfterMs: ZUORA_LONGEST_RETRY_AFTER_IN_INVOCATION_MS,
      onRequest: (event) => noteZuoraRequest(logger, metrics, event),
      ...(dependencies.secretsManager !== undefined && { secretsManager: dependencies.secretsManager }),
    });
  const queuedMarks =
    dependencies.queuedMarks ??
    (config.ledgerTableName !== undefined
      ? new DynamoDbQueuedMarks(
          dependencies.dynamo ?? ledgerDynamoDbClient(),
          config.ledgerTableName,
          (failed, error) =>
            logger.warn('lastQueuedAt not marked in the ledger (fail open: at most a redundant sync)', {
              failed,
              error,
            }),
        )
      : NO_LEDGER_QUEUED_MARKS);
  const rules = { subscriptionIdRule: config.subscriptionIdRule, accountKeyRule: config.accountKeyRule };

  const queueOn = async (queueUrl: string, messages: readonly QueueMessage[], deadlineMs: number, what: string) => {
    const result = await enqueueMessages(sqs, messages, { queueUrl, delaySeconds: 0, deadline: deadlineMs });
    if (!result.ok) throw new FanOutQueueError(`${what}: ${result.notQueued.length} not queued (${result.error})`);
  };

  const deadLetter = async (
    record: SQSRecord,
    failureClass: FailureClass,
    error: string,
    httpStatus?: number,
  ): Promise<boolean> => {
    try {
      await sendToDeadLetterQueue(sqs, config.deadLetterQueueUrl, record.body, {
        failureClass,
        error,
        ...(httpStatus !== undefined && { httpStatus }),
        failedAt: new Date(now()).toISOString(),
        attempts: receiveCountOf(record),
      });
      return true;
    } catch (sendError) {
      // Not on the DLQ: it stays on the fan-out queue, back after a long backoff; its redrive is the backstop.
      await setVisibility(record, deadLetterRetrySeconds(config.retry, random), invocationStart);
      logger.error('could not send the account message to the DLQ; leaving it on the queue', {
        messageId: record.messageId,
        error: (sendError as Error).message,
      });
      return false;
    }
  };

  const setVisibility = async (
    record: SQSRecord,
    seconds: number,
    receivedAtMs: number,
  ): Promise<number | undefined> => {
    const visibilitySeconds = withinVisibilityCeiling(seconds, receivedAtMs, now());
    const [answer] = await delayRedeliveries(sqs, config.accountQueueUrl, [
      { receiptHandle: record.receiptHandle, visibilitySeconds },
    ]);
    if (answer?.ok) return visibilitySeconds;
    logger.error(
      "SQS refused the backoff visibility: the account message comes back after the queue's visibility timeout",
      { messageId: record.messageId, error: answer?.ok === false ? answer.error : 'no answer' },
    );
    return undefined;
  };

  let invocationStart = now();

  const handleAccount = async (
    record: SQSRecord,
    account: AccountRequest,
    invocationDeadlineMs: number,
  ): Promise<void> => {
    const keys = {
      accountKey: account.accountKey,
      messageId: record.messageId,
      attempt: receiveCountOf(record),
      ...(account.fanOut && { continuation: true }),
    };
    // Each continuation is a new message, whose receive count starts again: only the budget, counted from the
    // account callout, ends a chain that a Zuora handing out page after page would otherwise keep going for ever.
    const budgetMs = config.retry.retryBudgetSeconds * 1000;
    if (account.fanOut && now() - budgetStart(account, sentTimestampOf(record)) > budgetMs) {
      const reason = `the account's pages outlasted the retry budget of ${config.retry.retryBudgetSeconds} s (Zuora kept answering more): its subscriptions queued so far stay queued`;
      logger.error('fan-out continued past its retry budget: dead-lettering the continuation', {
        ...keys,
        error: reason,
      });
      if (await deadLetter(record, 'exhausted', reason)) {
        dependencies.observer?.({
          accountKey: account.accountKey,
          messageId: record.messageId,
          outcome: 'dead-lettered',
          failureClass: 'exhausted',
          error: reason,
        });
        return;
      }
      throw new MessageNotDone(reason);
    }
    let result: FanOutResult;
    try {
      result = await fanOutAccount(
        account,
        {
          zuora,
          queueSubscriptions: (messages) =>
            queueOn(config.queueUrl, messages, invocationDeadlineMs, 'subscription messages'),
          markQueued: (ids, at) =>
            queuedMarks
              .markQueued(ids, at)
              .catch((error: unknown) => logger.warn('lastQueuedAt not marked', { error: String(error) })),
          queueContinuation: (message) =>
            queueOn(config.accountQueueUrl, [message], invocationDeadlineMs, 'the continuation'),
          now,
        },
        {
          subscriptionIdRule: config.subscriptionIdRule,
          timing: { invocationDeadlineMs, reserveMs: config.reserveMs, pageTimeoutMs: config.zuora.zuoraTimeoutMs },
          onRefusedNames: (names) =>
            logger.warn('subscription numbers the subscription id rule refuses: not queued', {
              ...keys,
              names: names.slice(0, 10),
              count: names.length,
            }),
        },
      );
    } catch (error) {
      const failure = classifyFanOutError(error);
      if (failure.kind === 'passing' && failure.fromZuora)
        metrics.addMetric(FANOUT_METRICS.zuoraRetries, MetricUnit.Count, 1);
      const decision = decideFanOutRetry({
        failure,
        receiveCount: receiveCountOf(record),
        receivedAt: budgetStart(account, sentTimestampOf(record)),
        ...(sentTimestampOf(record) !== undefined && { sentAt: sentTimestampOf(record)! }),
        now: now(),
        settings: config.retry,
        random,
      });
      if (decision.action === 'dead-letter') {
        logger.error('fan-out failed for good: dead-lettering the account message', {
          ...keys,
          failureClass: decision.failureClass,
          error: decision.reason,
        });
        if (await deadLetter(record, decision.failureClass, decision.reason, failure.httpStatus)) {
          dependencies.observer?.({
            accountKey: account.accountKey,
            messageId: record.messageId,
            outcome: 'dead-lettered',
            failureClass: decision.failureClass,
            error: decision.reason,
          });
          return;
        }
        throw new MessageNotDone(decision.reason);
      }
      const visibilitySeconds = await setVisibility(record, decision.visibilitySeconds, invocationStart);
      logger.warn('fan-out failed, will retry', {
        ...keys,
        error: failure.error,
        visibilitySeconds,
        remainingBudgetSeconds: Math.round(decision.remainingBudgetSeconds),
      });
      dependencies.observer?.({
        accountKey: account.accountKey,
        messageId: record.messageId,
        outcome: 'retry',
        error: failure.error,
        ...(visibilitySeconds !== undefined && { visibilitySeconds }),
      });
      throw new MessageNotDone(failure.error);
    }

    if (result.kind === 'unknown-account') {
      metrics.addMetric(FANOUT_METRICS.unknownAccounts, MetricUnit.Count, 1);
      logger.error('unknown account: dead-lettering the account message', { ...keys, error: result.reason });
      if (await deadLetter(record, UNKNOWN_ACCOUNT_CLASS, result.reason)) {
        dependencies.observer?.({
          accountKey: account.accountKey,
          messageId: record.messageId,
          outcome: 'dead-lettered',
          failureClass: UNKNOWN_ACCOUNT_CLASS,
          error: result.reason,
        });
        return;
      }
      throw new MessageNotDone(result.reason);
    }
    if (result.kind === 'no-time') {
      // Untried: back as soon as the next invocation can take it, no budget or Zuora request spent.
      await setVisibility(record, 1, invocationStart);
      throw new MessageNotDone('no time left in this invocation for the first page');
    }
    metrics.addMetric(FANOUT_METRICS.subscriptionsQueued, MetricUnit.Count, result.queued);
    if (result.kind === 'continued') {
      metrics.addMetric(FANOUT_METRICS.continuations, MetricUnit.Count, 1);
      logger.info('out of time between pages: the rest follows in a continuation', {
        ...keys,
        accountId: result.accountId,
        queued: result.queued,
        pages: result.pages,
      });
    } else {
      metrics.addMetric(FANOUT_METRICS.accounts, MetricUnit.Count, 1);
      logger.info('account fanned out', {
        ...keys,
        accountId: result.accountId,
        queued: result.queued,
        pages: result.pages,
        restartedFromFirstPage: result.restarted,
      });
    }
    dependencies.observer?.({
      accountKey: account.accountKey,
      messageId: record.messageId,
      outcome: result.kind,
      queued: result.queued,
      pages: result.pages,
      restarted: result.restarted,
    });
  };

  return async function handler(event: SQSEvent, context?: Context): Promise<SQSBatchResponse> {
    if (context) logger.addContext(context);
    invocationStart = now();
    const invocationDeadlineMs =
      invocationStart + (context?.getRemainingTimeInMillis() ?? FANOUT_DEFAULTS.functionTimeoutSeconds * 1000);

    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const parsed = readRecord(record.body, rules);
      if (!parsed.ok) {
        logger.error('poison message on the fan-out queue: dead-lettering it', {
          messageId: record.messageId,
          error: parsed.reason,
        });
        if (!(await deadLetter(record, 'poison', parsed.reason))) throw new MessageNotDone(parsed.reason);
        dependencies.observer?.({
          messageId: record.messageId,
          outcome: 'dead-lettered',
          failureClass: 'poison',
          error: parsed.reason,
        });
        return;
      }
      await handleAccount(record, parsed.account, invocationDeadlineMs);
    };

    try {
      return await processPartialResponse(event, recordHandler, new BatchProcessor(EventType.SQS), {
        context,
        // One after the other: they share the invocation's time and Zuora's one-request-at-a-time client.
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** An account message, or why the body is not one (a subscription message here belongs on the main queue). */
function readRecord(
  body: string,
  rules: Parameters<typeof parseQueueMessage>[1],
): { ok: true; account: AccountRequest } | { ok: false; reason: string } {
  try {
    const parsed = parseQueueMessage(body, rules);
    if (!parsed.ok) return parsed;
    if (!isAccountRequest(parsed.message)) {
      return {
        ok: false,
        reason: `subscription message for ${parsed.message.subscriptionId} on the fan-out queue: subscription messages belong on the main queue (QUEUE_URL)`,
      };
    }
    return { ok: true, account: parsed.message };
  } catch (error) {
    return { ok: false, reason: unreadableBodyReason(error) };
  }
}

/** Retries and refusals only; the path and status carry no token or secret. */
function noteZuoraRequest(logger: Logger, metrics: Metrics, event: ZuoraRequestEvent): void {
  if (event.attempt > 1) metrics.addMetric(FANOUT_METRICS.zuoraRetries, MetricUnit.Count, 1);
  if (event.attempt > 1 || typeof event.status !== 'number' || event.status >= 400) {
    logger.warn('Zuora request', {
      path: event.path,
      status: event.status,
      attempt: event.attempt,
      durationMs: event.durationMs,
    });
  }
}
