import { Logger } from '@aws-lambda-powertools/logger';
import { loadSyncConfig } from '../functions/sync/config';
import { createSyncHandler, type SyncObserver, type SyncOutcomeEvent } from '../functions/sync/sync-handler';
import { DEFAULTS } from '../functions/shared/defaults';
import { loadRuntimeConfig } from '../local/config';
import { LOCAL_TABLES } from '../local/defaults';
import { startRuntime, type Runtime } from '../local/runtime';
import { startSqsPoller, type SqsPoller } from '../local/sqs-poller';
import { InMemoryLedgerStore, type LedgerStore } from '../functions/ledger/ledger-store';
import { TABLE_VARIABLES } from '../local/handler-env';
import {
  emptyTally,
  REPLACED_POLLER_WAIT_SECONDS,
  runtimeSyncEnv,
  startSyncWorker,
  stopRuntimePoller,
  type SyncWorker,
} from './chaos-worker';
import { percentile } from './figures';
import {
  authorizationFor,
  EPHEMERAL_PORTS,
  burstOf,
  sendCallouts,
  subscriptionNumbers,
  waitUntil,
  type SentCallout,
} from './pipeline';

/**
 * A burst of callouts through the local runtime (`npm start`'s pipeline: API Gateway adapter, callout handler,
 * SQS emulator, poller, sync handler, Limio sandbox), timed from the first callout sent until every accepted
 * callout's message was synced.
 */
export interface EndToEndOptions {
  readonly callouts: number;
  readonly subscriptions: number;
  /** Callouts in flight at once. */
  readonly parallel?: number;
  /** Extra environment for the runtime (SYNC_BATCH_SIZE, SYNC_POLLERS, LIMIO_SANDBOX_LATENCY_MS, ...). */
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  /**
   * `interleaved` (default): the burst shuffled, a subscription's callouts spread over the whole burst (the
   * worst case for coalescing). `together`: each subscription's callouts back to back, as when one Zuora
   * change fires several notifications.
   */
  readonly order?: 'interleaved' | 'together';
  /**
   * true (default): the runtime as `npm start` runs it, the sync ledger in its DynamoDB emulator. false: the same
   * runtime with its poller's handler built without the ledger (the runtime has no switch for it), the baseline.
   */
  readonly ledger?: boolean;
  /**
   * Where the ledger lives when `ledger` is on. `dynamodb` (default): the DynamoDB emulator, as `npm start`.
   * `off-box`: the same ledger logic over an in-process store answering after `offBoxLatencyMs`, as DynamoDB does in
   * AWS, without its emulator's CPU on this machine's two cores (a diagnostic, never the headline figure).
   */
  readonly ledgerStore?: 'dynamodb' | 'off-box';
  readonly offBoxLatencyMs?: number;
  /**
   * Where the sync function runs. `runtime` (default): inside the runtime's process, as npm start runs it, where
   * the callout and sync functions share one event loop. `own-process`: bench/sync-worker.ts in a child process,
   * as in AWS the sync Lambda never shares a CPU with the callout Lambda (a diagnostic: bench/ledger-first-callout.ts).
   */
  readonly syncIn?: 'own-process' | 'runtime';
}

export interface EndToEndResult {
  readonly callouts: number;
  readonly accepted: number;
  readonly subscriptions: number;
  /** First callout sent to last accepted callout answered. */
  readonly acceptSeconds: number;
  /** First callout sent until every accepted callout's message was synced. */
  readonly drainSeconds: number;
  readonly allSynced: boolean;
  readonly deadLettered: number;
  /** Callout sent to the sync that covered its message, ms. */
  readonly latencyP50Ms: number;
  readonly latencyP99Ms: number;
  /** Callout-to-sync p50 of each subscription's first callout: what the ledger must not delay. */
  readonly firstCalloutP50Ms: number;
  /** Messages done without a Limio call because a recorded sync covered them. */
  readonly coveredMessages: number;
  readonly ledger: boolean;
  /** Callout sent to its 200 answer, ms: what Zuora waits for. */
  readonly answerP50Ms: number;
  readonly answerP99Ms: number;
  readonly limioCalls: number;
  readonly limioCallsPerSubscription: number;
  readonly maxInFlight: number;
  readonly syncConcurrencyCap: number;
  readonly tokenRequests: number;
}

