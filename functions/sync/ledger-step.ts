import type { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { planLedgerBatch, type SubscriptionPlan } from '../ledger/batch-plan';
import { readLedgerFailOpen } from '../ledger/fail-open';
import { ledgerHoldReceiveLimit, releaseHoldsPastReceiveLimit } from '../ledger/hold-limit';
import type { LedgerOutcome } from '../ledger/ledger-entry';
import type { LedgerTiming } from '../ledger/ledger-fate';
import type { LedgerStore } from '../ledger/ledger-store';
import { provenThroughOf } from '../ledger/proven-through';
import type { SyncRequest } from '../shared/queue-message';
import type { SyncOutcome } from '../limio';
import { sentTimestampOf } from './batch-messages';
import { SYNC_METRICS } from './telemetry';

/**
 * How long the batch waits for any one ledger call (the read, a claim, a write) before going on without it. The
 * store's client already gives up after two tries of ~3 s; this keeps a slow table to a second or two per batch,
 * far below LIMIO_TIMEOUT_MS and the function timeout. DynamoDB answers in milliseconds when it is well.
 */
export const LEDGER_CALL_TIMEOUT_MS = 1_500;

/** What the ledger step needs of a message: its request, its SQS record (SentTimestamp) and how often SQS has handed it out. */
export interface LedgerMessage {
  readonly request: Pick<SyncRequest, 'subscriptionId' | 'receivedAt' | 'zuoraUpdatedAt'>;
  readonly record: Pick<SQSRecord, 'attributes'>;
  readonly receiveCount: number;
}

/** One subscription's part of a batch: the messages done, held and synced now, and whether the sync is claimed first. */
export type LedgerSubscriptionPlan<M> = SubscriptionPlan<M> & {
  /** When the recorded successful sync that covers `covered` started (epoch ms); set when any is covered. */
  readonly coveredBySyncStartedAt?: number;
};

export type LedgerBatchPlan<M> = ReadonlyMap<string, LedgerSubscriptionPlan<M>>;

export interface LedgerStepOptions {
  readonly store: LedgerStore;
  readonly timing: LedgerTiming;
  /** MAX_ATTEMPTS: ledger holds spend at most a quarter of it (ledgerHoldReceiveLimit). */
  readonly maxAttempts: number;
  readonly now: () => number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly timeoutMs?: number;
}

/** Without a ledger every subscription of the batch syncs all its messages, as before issue #13. */
export function planWithoutLedger<M>(bySubscription: ReadonlyMap<string, readonly M[]>): LedgerBatchPlan<M> {
  return new Map(
    [...bySubscription].map(([subscriptionId, messages]) => [
      subscriptionId,
      { subscriptionId, covered: [], held: [], syncNow: messages },
    ]),
  );
}

/**
 * The sync ledger's part of the sync handler: one fail-open read per batch and its plan, the claim before a
 * Limio call and the record after it. None of it ever fails a message: a ledger call that fails or is slow is
 * logged, counted (ledgerUnavailable) and treated as unknown, which only ever leads to a sync.
 */
export class LedgerStep {
  readonly #timeoutMs: number;
  readonly #holdReceiveLimit: number;

  /**
   * What the ledger can add to one Limio call at worst (a claim before it, a record after it, each abandoned at
   * the timeout): a sync is started only if the invocation has this much left beyond the call itself.
   */
  get reserveMs(): number {
    return 2 * this.#timeoutMs;
  }

  constructor(private readonly options: LedgerStepOptions) {
    this.#timeoutMs = options.timeoutMs ?? LEDGER_CALL_TIMEOUT_MS;
    this.#holdReceiveLimit = ledgerHoldReceiveLimit(options.maxAttempts);
  }

  async plan<M extends LedgerMessage>(bySubscription: ReadonlyMap<string, readonly M[]>): Promise<LedgerBatchPlan<M>> {
    const lookup = await readLedgerFailOpen(this.options.store, [...bySubscription.keys()], this.#timeoutMs);
    if (lookup.failure !== undefined)
      this.unavailable('read', lookup.failure, { subscriptions: lookup.unknown.length });
    else if (lookup.unknown.length > 0)
      this.unavailable('read', 'DynamoDB left some keys unprocessed', { subscriptions: lookup.unknown.length });
    const messages = [...bySubscription.values()].flat().map((message) => ({ ...datedRequestOf(message), message }));
    const plans = planLedgerBatch(messages, lookup, this.options.now(), this.options.timing);
    return new Map(
      plans.map((plan) => {
        const unwrapped: SubscriptionPlan<M> = {
          subscriptionId: plan.subscriptionId,
          covered: plan.covered.map((wrapped) => wrapped.message),
          held: plan.held.map(({ message: wrapped, fate }) => ({ message: wrapped.message, fate })),
          syncNow: plan.syncNow.map((wrapped) => wrapped.message),
          ...(plan.claim !== undefined && { claim: plan.claim }),
        };
        const coveredBySyncStartedAt = lookup.entries.get(plan.subscriptionId)?.lastSuccess?.startedAt;
        return [
          plan.subscriptionId,
          {
            ...releaseHoldsPastReceiveLimit(unwrapped, (message) => message.receiveCount, this.#holdReceiveLimit),
            ...(unwrapped.covered.length > 0 && coveredBySyncStartedAt !== undefined && { coveredBySyncStartedAt }),
          },
        ];
      }),
    );
  }

  /**
   * Announces the sync about to start. False only when the ledger refused it (another sync is in flight, or one
   * succeeded since the read): the caller holds. A claim that failed or timed out counts as made: sync anyway.
   */
  async claim(
    subscriptionId: string,
    startedAt: number,
    leaseMs: number,
    claim: NonNullable<SubscriptionPlan<unknown>['claim']>,
  ): Promise<boolean> {
    try {
      return await this.bounded(this.options.store.claimSync(subscriptionId, { startedAt, leaseMs, ...claim }));
    } catch (error) {
      this.unavailable('claim', messageOf(error), { subscriptionId });
      return true;
    }
  }

  /**
   * Records one Limio answer; `startedAt` is the one taken before the claim. A success also raises provenThrough
   * to the latest change its messages name (provenThroughOf), a second write made only when one names one. A
   * failed write is only logged: the sweep then queues the change again at worst.
   */
  async record(
    subscriptionId: string,
    startedAt: number,
    outcome: SyncOutcome,
    served: readonly LedgerMessage[] = [],
  ): Promise<void> {
    const provenThrough =
      outcome.class === 'synced'
        ? provenThroughOf(served.map(datedRequestOf), this.options.timing.clockMarginSeconds * 1000)
        : undefined;
    try {
      await this.bounded(
        this.options.store.recordOutcome(subscriptionId, ledgerOutcomeOf(outcome, startedAt, this.options.now())),
      );
      if (provenThrough !== undefined)
        await this.bounded(this.options.store.raiseMark(subscriptionId, 'provenThrough', provenThrough));
    } catch (error) {
      this.unavailable('record', messageOf(error), { subscriptionId });
    }
  }

  private unavailable(during: 'read' | 'claim' | 'record', error: string, context: Record<string, unknown>): void {
    this.options.metrics.addMetric(SYNC_METRICS.ledgerUnavailable, MetricUnit.Count, 1);
    this.options.logger.warn('sync ledger unavailable: syncing as without a ledger', { during, error, ...context });
  }

  private async bounded<T>(call: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the ledger did not answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
    });
    try {
      return await Promise.race([call, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A Limio answer as the ledger keeps it; a 401 that was retried with a fresh token is a retryable failure. */
export function ledgerOutcomeOf(outcome: SyncOutcome, startedAt: number, finishedAt: number): LedgerOutcome {
  if (outcome.class === 'synced') {
    return {
      kind: 'synced',
      startedAt,
      finishedAt,
      httpStatus: outcome.httpStatus,
      ...(outcome.limioId !== undefined && { limioId: outcome.limioId }),
      ...(outcome.owner !== undefined && { owner: outcome.owner }),
    };
  }
  return {
    kind: outcome.class === 'terminal' ? 'terminal' : 'retryable',
    startedAt,
    finishedAt,
    error: outcome.error,
    ...(outcome.httpStatus !== undefined && { httpStatus: outcome.httpStatus }),
  };
}

/** A message's request with SQS's SentTimestamp, what the ledger's rules judge it by. */
function datedRequestOf<M extends LedgerMessage>(message: M): M['request'] & { sentAtMs?: number } {
  const sentAtMs = sentTimestampOf(message.record);
  return { ...message.request, ...(sentAtMs !== undefined && { sentAtMs }) };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
