import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { LEDGER_PARTITION_KEY } from '../functions/ledger/dynamodb-ledger-store';
import { createSweepLambda, loadSweepLambdaConfig, SWEEP_METRICS } from '../functions/sweep/lambda-sweep';
import type { SweepReport } from '../functions/sweep/sweep';
import { METRICS_NAMESPACE } from '../functions/sync/telemetry';
import { loadRuntimeConfig } from '../local/config';
import { createOnDemandTable, startDynamoDbEmulator, type DynamoDbEmulator } from '../local/dynamodb-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../local/zuora-sandbox';
import { startRuntime, type Runtime } from '../local/runtime';
import { queueDepth } from '../local/queue-depth';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { startCuttableProxy, type CuttableProxy } from './cuttable-proxy';
import { sleep } from './figures';
import { authorizationFor, burstOf, readDeadLetters, sendCallouts, subscriptionNumbers, waitUntil, type DeadLetter } from './pipeline';
import type { WorkerLine } from './sync-worker';

/**
 * The local pipeline under faults: the callout side in the local runtime, the sync worker in its own process
 * (bench/sync-worker.ts, the production sync handler behind the local poller) so it can be killed with SIGKILL
 * in the middle of a batch and started again, and the Limio sandbox injecting 502s, 429s and hangs, with a
 * token revocation part-way through. The verdict is taken from the outside: the sandbox's own record of what
 * it synced and how many calls it had in flight, and the dead-letter queue's messages and their reasons.
 *
 * With `ledger` the worker keeps the sync ledger (issue #13) in a DynamoDB emulator of its own, found through
 * LEDGER_TABLE_NAME and AWS_ENDPOINT_URL_DYNAMODB as in Lambda; `ledgerOutageAt` stops that emulator part-way,
 * so the rest of the run meets an unreachable table (the handler must fail open). With `droppedShare` (issue #14)
 * every subscription is changed in a Zuora sandbox but that share of them gets no callout at all, as if Zuora
 * never sent it; once the callouts are synced, the sweep Lambda (createSweepLambda, its metrics recorded) runs
 * once over the window and must queue exactly those, each then synced, and cost the others no Limio call.
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
  /** The worker keeps the sync ledger (LEDGER_TABLE_NAME) in a DynamoDB emulator of the run's own. */
  readonly ledger: boolean;
  /** SYNC_COOLDOWN_SECONDS of the worker's sync handler (the sync Lambda's default is 5). */
  readonly cooldownSeconds: number;
  /** Share of subscriptions synced when the ledger's DynamoDB stops answering (the emulator is stopped); undefined = never. */
  readonly ledgerOutageAt: number | undefined;
  /** 0..1: share of the subscriptions changed in Zuora whose callouts never arrive; the sweep must find them. */
  readonly droppedShare: number;
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

export interface CalloutsLostResult {
  /** Subscriptions changed in Zuora without any callout. */
  readonly dropped: number;
  /** Changed with their callouts. */
  readonly withCallouts: number;
  readonly report: SweepReport;
  /** sweepQueued and sweepCovered as the sweep Lambda published them (EMF). */
  readonly queuedMetric: number | undefined;
  readonly coveredMetric: number | undefined;
  /** Dropped subscriptions Limio synced after the sweep ran. */
  readonly droppedSynced: number;
  /** Dropped subscriptions not synced after the sweep (up to 5 named). */
  readonly droppedNotSynced: readonly string[];
  /** Limio calls after the sweep for subscriptions whose callouts had arrived: must be 0. */
  readonly secondCallsForCalledOut: number;
  readonly drainedAfterSweep: boolean;
  readonly sweepDrainSeconds: number;
}

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

const WORKER_SCRIPT = path.join(__dirname, 'sync-worker.ts');
/** The ledger table's name, as npm start and the CLI's --local name it. */
const LEDGER_TABLE = 'zuora-limio-sync-ledger';
/** How long before its callout each change is made in Zuora (more than the sweep's 2 s coverage margin). */
const CHANGE_BEFORE_CALLOUT_MS = 5_000;
const PROJECT_ROOT = path.resolve(__dirname, '..');

