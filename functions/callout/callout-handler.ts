import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDbLedgerStore, ledgerDynamoDbClient } from '../ledger/dynamodb-ledger-store';
import type { LedgerStore } from '../ledger/ledger-store';
import { markQueuedFailOpen } from '../ledger/queued-mark';
import {
  createAccountRequest,
  createSyncRequest,
  type AccountRequest,
  type MessageSource,
  type SyncRequest,
} from '../shared/queue-message';
import { createAuthProvider, type AuthProvider } from './auth-provider';
import type { CalloutAuth } from './auth-config';
import type { CalloutConfig } from './config';
import { enqueueMessages, type EnqueueResult, type SqsSender } from '../shared/enqueue';
import { extractSubscriptionIds, type ExtractionRefusal } from './extract-ids';
import { normaliseEvent, type CalloutEvent, type CalloutRequest } from './request';
import { checkTenant } from './tenant';
import { changeTimeToCarry, planAccounts } from './account-plan';
import { acceptedResponse, acceptedWithoutAccountsResponse, basicChallenge, refusedResponse } from './responses';
import { verifyCallout, type AuthVerdict } from './verify';

type RefusalReason =
  | 'method-not-allowed'
  | 'body-too-large'
  | 'auth-missing'
  | 'auth-invalid'
  | 'auth-unavailable'
  | 'wrong-tenant'
  | ExtractionRefusal
  | 'no-account-queue'
  | 'queue-unavailable'
  | 'internal-error';

export interface AcceptedCallout {
  readonly requestId: string;
  readonly ids: readonly string[];
  /** Account keys queued on the fan-out queue. */
  readonly accountKeys?: readonly string[];
  /** Account keys left out: the stack has no fan-out queue (no Zuora connection). */
  readonly ignoredAccountKeys?: readonly string[];
  readonly source: MessageSource;
  readonly zuoraRequestId?: string;
  readonly zuoraNotificationId?: string;
  /** Present only when the callout used the previous credential of a rotation under way. */
  readonly credential?: 'previous';
}

export interface RefusedCallout {
  readonly requestId: string;
  readonly status: number;
  readonly reason: RefusalReason;
  readonly message: string;
}

/** Lets the local runtime show what happened to each callout; never given credentials or bodies. */
export interface CalloutObserver {
  onAccepted?(callout: AcceptedCallout): void;
  onRefused?(callout: RefusedCallout): void;
}

export interface CalloutDeps {
  readonly sqs?: SqsSender;
  readonly secretsManager?: Pick<SecretsManagerClient, 'send'>;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly observer?: CalloutObserver;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
  /**
   * Time from a callout's arrival until it must be queued, else 503; reading the auth secret counts against
   * it. It must end well inside the function timeout (10 s in the CDK construct) and API Gateway's 29 s, so
   * Zuora gets a 503 it can retry rather than a timeout.
   */
  readonly answerBudgetMs?: number;
  /** Where lastQueuedAt is marked; default the DynamoDB table LEDGER_TABLE_NAME names (none: no marks). */
  readonly ledger?: LedgerStore;
}

export type CalloutHandler = (event: CalloutEvent, context?: Context) => Promise<APIGatewayProxyResult>;

const ALLOWED_METHODS = ['GET', 'POST'] as const;
const DEFAULT_ANSWER_BUDGET_MS = 6_000;
/**
 * The longest the marks may hold Zuora's answer once the messages are queued. A mark not made costs only a
 * redundant sync (the sweep queues the change again as unproven), so it never delays or fails a callout for long.
 */
const LEDGER_MARK_TIMEOUT_MS = 1_000;
/** Zuora's correlation headers are short tokens; anything else is not copied into messages or logs. */
const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The callout Lambda: authenticate, extract the subscription ids and account keys, queue them (subscriptions on the
 * main queue, accounts on the fan-out queue), answer. The same function runs
 * in AWS (handler.ts), in the local runtime and in the tests; only the dependencies differ.
 */
