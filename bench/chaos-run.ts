import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { loadRuntimeConfig } from '../local/config';
import { startRuntime, type Runtime } from '../local/runtime';
import { queueDepth } from '../local/queue-depth';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { sleep } from './figures';
import { authorizationFor, burstOf, readDeadLetters, sendCallouts, subscriptionNumbers, waitUntil, type DeadLetter } from './pipeline';
import type { WorkerLine } from './sync-worker';

/**
 * The local pipeline under faults: the callout side in the local runtime, the sync worker in its own process
 * (bench/sync-worker.ts, the production sync handler behind the local poller) so it can be killed with SIGKILL
 * in the middle of a batch and started again, and the Limio sandbox injecting 502s, 429s and hangs, with a
 * token revocation part-way through. The verdict is taken from the outside: the sandbox's own record of what
 * it synced and how many calls it had in flight, and the dead-letter queue's messages and their reasons.
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
  visibilityTimeoutSeconds: 8,
  functionTimeoutSeconds: 4,
  backoffBaseSeconds: 1,
  backoffMaxSeconds: 2,
  maxAttempts: 8,
  revokeAt: 0.25,
  killAt: 0.5,
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
}

interface Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

const WORKER_SCRIPT = path.join(__dirname, 'sync-worker.ts');
const PROJECT_ROOT = path.resolve(__dirname, '..');

export async function runChaos(overrides: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const options: ChaosOptions = { ...CHAOS_DEFAULTS, ...overrides };
  const log = options.log ?? (() => undefined);
  const env: Record<string, string> = {
    PORT: '0',
    SQS_PORT: '0',
    LIMIO_SANDBOX_PORT: '0',
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
  const workers: Worker[] = [];
  const answersByStatus: Record<string, number> = {};
  let retries = 0;
  let workerStarts = 0;
  let workerKills = 0;
  let tokensRevoked = false;
  let killedMidBatch = false;
  let clientMaxInFlight = 0;
  try {
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

    const ids = burstOf(subscriptionNumbers(options.subscriptions), options.calloutsPerSubscription, 11);
    const started = performance.now();
    const lastAcceptedAt = new Map<string, number>();
    const sending = sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), ids, {
      parallel: 16,
      onAnswer: (callout) => {
        if (callout.status === 200) lastAcceptedAt.set(callout.subscriptionId, Math.max(lastAcceptedAt.get(callout.subscriptionId) ?? 0, callout.answeredAt));
      },
    });

    // The two faults that are events rather than rates, each at its share of the work done.
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
    };
  } finally {
    for (const { child, exited } of workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
    await runtime.stop();
  }
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