export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const options: ChaosOptions = { ...CHAOS_DEFAULTS, ...overrides };
  if (options.droppedShare > 0 && !options.ledger) throw new Error('the sweep tells a missed change from a synced one by the ledger: droppedShare needs ledger');
  const log = options.log ?? (() => undefined);
  const env: Record<string, string> = {
    PORT: '0',
    SQS_PORT: '0',
    LIMIO_SANDBOX_PORT: '0',
    DYNAMODB_PORT: '0',
    ZUORA_SANDBOX_PORT: '0',
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
  };
  const runtime: Runtime = await startRuntime({ config: loadRuntimeConfig(env), quiet: true });
  let ledgerDb: DynamoDbEmulator | undefined;
  /** The worker reaches the ledger's DynamoDB through this, so it can become unreachable mid-run. */
  let ledgerRoute: CuttableProxy | undefined;
  let zuora: ZuoraSandbox | undefined;
  const workers: Worker[] = [];
  const answersByStatus: Record<string, number> = {};
  let retries = 0;
  let workerStarts = 0;
  let workerKills = 0;
  let tokensRevoked = false;
  let killedMidBatch = false;
  let clientMaxInFlight = 0;
  let ledgerAnswered = 0;
  let ledgerUnanswered = 0;
  let ledgerStopped = false;
  const syncedAfterLedgerStopped = new Set<string>();
  try {
    if (options.ledger) {
      ledgerDb = await startDynamoDbEmulator();
      await createOnDemandTable(ledgerDb.client(), { tableName: LEDGER_TABLE, partitionKey: LEDGER_PARTITION_KEY });
      ledgerRoute = await startCuttableProxy(ledgerDb.port);
    }
    // The runtime's in-process poller cannot be killed mid-batch; the worker process takes its place.
    await runtime.poller.stop();
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
      if (status === 200 && ledgerStopped) syncedAfterLedgerStopped.add(subscriptionId);
    };

    const workerEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      ...runtime.config.handlerEnv,
      QUEUE_URL: runtime.queues.mainQueueUrl,
      DLQ_URL: runtime.queues.deadLetterQueueUrl,
      LIMIO_BASE_URL: runtime.limioBaseUrl,
      LIMIO_CLIENT_ID: sandbox.clientId,
      LIMIO_CLIENT_SECRET: sandbox.clientSecret,
      SYNC_POLLERS: String(options.pollers),
      SYNC_FUNCTION_TIMEOUT_SECONDS: String(options.functionTimeoutSeconds),
      AWS_ENDPOINT_URL_SQS: runtime.sqsEndpoint,
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    delete workerEnv.LEDGER_TABLE_NAME;
    if (ledgerRoute) {
      Object.assign(workerEnv, { LEDGER_TABLE_NAME: LEDGER_TABLE, AWS_ENDPOINT_URL_DYNAMODB: ledgerRoute.endpoint, SYNC_COOLDOWN_SECONDS: String(options.cooldownSeconds) });
    }
    const startWorker = async (): Promise<Worker> => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], { cwd: PROJECT_ROOT, env: workerEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = once(child, 'exit');
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const ready = new Promise<void>((resolve, reject) => {
        createInterface({ input: child.stdout! }).on('line', (text) => {
          let line: WorkerLine;
          try {
            line = JSON.parse(text) as WorkerLine;
          } catch {
            return;
          }
          if (line.kind === 'ready') resolve();
          if (line.kind === 'outcome' && line.outcome === 'retry') retries++;
          if (line.kind === 'in-flight') clientMaxInFlight = Math.max(clientMaxInFlight, line.maxInFlight ?? 0);
          if (line.kind === 'ledger' && line.answered) ledgerAnswered++;
          if (line.kind === 'ledger' && !line.answered) ledgerUnanswered++;
        });
        exited.then(() => reject(new Error(`sync worker exited before it was ready: ${stderr.trim().slice(0, 500)}`)), reject);
      });
      await ready;
      workerStarts++;
      const worker = { child, exited };
      workers.push(worker);
      return worker;
    };

    let worker = await startWorker();
    log(`worker started (pid ${worker.child.pid}); sending callouts`);

    const subscriptions = subscriptionNumbers(options.subscriptions);
    // Every (1 / droppedShare)th subscription changes in Zuora without a callout; the others get theirs.
    const dropped = new Set(subscriptions.filter((_, index) => Math.floor((index + 1) * options.droppedShare) > Math.floor(index * options.droppedShare)));
    if (options.droppedShare > 0) {
      zuora = await startZuoraSandbox();
      const changedAt = Date.now() - CHANGE_BEFORE_CALLOUT_MS;
      for (const id of subscriptions) zuora.touch(id, changedAt);
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
      onAnswer: (callout) => {
        if (callout.status === 200) lastAcceptedAt.set(callout.subscriptionId, Math.max(lastAcceptedAt.get(callout.subscriptionId) ?? 0, callout.answeredAt));
      },
    });

    // The two faults that are events rather than rates, each at its share of the work done.
    const ledgerOutage = (async () => {
      if (options.ledgerOutageAt === undefined || !ledgerRoute) return;
      const outageAt = options.ledgerOutageAt;
      await waitUntil(() => sandbox.stats.synced.size >= options.subscriptions * outageAt, options.drainTimeoutMs, 20);
      // Connections refused from now on, and those open cut: the table is unreachable for the rest of the run.
      await ledgerRoute.cut();
      ledgerStopped = true;
      log(`ledger's DynamoDB cut off after ${sandbox.stats.synced.size} subscriptions synced (${ledgerAnswered} ledger requests answered so far)`);
    })();
    const events = (async () => {
      if (options.revokeAt !== undefined) {
        const revokeAt = options.revokeAt;
        await waitUntil(() => sandbox.stats.synced.size >= options.subscriptions * revokeAt, options.drainTimeoutMs, 20);
        sandbox.revokeTokens();
        tokensRevoked = true;
        log(`tokens revoked after ${sandbox.stats.synced.size} subscriptions synced`);
      }
      if (options.killAt !== undefined) {
        const killAt = options.killAt;
        await waitUntil(() => sandbox.stats.synced.size >= options.subscriptions * killAt, options.drainTimeoutMs, 20);
        // Mid-batch: a Limio call is in flight, so the worker holds received, unfinished messages. A run with
        // nothing left in flight (a tiny one) is killed anyway rather than never.
        await waitUntil(() => sandbox.stats.inFlight > 0, 10_000, 2);
        const inFlight = sandbox.stats.inFlight;
        worker.child.kill('SIGKILL');
        await worker.exited;
        workerKills++;
        killedMidBatch = inFlight > 0;
        log(`worker killed with SIGKILL ${killedMidBatch ? `mid-batch (${inFlight} Limio calls in flight` : '(between batches'}, ${sandbox.stats.synced.size} synced); restarting`);
        await sleep(500);
        worker = await startWorker();
        log(`worker restarted (pid ${worker.child.pid})`);
      }
    })();

    const sent = await sending;
    log(`${sent.length} callouts answered in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await events;
    await ledgerOutage;
    const drained = await waitUntil(async () => (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0, options.drainTimeoutMs, 250);
    const drainSeconds = (performance.now() - started) / 1000;
    log(drained ? `backlog drained ${drainSeconds.toFixed(1)} s after the first callout` : 'backlog did NOT drain in time');

    const deadLetters: DeadLetter[] = await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl);
    const deadLettered = new Set(deadLetters.flatMap((letter) => (letter.subscriptionId !== undefined && letter.reason.failureClass !== undefined ? [letter.subscriptionId] : [])));
    const deadLettersByClass: Record<string, number> = {};
    for (const letter of deadLetters) {
      const key = letter.reason.failureClass ?? 'no reason';
      deadLettersByClass[key] = (deadLettersByClass[key] ?? 0) + 1;
    }
    const sweep =
      options.droppedShare > 0 && zuora && ledgerDb
        ? await sweepForDroppedCallouts({ runtime, zuora, ledgerDb, dropped, lastSyncedAt, log, timeoutMs: options.drainTimeoutMs })
        : undefined;
    const synced = [...lastAcceptedAt].filter(([id, acceptedAt]) => (lastSyncedAt.get(id) ?? -1) >= acceptedAt).map(([id]) => id);
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
      clientMaxInFlight,
      concurrencyCap: options.syncConcurrency,
      deployedConcurrencyBound: options.syncConcurrency * options.pollers,
      answersByStatus,
      overCap: overCap.snapshot(),
      unanswered: sandbox.stats.syncCalls - Object.values(answersByStatus).reduce((sum, count) => sum + count, 0),
      retries,
      workerKills,
      killedMidBatch,
      workerStarts,
      tokensRevoked,
      ledgerAnswered,
      ledgerUnanswered,
      ledgerStopped,
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
    await ledgerDb?.stop();
    await zuora?.stop();
  }
}

/** Powertools Metrics whose output is kept instead of printed: the EMF documents the sweep Lambda would publish. */
class RecordingMetrics extends Metrics {
  readonly published: Record<string, unknown>[] = [];

  override publishStoredMetrics(): this {
    this.published.push(this.serializeMetrics() as Record<string, unknown>);
    this.clearMetrics();
    return this;
  }
}

interface SweepForDroppedCallouts {
  readonly runtime: Runtime;
  readonly zuora: ZuoraSandbox;
  readonly ledgerDb: DynamoDbEmulator;
  readonly dropped: ReadonlySet<string>;
  /** Updated by the Limio sandbox's observer as syncs succeed (performance.now()). */
  readonly lastSyncedAt: ReadonlyMap<string, number>;
  readonly log: (line: string) => void;
  readonly timeoutMs: number;
}

/**
 * One scheduled run of the sweep Lambda as deployed (createSweepLambda: its ledger and watermark in the ledger
 * table, queueing on the main queue), settle 0 because the changes are already seconds old, then the backlog
 * it queued drained by the worker.
 */
async function sweepForDroppedCallouts({ runtime, zuora, ledgerDb, dropped, lastSyncedAt, log, timeoutMs }: SweepForDroppedCallouts): Promise<CalloutsLostResult> {
  const sandbox = runtime.limioSandbox!;
  const metrics = new RecordingMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'sweep' });
  const sweepLambda = createSweepLambda(
    loadSweepLambdaConfig({
      QUEUE_URL: runtime.queues.mainQueueUrl,
      LEDGER_TABLE_NAME: LEDGER_TABLE,
      ZUORA_BASE_URL: zuora.baseUrl,
      ZUORA_CLIENT_ID: zuora.clientId,
      ZUORA_CLIENT_SECRET: zuora.clientSecret,
      SWEEP_SETTLE_SECONDS: '0',
      SWEEP_INITIAL_LOOKBACK_SECONDS: '600',
    }),
    { sqs: runtime.sqs, dynamodb: ledgerDb.client(), metrics, logger: new Logger({ serviceName: 'sweep', logLevel: 'SILENT' }) },
  );
  const callsBefore = new Map(sandbox.stats.syncCallsById);
  const sweepAt = performance.now();
  const report = await sweepLambda({}, { getRemainingTimeInMillis: () => 300_000 });
  log(`sweep: read ${report.counts.read}, covered ${report.counts.covered}, queued ${report.counts.queued} (${dropped.size} changes had no callout)`);
  const syncedSinceSweep = (id: string) => (lastSyncedAt.get(id) ?? -1) >= sweepAt;
  const drainedAfterSweep = await waitUntil(
    async () => [...dropped].every(syncedSinceSweep) && (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
    timeoutMs,
    250,
  );
  const sweepDrainSeconds = (performance.now() - sweepAt) / 1000;
  const published = metrics.published.at(-1) ?? {};
  const metric = (name: string) => (typeof published[name] === 'number' ? (published[name] as number) : undefined);
  let secondCallsForCalledOut = 0;
  for (const [id, calls] of sandbox.stats.syncCallsById) {
    if (!dropped.has(id)) secondCallsForCalledOut += calls - (callsBefore.get(id) ?? 0);
  }
  const droppedNotSynced = [...dropped].filter((id) => !syncedSinceSweep(id));
  return {
    dropped: dropped.size,
    withCallouts: zuora.versions().length - dropped.size,
    report,
    queuedMetric: metric(SWEEP_METRICS.queued),
    coveredMetric: metric(SWEEP_METRICS.covered),
    droppedSynced: dropped.size - droppedNotSynced.length,
    droppedNotSynced: droppedNotSynced.slice(0, 5),
    secondCallsForCalledOut,
    drainedAfterSweep,
    sweepDrainSeconds,
  };
}

export interface OverCap {
  readonly episodes: number;
  readonly totalMs: number;
  readonly longestMs: number;
}

/**
 * Times every stretch during which the sandbox had more sync calls open than the cap. The sandbox counts a
 * call until its connection closes; a call the client abandoned at LIMIO_TIMEOUT_MS is still counted until
 * the client's close reaches the server, which can come after the client's next call on another connection.
 * Reported, not judged: the worker's own count (clientMaxInFlight) says whether the limiter held.
 */
export function watchOverCap(stats: { inFlight: number }, cap: number): { snapshot(): OverCap } {
  let current = stats.inFlight;
  let overSince = 0;
  let episodes = 0;
  let totalMs = 0;
  let longestMs = 0;
  Object.defineProperty(stats, 'inFlight', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (next: number) => {
      if (next > cap && current <= cap) overSince = performance.now();
      if (next <= cap && current > cap) {
        const lasted = performance.now() - overSince;
        episodes++;
        totalMs += lasted;
        longestMs = Math.max(longestMs, lasted);
      }
      current = next;
    },
  });
  return {
    snapshot: () => {
      const ongoing = current > cap ? performance.now() - overSince : 0;
      return { episodes: episodes + (ongoing > 0 ? 1 : 0), totalMs: totalMs + ongoing, longestMs: Math.max(longestMs, ongoing) };
    },
  };
}
