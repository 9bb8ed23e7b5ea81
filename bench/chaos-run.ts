import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { loadRuntimeConfig } from '../local/config';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../local/dynamodb-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../local/zuora-sandbox';
import { startRuntime, type Runtime } from '../local/runtime';
import { queueDepth } from '../local/queue-depth';
import { CHAOS_DEFAULTS, type ChaosOptions, type ChaosResult } from './chaos-options';
import { cutLedgerPartWay, revokeAndKillPartWay, type FaultRecord } from './chaos-faults';
import { sweepForDroppedCallouts } from './chaos-sweep';
import {
  emptyTally,
  REPLACED_POLLER_WAIT_SECONDS,
  startSyncWorker,
  stopRuntimePoller,
  syncWorkerEnv,
  type SyncWorker,
} from './chaos-worker';
import { startCuttableProxy, type CuttableProxy } from './cuttable-proxy';
import { watchOverCap } from './over-cap';
import {
  authorizationFor,
  EPHEMERAL_PORTS,
  burstOf,
  readDeadLetters,
  sendCallouts,
  subscriptionNumbers,
  waitUntil,
  type DeadLetter,
} from './pipeline';

/**
 * The runner every chaos scenario shares (options and result in bench/chaos-options.ts): the callout side in the
 * local runtime, the sync worker in its own process (bench/chaos-worker.ts), the faults the sandbox injects at
 * its rates and those that are events (bench/chaos-faults.ts), the sweep when callouts are dropped
 * (bench/chaos-sweep.ts), and the verdict from the outside: the sandbox's record and the dead-letter queue.
 */
/** How long before its callout each change is made in Zuora: Zuora calls out after its change commits. */
const CHANGE_BEFORE_CALLOUT_MS = 5_000;

/** The runtime's settings for a chaos run: ephemeral ports, the sandbox's fault rates, compressed backoff. */
function runtimeEnv(options: ChaosOptions): Record<string, string> {
  return {
    ...EPHEMERAL_PORTS,
    SYNC_POLLERS: '1',
    SYNC_CONCURRENCY: String(options.syncConcurrency),
    MAX_ATTEMPTS: String(options.maxAttempts),
    LIMIO_TIMEOUT_MS: String(options.limioTimeoutMs),
    BACKOFF_BASE_SECONDS: String(options.backoffBaseSeconds),
    BACKOFF_MAX_SECONDS: String(options.backoffMaxSeconds),
    LIMIO_SANDBOX_502_RATE: String(options.rate502),
    LIMIO_SANDBOX_429_RATE: String(options.rate429),
    LIMIO_SANDBOX_HANG_RATE: String(options.hangRate),
    LIMIO_SANDBOX_LATENCY_MS: String(options.latencyMs),
    LIMIO_SANDBOX_RETRY_AFTER_SECONDS: '1',
    // The runtime's own scheduled sweep (of its own Zuora sandbox) stays out of the run: the sweep measured is
    // the one run over the chaos's Zuora sandbox, and both keep their watermark in the one ledger table.
    SWEEP_INTERVAL_SECONDS: String(24 * 60 * 60),
  };
}