interface SyncSeen {
  readonly at: number;
  readonly messages: number;
}

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const synced = new Map<string, SyncSeen[]>();
  let syncedMessages = 0;
  let coveredMessages = 0;
  let deadLettered = 0;
  const ledger = options.ledger ?? true;
  const env: Record<string, string> = { ...EPHEMERAL_PORTS, ...options.env };
  const config = loadRuntimeConfig(env);
  /** One outcome, wherever the sync function ran: `at` on this process's performance.now() clock. */
  const noteOutcome = (
    subscriptionId: string | undefined,
    outcome: string | undefined,
    messages: number,
    covered: boolean,
    at: number,
  ) => {
    if (subscriptionId === undefined) return;
    if (outcome === 'synced') {
      const seen = synced.get(subscriptionId) ?? [];
      seen.push({ at, messages });
      synced.set(subscriptionId, seen);
      syncedMessages += messages;
      if (covered) coveredMessages += messages;
    } else if (outcome === 'dead-lettered') {
      deadLettered += messages;
    }
  };
  const observer: SyncObserver = {
    onSyncOutcome: (event: SyncOutcomeEvent) =>
      noteOutcome(
        event.subscriptionId,
        event.outcome,
        event.messageIds.length,
        event.coveredBySyncStartedAt !== undefined,
        performance.now(),
      ),
  };
  // The ledger-off baseline is the runtime's own handler without the ledger; a run that puts its own sync function in
  // the poller's place starts the runtime with short long polls, so the poller it stops leaves none behind.
  const replacesPoller = options.syncIn === 'own-process' || (ledger && options.ledgerStore === 'off-box');
  const runtime = await startRuntime({
    config,
    quiet: true,
    ledger,
    observers: { sync: observer },
    ...(replacesPoller && { syncPollWaitSeconds: REPLACED_POLLER_WAIT_SECONDS }),
  });
  let ledgerlessPoller: SqsPoller | undefined;
  let worker: SyncWorker | undefined;
  try {
    if (options.syncIn === 'own-process') {
      if (options.ledgerStore === 'off-box')
        throw new Error("the off-box ledger store runs in the runtime's process only (syncIn: runtime)");
      await stopRuntimePoller(runtime);
      // The worker stamps each outcome on the epoch clock; performance.timeOrigin puts it on this process's.
      worker = await startSyncWorker(endToEndWorkerEnv(runtime, ledger), emptyTally(), (line) => {
        if (line.kind === 'outcome' && line.at !== undefined)
          noteOutcome(
            line.subscriptionId,
            line.outcome,
            line.messages ?? 0,
            line.covered === true,
            line.at - performance.timeOrigin,
          );
      });
    } else if (ledger && options.ledgerStore === 'off-box')
      ledgerlessPoller = await replacePoller(runtime, observer, new OffBoxLedgerStore(options.offBoxLatencyMs ?? 5));
    const perSubscription = Math.ceil(options.callouts / options.subscriptions);
    const ids = (
      options.order === 'together'
        ? subscriptionNumbers(options.subscriptions).flatMap((id) => Array.from({ length: perSubscription }, () => id))
        : burstOf(subscriptionNumbers(options.subscriptions), perSubscription)
    ).slice(0, options.callouts);
    const started = performance.now();
    const sent = await sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), ids, {
      parallel: options.parallel ?? 32,
    });
    const acceptedCallouts = sent.filter((callout) => callout.status === 200);
    const acceptSeconds = (Math.max(...sent.map((callout) => callout.answeredAt)) - started) / 1000;
    const allSynced = await waitUntil(
      () => syncedMessages + deadLettered >= acceptedCallouts.length,
      options.timeoutMs ?? 150_000,
    );
    const lastSync = Math.max(...[...synced.values()].flatMap((seen) => seen.map((sync) => sync.at)));
    const latencies = matchLatencies(acceptedCallouts, synced);
    // Each subscription's first callout against its first sync (the pairing matchLatencies makes for it).
    const firstSentAt = new Map<string, number>();
    for (const callout of acceptedCallouts)
      firstSentAt.set(
        callout.subscriptionId,
        Math.min(firstSentAt.get(callout.subscriptionId) ?? Infinity, callout.sentAt),
      );
    const firstLatencies = [...firstSentAt].flatMap(([id, sentAt]) => {
      const firstSync = synced.get(id)?.[0];
      return firstSync === undefined ? [] : [firstSync.at - sentAt];
    });
    const stats = runtime.limioSandbox!.stats;
    const distinct = new Set(acceptedCallouts.map((callout) => callout.subscriptionId)).size;
    return {
      callouts: sent.length,
      accepted: acceptedCallouts.length,
      subscriptions: distinct,
      acceptSeconds,
      drainSeconds: (lastSync - started) / 1000,
      allSynced: allSynced && deadLettered === 0,
      deadLettered,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      firstCalloutP50Ms: percentile(firstLatencies, 50),
      coveredMessages,
      ledger,
      answerP50Ms: percentile(
        acceptedCallouts.map((callout) => callout.answeredAt - callout.sentAt),
        50,
      ),
      answerP99Ms: percentile(
        acceptedCallouts.map((callout) => callout.answeredAt - callout.sentAt),
        99,
      ),
      limioCalls: stats.syncCalls,
      limioCallsPerSubscription: stats.syncCalls / distinct,
      maxInFlight: stats.maxInFlight,
      syncConcurrencyCap: Number(env.SYNC_CONCURRENCY ?? 5),
      tokenRequests: stats.tokenRequests,
    };
  } finally {
    if (worker) {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
    await ledgerlessPoller?.stop();
    await runtime.stop();
  }
}

/**
 * The ledger over another store (the off-box diagnostic): the runtime's poller stopped, and one with the same
 * settings started over a sync handler built as the runtime builds its own (same environment, breaker table
 * included) with that store in place of LEDGER_TABLE_NAME's. The runtime's AWS endpoints are in
 * process.env while it runs, as the handler expects.
 */
