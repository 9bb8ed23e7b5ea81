import { LOCAL_TABLES } from '../local/defaults';
import type { SweepReport } from '../functions/sweep/sweep';
import type { OverCap } from './over-cap';

/**
 * The local pipeline under faults: the callout side in the local runtime, the sync worker in its own process
 * (bench/sync-worker.ts, the production sync handler behind the local poller) so it can be killed with SIGKILL
 * in the middle of a batch and started again, and the Limio sandbox injecting 502s, 429s and hangs, with a
 * token revocation part-way through. The verdict is taken from the outside: the sandbox's own record of what
 * it synced and how many calls it had in flight, and the dead-letter queue's messages and their reasons.
 *
 * With `ledger` the worker keeps the sync ledger (issue #13) in the runtime's DynamoDB emulator (the table the
 * callout handler marks), found through LEDGER_TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB as in Lambda, behind a
 * proxy; `ledgerOutageAt` cuts that proxy part-way, so the rest of the run meets an unreachable table (the handler must fail open). With `droppedShare` (issue #14)
 * every subscription is changed in a Zuora sandbox but that share of them gets no callout at all, as if Zuora
 * never sent it; once the callouts are synced, the sweep Lambda (createSweepLambda, its metrics recorded) runs
 * once over the window and must count exactly those missing and queue them, each then synced; the others cost
 * a second Limio call only where the sweep cannot prove their sync read them (unproven: callouts without UpdatedDate).
 */
export interface ChaosOptions {
  readonly subscriptions: number;
  readonly calloutsPerSubscription: number;
  readonly rate502: number;
  readonly rate429: number;
  readonly hangRate: number;
  /** Limio's own answer time, so calls overlap as they do against a real tenant. */
  readonly latencyMs: number;
  readonly syncConcurrency: number;
  readonly pollers: number;
  readonly limioTimeoutMs: number;
  readonly visibilityTimeoutSeconds: number;
  readonly functionTimeoutSeconds: number;
  readonly backoffBaseSeconds: number;
  readonly backoffMaxSeconds: number;
  readonly maxAttempts: number;
  /** Share of subscriptions synced when the tokens are revoked, and when the worker is killed; undefined = never. */
  readonly revokeAt: number | undefined;
  readonly killAt: number | undefined;
  /** The worker keeps the sync ledger (LEDGER_TABLE_NAME) in the runtime's DynamoDB emulator, the table its callouts mark. */
  readonly ledger: boolean;
  /** SYNC_COOLDOWN_SECONDS of the worker's sync handler (the sync Lambda's default is 5). */
  readonly cooldownSeconds: number;
  /** Share of subscriptions synced when the ledger's DynamoDB stops answering (the emulator is stopped); undefined = never. */
  readonly ledgerOutageAt: number | undefined;
  /** 0..1: share of the subscriptions changed in Zuora whose callouts never arrive; the sweep must find them. */
  readonly droppedShare: number;
  /**
   * With droppedShare: the callouts that do come name the subscription's UpdatedDate, as the documented callout
   * template does (docs/connecting-zuora.md). Without it the sweep cannot prove their syncs read the changes
   * (issue #22's commit lag) and queues them again as unproven: one extra Limio call each.
   */
  readonly calloutsNameUpdatedDate: boolean;
  /** Give up waiting for the backlog to drain after this long. */
  readonly drainTimeoutMs: number;
  /** Called with progress lines. */
  readonly log?: (line: string) => void;
}

export const CHAOS_DEFAULTS: ChaosOptions = {
  subscriptions: 1000,
  calloutsPerSubscription: 2,
  rate502: 0.3,
  rate429: 0.05,
  hangRate: 0.02,
  latencyMs: 20,
  syncConcurrency: 5,
  pollers: 2,
  limioTimeoutMs: 500,
  // The sync handler starts a Limio call only with LIMIO_TIMEOUT_MS + 2 s + the ledger's 2 × 1.5 s left (5.5 s
  // here): the function timeout leaves room for that and a batch, the visibility timeout outlasts the function's.
  visibilityTimeoutSeconds: 10,
  functionTimeoutSeconds: 8,
  backoffBaseSeconds: 1,
  backoffMaxSeconds: 2,
  maxAttempts: 8,
  revokeAt: 0.25,
  killAt: 0.5,
  ledger: true,
  cooldownSeconds: 5,
  ledgerOutageAt: undefined,
  droppedShare: 0,
  calloutsNameUpdatedDate: false,
  drainTimeoutMs: 240_000,
};