export function createCalloutHandler(config: CalloutConfig, deps: CalloutDeps = {}): CalloutHandler {
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? new Logger({ serviceName: 'zuora-limio-callout' });
  const metrics =
    deps.metrics ??
    new Metrics({
      namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ZuoraLimioSync',
      serviceName: 'zuora-limio-callout',
    });
  const sqs = deps.sqs ?? defaultSqsClient();
  const authProvider: AuthProvider = createAuthProvider(config.auth, {
    now,
    secretsManager: deps.secretsManager ?? (config.auth.kind === 'secret' ? defaultSecretsManagerClient() : undefined),
  });
  const budgetMs = deps.answerBudgetMs ?? DEFAULT_ANSWER_BUDGET_MS;
  const ledger =
    deps.ledger ??
    (config.ledgerTableName !== undefined
      ? new DynamoDbLedgerStore(ledgerDynamoDbClient(), config.ledgerTableName)
      : undefined);

  const refuse = (
    request: Pick<CalloutRequest, 'requestId'>,
    status: number,
    reason: RefusalReason,
    message: string,
    headers: Record<string, string> = {},
  ): APIGatewayProxyResult => {
    const log = status >= 500 ? logger.error.bind(logger) : logger.warn.bind(logger);
    log('callout refused', { requestId: request.requestId, status, reason, detail: message });
    // Once by service (the dashboard's total) and once by service and reason (what to fix).
    metrics.addMetric('CalloutRefused', MetricUnit.Count, 1);
    const byReason = metrics.singleMetric();
    byReason.addDimension('reason', reason);
    byReason.addMetric('CalloutRefused', MetricUnit.Count, 1);
    deps.observer?.onRefused?.({ requestId: request.requestId, status, reason, message });
    return refusedResponse(status, publicMessage(status, reason, message), request.requestId, headers);
  };

  const handle = async (request: CalloutRequest): Promise<APIGatewayProxyResult> => {
    const arrivedAt = Date.now();
    if (!(ALLOWED_METHODS as readonly string[]).includes(request.method)) {
      return refuse(request, 405, 'method-not-allowed', `method ${request.method.slice(0, 16)} is not allowed`, {
        Allow: ALLOWED_METHODS.join(', '),
      });
    }
    if (request.body.length > config.maxBodyBytes) {
      return refuse(
        request,
        413,
        'body-too-large',
        `body of ${request.body.length} bytes exceeds ${config.maxBodyBytes} (CALLOUT_MAX_BODY_BYTES)`,
      );
    }

    const readAuth = async (options?: {
      staleAfterRotation?: boolean;
    }): Promise<CalloutAuth | APIGatewayProxyResult> => {
      try {
        return await authProvider(options);
      } catch (error) {
        // The callout may be genuine: 503 makes Zuora try again once the secret is readable.
        return refuse(
          request,
          503,
          'auth-unavailable',
          `callout credentials could not be read: ${errorSummary(error)}`,
        );
      }
    };
    let auth = await readAuth();
    if (isResponse(auth)) return auth;
    const verifyOptions = config.idField === undefined ? {} : { idField: config.idField };
    let verdict: AuthVerdict = verifyCallout(request, auth, now(), verifyOptions);
    if (!verdict.ok && verdict.kind === 'invalid' && config.auth.kind === 'secret') {
      // Perhaps the secret was rotated since it was cached: check once more against a fresh read.
      const fresh = await readAuth({ staleAfterRotation: true });
      if (isResponse(fresh)) return fresh;
      if (fresh !== auth) {
        auth = fresh;
        verdict = verifyCallout(request, auth, now(), verifyOptions);
      }
    }
    if (!verdict.ok) {
      if (verdict.kind === 'missing') {
        return refuse(
          request,
          401,
          'auth-missing',
          verdict.reason,
          auth.mode === 'basic' ? basicChallenge(config.realm) : {},
        );
      }
      return refuse(request, 403, 'auth-invalid', verdict.reason);
    }
    const usedPrevious = verdict.credential === 'previous';
    if (usedPrevious) {
      // What the rotation runbook watches: once these stop, Zuora has switched and the previous credential can go.
      logger.info('callout authenticated with the previous credential', {
        requestId: request.requestId,
        mode: auth.mode,
      });
      metrics.addMetric('CalloutPreviousCredentialUsed', MetricUnit.Count, 1);
    }

    if (config.expectedTenantId !== undefined) {
      const tenant = checkTenant(request, config.expectedTenantId);
      if (!tenant.ok) return refuse(request, 403, 'wrong-tenant', tenant.reason);
    }

    const extraction = extractSubscriptionIds(request, {
      idField: config.idField,
      maxIds: config.maxIds,
      rule: config.idRule,
      accountRule: config.accountKeyRule,
    });
    if (!extraction.ok) return refuse(request, extraction.status, extraction.refusal, extraction.message);

    const zuoraRequestId = correlationId(request.headers['zuora-request-id']);
    const zuoraNotificationId = correlationId(request.headers['zuora-notification-id']);
    const source: MessageSource = request.headers['zuora-notification-id'] !== undefined ? 'notification' : 'workflow';
    const plan = planAccounts(
      extraction.ids,
      extraction.accountKeys,
      config.accountQueueUrl,
      config.accountsBesideSubscriptions,
    );
    if (plan.kind === 'refuse') return refuse(request, 422, 'no-account-queue', plan.message);

    const receivedAt = now();
    const correlation = {
      ...(zuoraRequestId !== undefined && { zuoraRequestId }),
      ...(zuoraNotificationId !== undefined && { zuoraNotificationId }),
    };
    const zuoraUpdatedAt = changeTimeToCarry(extraction.zuoraUpdatedAt, receivedAt);
    const messages: SyncRequest[] = extraction.ids.map((subscriptionId) =>
      createSyncRequest(
        { subscriptionId, source, receivedAt, ...correlation, ...(zuoraUpdatedAt !== undefined && { zuoraUpdatedAt }) },
        config.idRule,
      ),
    );
    const accountMessages: AccountRequest[] =
      plan.kind === 'queue'
        ? plan.accountKeys.map((accountKey) =>
            createAccountRequest({ accountKey, source, receivedAt, ...correlation }, config.accountKeyRule),
          )
        : [];

    const enqueueOptions = {
      delaySeconds: config.delaySeconds,
      deadline: arrivedAt + budgetMs,
      ...(deps.sleep && { sleep: deps.sleep }),
    };
    const noMessages: EnqueueResult = { ok: true, calls: 0 };
    // Both queues at once, within one answer budget: Zuora retries the whole callout if either fails, and the ledger
    // folds the messages a retry puts on the queue a second time.
    const [queued, accountsQueued] = await Promise.all([
      messages.length > 0
        ? enqueueMessages(sqs, messages, { queueUrl: config.queueUrl, ...enqueueOptions })
        : noMessages,
      plan.kind === 'queue'
        ? enqueueMessages(sqs, accountMessages, { queueUrl: plan.accountQueueUrl, ...enqueueOptions })
        : noMessages,
    ]);
    if (!queued.ok || !accountsQueued.ok) {
      const failures = [
        ...(queued.ok
          ? []
          : [
              `${queued.notQueued.length} of ${messages.length} subscription ids not queued after ${queued.calls} SendMessageBatch calls: ${queued.error}`,
            ]),
        ...(accountsQueued.ok
          ? []
          : [
              `${accountsQueued.notQueued.length} of ${accountMessages.length} account keys not queued on the fan-out queue after ${accountsQueued.calls} SendMessageBatch calls: ${accountsQueued.error}`,
            ]),
      ];
      return refuse(request, 503, 'queue-unavailable', failures.join('; '));
    }

    const queuedAccountKeys = accountMessages.map((message) => message.accountKey);
    const ignoredAccountKeys = plan.kind === 'ignore' ? plan.accountKeys : [];
    if (plan.kind === 'ignore') {
      // The subscriptions are queued; the accounts cannot be (no fan-out on this stack). Said where an operator looks.
      logger.warn('callout account keys ignored', {
        requestId: request.requestId,
        accountKeys: ignoredAccountKeys,
        reason: plan.why,
      });
      metrics.addMetric('CalloutAccountsIgnored', MetricUnit.Count, ignoredAccountKeys.length);
    }

    if (ledger !== undefined) {
      const timeoutMs = Math.max(1, Math.min(LEDGER_MARK_TIMEOUT_MS, arrivedAt + budgetMs - Date.now()));
      const marked = await markQueuedFailOpen(ledger, extraction.ids, receivedAt.getTime(), timeoutMs);
      if (marked.unmarked.length > 0) {
        logger.warn('queued, but not marked in the sync ledger: the sweep may queue these again', {
          requestId: request.requestId,
          unmarked: marked.unmarked.length,
          error: marked.failure,
        });
        metrics.addMetric('CalloutLedgerMarkFailed', MetricUnit.Count, marked.unmarked.length);
      }
    }

    logger.info('callout accepted', {
      requestId: request.requestId,
      source,
      ids: extraction.ids,
      idCount: extraction.ids.length,
      ...(queuedAccountKeys.length > 0 && { accountKeys: queuedAccountKeys }),
      ...(zuoraUpdatedAt !== undefined && { zuoraUpdatedAt }),
      ...correlation,
      delaySeconds: config.delaySeconds,
      sendMessageBatchCalls: queued.calls + accountsQueued.calls,
      credential: verdict.credential,
    });
    metrics.addMetric('CalloutAccepted', MetricUnit.Count, 1);
    metrics.addMetric('SubscriptionIdsQueued', MetricUnit.Count, extraction.ids.length);
    if (accountMessages.length > 0) metrics.addMetric('AccountKeysQueued', MetricUnit.Count, accountMessages.length);
    metrics.addMetric('IdsPerCallout', MetricUnit.Count, extraction.ids.length + extraction.accountKeys.length);
    deps.observer?.onAccepted?.({
      requestId: request.requestId,
      ids: extraction.ids,
      ...(queuedAccountKeys.length > 0 && { accountKeys: queuedAccountKeys }),
      ...(ignoredAccountKeys.length > 0 && { ignoredAccountKeys }),
      source,
      ...correlation,
      ...(usedPrevious && { credential: 'previous' as const }),
    });
    if (plan.kind === 'ignore')
      return acceptedWithoutAccountsResponse(extraction.ids, ignoredAccountKeys, plan.why, request.requestId);
    return acceptedResponse(extraction.ids, request.requestId, queuedAccountKeys);
  };

  return async (event, context) => {
    if (context) logger.addContext(context);
    let request: CalloutRequest | undefined;
    try {
      request = normaliseEvent(event);
      return await handle(request);
    } catch (error) {
      // A bug, not an input: say so in the log (without the request) and let Zuora retry.
      logger.error('callout handler failed', { error: errorSummary(error) });
      return refuse(request ?? { requestId: '' }, 500, 'internal-error', 'internal error');
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}

/** Refusals tell Zuora's notification history enough to fix a template, never why a credential failed. */
function publicMessage(status: number, reason: RefusalReason, message: string): string {
  switch (reason) {
    case 'auth-missing':
      return 'authentication required';
    case 'auth-invalid':
      return 'authentication failed';
    case 'auth-unavailable':
    case 'queue-unavailable':
      return 'temporarily unable to accept callouts; retry later';
    case 'internal-error':
      return 'internal error';
    default:
      return status < 500 ? message : 'error';
  }
}

function isResponse(value: CalloutAuth | APIGatewayProxyResult): value is APIGatewayProxyResult {
  return 'statusCode' in value;
}

function correlationId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return CORRELATION_ID.test(trimmed) ? trimmed : undefined;
}

function errorSummary(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
  return String(error).slice(0, 300);
}

/**
 * The auth secret is read while Zuora waits. Without timeouts a stalled Secrets Manager would hold the
 * callout until the Lambda timeout and Zuora would get API Gateway's 502; with these a read fails in about
 * 3 s (two tries) and the callout gets the 503 that tells Zuora to retry. Endpoint and region come from the
 * standard AWS SDK environment.
 */
const SECRETS_MANAGER_CLIENT_OPTIONS = {
  maxAttempts: 2,
  // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and waits on.
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_500, throwOnRequestTimeout: true },
} as const;

function defaultSecretsManagerClient(): SecretsManagerClient {
  return new SecretsManagerClient(SECRETS_MANAGER_CLIENT_OPTIONS);
}

/**
 * Endpoint and region come from the standard AWS SDK environment (AWS_ENDPOINT_URL_SQS reaches the local
 * emulator). Short timeouts so an unreachable SQS becomes a 503 while Zuora is still waiting.
 */
function defaultSqsClient(): SQSClient {
  // throwOnRequestTimeout: without it the SDK only logs a warning when requestTimeout passes and waits on.
  return new SQSClient({
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_500, throwOnRequestTimeout: true },
  });
}