export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const options: ChaosOptions = { ...CHAOS_DEFAULTS, ...overrides };
  if (options.droppedShare > 0 && !options.ledger)
    throw new Error('the sweep tells a missed change from a synced one by the ledger: droppedShare needs ledger');
  const log = options.log ?? (() => undefined);
  const runtime: Runtime = await startRuntime({
    config: loadRuntimeConfig(runtimeEnv(options)),
    quiet: true,
    syncPollWaitSeconds: REPLACED_POLLER_WAIT_SECONDS,
  });
  let ledgerDb: DynamoDBClient | undefined;
  /** The worker reaches the ledger's DynamoDB through this, so it can become unreachable mid-run. */
  let ledgerRoute: CuttableProxy | undefined;
  let zuora: ZuoraSandbox | undefined;
  const workers: SyncWorker[] = [];
  const answersByStatus: Record<string, number> = {};
  let workerStarts = 0;
  const tally = emptyTally();
  const faults: FaultRecord = { tokensRevoked: false, workerKills: 0, killedMidBatch: false, ledgerStopped: false };
  const syncedAfterLedgerStopped = new Set<string>();
  try {
    if (options.ledger) {
      // One ledger, as in a stack: the runtime's table, where its callout handler marks lastQueuedAt (issue #22),
      // the worker records its syncs and the sweep reads both. A ledger of the run's own would hide the marks
      // from the sweep, which would then count every change whose callout came as missing.
      ledgerDb = new DynamoDBClient({
        endpoint: runtime.dynamoDbEndpoint,
        region: DYNAMODB_EMULATOR_REGION,
        credentials: DYNAMODB_EMULATOR_CREDENTIALS,
      });
      ledgerRoute = await startCuttableProxy(Number(new URL(runtime.dynamoDbEndpoint).port));
    }
    // The runtime's in-process poller cannot be killed mid-batch; the worker process takes its place.
    await stopRuntimePoller(runtime);
    // A short visibility timeout, so messages held by a killed worker come back within seconds, not minutes.
    await runtime.sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: runtime.queues.mainQueueUrl,
        Attributes: { VisibilityTimeout: String(options.visibilityTimeoutSeconds) },
      }),
    );
    const sandbox = runtime.limioSandbox!;
    const overCap = watchOverCap(sandbox.stats, options.syncConcurrency);
    const lastSyncedAt = new Map<string, number>();
    sandbox.onSync = ({ subscriptionId, status }) => {
      answersByStatus[status] = (answersByStatus[status] ?? 0) + 1;
      if (status === 200) lastSyncedAt.set(subscriptionId, performance.now());
      if (status === 200 && faults.ledgerStopped) syncedAfterLedgerStopped.add(subscriptionId);
    };

    const workerEnv = syncWorkerEnv(runtime, options, ledgerRoute?.endpoint);
    const startWorker = async (): Promise<SyncWorker> => {
      const worker = await startSyncWorker(workerEnv, tally);
      workerStarts++;
      workers.push(worker);
      return worker;
    };

    const worker = await startWorker();
    log(`worker started (pid ${worker.child.pid}); sending callouts`);

    const subscriptions = subscriptionNumbers(options.subscriptions);
    // Every (1 / droppedShare)th subscription changes in Zuora without a callout; the others get theirs.
    const dropped = new Set(
      subscriptions.filter(
        (_, index) => Math.floor((index + 1) * options.droppedShare) > Math.floor(index * options.droppedShare),
      ),
    );
    const updatedDates = new Map<string, string>();
    if (options.droppedShare > 0) {
      zuora = await startZuoraSandbox();
      const changedAt = Date.now() - CHANGE_BEFORE_CALLOUT_MS;
      for (const id of subscriptions)
        updatedDates.set(id, new Date(zuora.touch(id, changedAt).updatedMs).toISOString());
    }
    const ids = burstOf(
      subscriptions.filter((id) => !dropped.has(id)),
      options.calloutsPerSubscription,
      11,
    );
    const started = performance.now();
    const lastAcceptedAt = new Map<string, number>();
    const sending = sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), ids, {
      parallel: 16,
      ...(options.calloutsNameUpdatedDate && { updatedDateOf: (id: string) => updatedDates.get(id) }),
      onAnswer: (callout) => {
        if (callout.status === 200)
          lastAcceptedAt.set(
            callout.subscriptionId,
            Math.max(lastAcceptedAt.get(callout.subscriptionId) ?? 0, callout.answeredAt),
          );
      },
    });

    const partWay = { options, sandbox, log };
    const ledgerOutage = cutLedgerPartWay(partWay, ledgerRoute, faults, tally);
    const events = revokeAndKillPartWay(partWay, worker, startWorker, faults);

    const sent = await sending;
    log(`${sent.length} callouts answered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await events;
    await ledgerOutage;
    const drained = await waitUntil(
      async () => (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
      options.drainTimeoutMs,
      250,
    );
    const drainSeconds = (performance.now() - started) / 1000;
    log(
      drained
        ? `backlog drained ${drainSeconds.toFixed(1)} s after the first callout`
        : 'backlog did NOT drain in time',
    );

    const deadLetters: DeadLetter[] = await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl);
    const deadLettered = new Set(
      deadLetters.flatMap((letter) =>
        letter.subscriptionId !== undefined && letter.reason.failureClass !== undefined ? [letter.subscriptionId] : [],
      ),
    );
    const deadLettersByClass: Record<string, number> = {};
    for (const letter of deadLetters) {
      const key = letter.reason.failureClass ?? 'no reason';
      deadLettersByClass[key] = (deadLettersByClass[key] ?? 0) + 1;
    }
    const sweep =
      options.droppedShare > 0 && zuora && ledgerDb
        ? await sweepForDroppedCallouts({
            runtime,
            zuora,
            ledgerDb,
            dropped,
            calloutsNamedUpdatedDate: options.calloutsNameUpdatedDate,
            lastSyncedAt,
            log,
            timeoutMs: options.drainTimeoutMs,
          })
        : undefined;
    const synced = [...lastAcceptedAt]
      .filter(([id, acceptedAt]) => (lastSyncedAt.get(id) ?? -1) >= acceptedAt)
      .map(([id]) => id);
    const syncedSet = new Set(synced);
    const lost = [...lastAcceptedAt.keys()].filter((id) => !syncedSet.has(id) && !deadLettered.has(id));
    return {
      options,
      callouts: sent.length,
      calloutsAccepted: sent.filter((callout) => callout.status === 200).length,
      calloutsRefused: sent.filter((callout) => callout.status !== 200).length,
      acceptedSubscriptions: lastAcceptedAt.size,
      synced: synced.length,
      deadLettered: [...deadLettered].filter((id) => !syncedSet.has(id)).length,
      deadLettersByClass,
      deadLettersWithoutReason: deadLetters.filter((letter) => letter.reason.failureClass === undefined).length,
      lost,
      drained,
      drainSeconds,
      limioCalls: sandbox.stats.syncCalls,
      tokenRequests: sandbox.stats.tokenRequests,
      maxInFlight: sandbox.stats.maxInFlight,
      clientMaxInFlight: tally.clientMaxInFlight,
      concurrencyCap: options.syncConcurrency,
      deployedConcurrencyBound: options.syncConcurrency * options.pollers,
      answersByStatus,
      overCap: overCap.snapshot(),
      unanswered: sandbox.stats.syncCalls - Object.values(answersByStatus).reduce((sum, count) => sum + count, 0),
      retries: tally.retries,
      workerKills: faults.workerKills,
      killedMidBatch: faults.killedMidBatch,
      workerStarts,
      tokensRevoked: faults.tokensRevoked,
      ledgerAnswered: tally.ledgerAnswered,
      ledgerUnanswered: tally.ledgerUnanswered,
      ledgerStopped: faults.ledgerStopped,
      syncedAfterLedgerStopped: syncedAfterLedgerStopped.size,
      ...(sweep && { sweep }),
    };
  } finally {
    for (const { child, exited } of workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
    await runtime.stop();
    await ledgerRoute?.stop();
    ledgerDb?.destroy();
    await zuora?.stop();
  }
}