export interface ChaosResult {
  readonly options: ChaosOptions;
  readonly callouts: number;
  readonly calloutsAccepted: number;
  readonly calloutsRefused: number;
  readonly acceptedSubscriptions: number;
  /** Synced by Limio after the subscription's last accepted callout was answered. */
  readonly synced: number;
  readonly deadLettered: number;
  readonly deadLettersByClass: Record<string, number>;
  readonly deadLettersWithoutReason: number;
  /** Accepted subscriptions neither synced nor on the DLQ: must be 0. */
  readonly lost: readonly string[];
  readonly drained: boolean;
  readonly drainSeconds: number;
  readonly limioCalls: number;
  readonly tokenRequests: number;
  readonly maxInFlight: number;
  /** The most Limio sync requests one worker process was waiting for at once, counted in the worker. */
  readonly clientMaxInFlight: number;
  /** One worker process (one container) at a time, its pollers sharing one handler: SYNC_CONCURRENCY. */
  readonly concurrencyCap: number;
  /** What Lambda would allow if every poller were its own container: SYNC_CONCURRENCY × pollers. */
  readonly deployedConcurrencyBound: number;
  readonly answersByStatus: Record<string, number>;
  /** Stretches of time the sandbox had more than SYNC_CONCURRENCY calls open (see watchOverCap). */
  readonly overCap: OverCap;
  /** Limio calls the sandbox never answered: the injected hangs, cut off by LIMIO_TIMEOUT_MS or the kill. */
  readonly unanswered: number;
  readonly retries: number;
  readonly workerKills: number;
  /** A Limio call was in flight when the worker was killed. */
  readonly killedMidBatch: boolean;
  readonly workerStarts: number;
  readonly tokensRevoked: boolean;
  /** Ledger requests DynamoDB answered, and those it did not (refused connections, timeouts), counted in the worker. */
  readonly ledgerAnswered: number;
  readonly ledgerUnanswered: number;
  /** The ledger's emulator was stopped (ledgerOutageAt) and subscriptions synced after that. */
  readonly ledgerStopped: boolean;
  readonly syncedAfterLedgerStopped: number;
  /** With droppedShare: what the sweep found and did. */
  readonly sweep?: CalloutsLostResult;
}

/** The chaos run's "callouts lost" scenario (issue #14): what the sweep found and did. */
export interface CalloutsLostResult {
  /** Subscriptions changed in Zuora without any callout. */
  readonly dropped: number;
  /** Changed with their callouts. */
  readonly withCallouts: number;
  readonly report: SweepReport;
  /** The callouts named the subscription's UpdatedDate (calloutsNameUpdatedDate). */
  readonly calloutsNamedUpdatedDate: boolean;
  /** The sweep's metrics as the sweep Lambda published them (EMF): sweepQueued, sweepCovered, sweepPending, sweepUnproven, sweepMissing. */
  readonly queuedMetric: number | undefined;
  readonly coveredMetric: number | undefined;
  readonly pendingMetric: number | undefined;
  readonly unprovenMetric: number | undefined;
  readonly missingMetric: number | undefined;
  /** Dropped subscriptions Limio synced after the sweep ran. */
  readonly droppedSynced: number;
  /** Dropped subscriptions not synced after the sweep (up to 5 named). */
  readonly droppedNotSynced: readonly string[];
  /**
   * Limio calls after the sweep for subscriptions whose callouts had arrived: the cost of the changes the sweep
   * could not prove read (unproven, queued again); 0 when the callouts name their UpdatedDate.
   */
  readonly secondCallsForCalledOut: number;
  readonly drainedAfterSweep: boolean;
  readonly sweepDrainSeconds: number;
}

/** The ledger table's name, as npm start and the CLI's --local name it. */
export const LEDGER_TABLE = LOCAL_TABLES.ledger;