async function replacePoller(runtime: Runtime, observer: SyncObserver, ledgerStore: LedgerStore): Promise<SqsPoller> {
  await stopRuntimePoller(runtime);
  const { LEDGER_TABLE_NAME: _ledger, ...handlerEnv } = runtime.config.handlerEnv;
  const sandbox = runtime.limioSandbox!;
  const handler = createSyncHandler(
    loadSyncConfig({
      BREAKER_STATE_CACHE_SECONDS: '0',
      ...handlerEnv,
      QUEUE_URL: runtime.queues.mainQueueUrl,
      DLQ_URL: runtime.queues.deadLetterQueueUrl,
      LIMIO_BASE_URL: runtime.limioBaseUrl,
      LIMIO_CLIENT_ID: sandbox.clientId,
      LIMIO_CLIENT_SECRET: sandbox.clientSecret,
      BREAKER_TABLE_NAME: LOCAL_TABLES.breaker,
    }),
    { logger: new Logger({ serviceName: 'sync', logLevel: 'SILENT' }), observer, ledger: ledgerStore },
  );
  return startSqsPoller({
    client: runtime.sqs,
    queueUrl: runtime.queues.mainQueueUrl,
    handler,
    batchSize: runtime.config.poller.batchSize,
    batchingWindowSeconds: runtime.config.poller.batchingWindowSeconds,
    concurrency: runtime.config.poller.concurrency,
    functionTimeoutSeconds: DEFAULTS.syncFunctionTimeoutSeconds,
    functionName: 'sync',
  });
}

/**
 * The sync Lambda's environment for bench/sync-worker.ts, as the runtime builds its own sync handler's: the
 * runtime's handler settings, its queues, Limio and tables, the AWS SDK pointed at its emulators, and its poller's
 * settings; without LEDGER_TABLE_NAME for the baseline.
 */
function endToEndWorkerEnv(runtime: Runtime, ledger: boolean): Record<string, string> {
  const { poller } = runtime.config;
  const env: Record<string, string> = {
    // As the runtime's own sync handler: one breaker per machine, no need to cache its state.
    BREAKER_STATE_CACHE_SECONDS: '0',
    ...runtimeSyncEnv(runtime),
    ...TABLE_VARIABLES,
    SYNC_POLLERS: String(poller.concurrency),
    SYNC_BATCH_SIZE: String(poller.batchSize),
    SYNC_BATCHING_WINDOW_SECONDS: String(poller.batchingWindowSeconds),
    SYNC_FUNCTION_TIMEOUT_SECONDS: String(DEFAULTS.syncFunctionTimeoutSeconds),
    AWS_ENDPOINT_URL_DYNAMODB: runtime.dynamoDbEndpoint,
  };
  if (!ledger) delete env.LEDGER_TABLE_NAME;
  return env;
}

/**
 * Pairs each accepted callout with the sync that covered its message. The sync handler reports which message
 * ids each sync covered, not which callout sent them, so per subscription the callouts (in the order they were
 * sent) are matched to the syncs (in the order they happened), each sync taking as many callouts as it covered
 * messages. The sum of the latencies is exact whatever the pairing; a percentile can only shift by the gap
 * between two syncs of one subscription.
 */
export function matchLatencies(
  accepted: readonly SentCallout[],
  synced: ReadonlyMap<string, readonly SyncSeen[]>,
): number[] {
  const bySubscription = new Map<string, SentCallout[]>();
  for (const callout of accepted) {
    const list = bySubscription.get(callout.subscriptionId) ?? [];
    list.push(callout);
    bySubscription.set(callout.subscriptionId, list);
  }
  const latencies: number[] = [];
  for (const [subscriptionId, callouts] of bySubscription) {
    callouts.sort((a, b) => a.sentAt - b.sentAt);
    let next = 0;
    for (const sync of synced.get(subscriptionId) ?? []) {
      for (let covered = 0; covered < sync.messages && next < callouts.length; covered++, next++) {
        latencies.push(sync.at - callouts[next]!.sentAt);
      }
    }
  }
  return latencies;
}

/** The ledger's contract, answered after a fixed latency and off this process's event loop's hot path, like DynamoDB. */
class OffBoxLedgerStore implements LedgerStore {
  readonly #store = new InMemoryLedgerStore();
  constructor(private readonly latencyMs: number) {}
  readMany(...args: Parameters<LedgerStore['readMany']>) {
    return this.after(() => this.#store.readMany(...args));
  }
  claimSync(...args: Parameters<LedgerStore['claimSync']>) {
    return this.after(() => this.#store.claimSync(...args));
  }
  recordOutcome(...args: Parameters<LedgerStore['recordOutcome']>) {
    return this.after(() => this.#store.recordOutcome(...args));
  }
  raiseMark(...args: Parameters<LedgerStore['raiseMark']>) {
    return this.after(() => this.#store.raiseMark(...args));
  }
  private after<T>(answer: () => Promise<T>): Promise<T> {
    // Applied when the answer arrives, as a remote store applies a request before it answers.
    return new Promise((resolve, reject) => setTimeout(() => answer().then(resolve, reject), this.latencyMs));
  }
}
