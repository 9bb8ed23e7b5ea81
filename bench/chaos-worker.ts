import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULTS } from '../functions/shared/defaults';
import type { Runtime } from '../local/runtime';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { LEDGER_TABLE, type ChaosOptions } from './chaos-options';
import type { WorkerLine } from './sync-worker';

/**
 * The chaos run's sync worker (bench/sync-worker.ts) as a child process, so it can be killed with SIGKILL in the
 * middle of a batch and started again. What it reports on stdout is tallied here; the run's verdict does not
 * trust it, but the tally says whether the limiter held and whether the ledger was in use.
 */
export interface SyncWorker {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
}

/** Counted from the lines of every worker the run started, restarts included. */
export interface WorkerTally {
  retries: number;
  clientMaxInFlight: number;
  ledgerAnswered: number;
  ledgerUnanswered: number;
}

const WORKER_SCRIPT = path.join(__dirname, 'sync-worker.ts');
const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * What every sync worker of a runtime gets: the runtime's handler settings, its queues and Limio, and the AWS SDK
 * pointed at its SQS emulator, with metrics and the SDK's Node notice off.
 */
/** The long-poll wait of a runtime whose sync poller a run replaces with its own (startRuntime's syncPollWaitSeconds). */
export const REPLACED_POLLER_WAIT_SECONDS = 1;

/**
 * How long the runtime's poller may take to stop: the invocation under way ends within the sync function's
 * timeout (the poller's own), then its deletes; beyond that something is stuck, and the run would go on beside it.
 */
const RUNTIME_POLLER_STOP_TIMEOUT_MS = (DEFAULTS.syncFunctionTimeoutSeconds + 10) * 1000;

/**
 * Stops the runtime's in-process sync poller, then waits out the receives it had under way: the emulator keeps
 * an aborted long poll open until its wait ends, and a message it hands to one is hidden for the visibility
 * timeout from a poller that will never see it (a lost run's last message, 180 s later). The runtime must have
 * been started with syncPollWaitSeconds: REPLACED_POLLER_WAIT_SECONDS. A poller that has not stopped within
 * `timeoutMs` fails the run: its invocations would compete with the run's own and spoil its figures.
 */
export async function stopRuntimePoller(
  runtime: Pick<Runtime, 'poller'>,
  timeoutMs = RUNTIME_POLLER_STOP_TIMEOUT_MS,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(`the runtime's sync poller did not stop within ${timeoutMs} ms: an invocation is still under way`),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([runtime.poller.stop(), timedOut]);
  } finally {
    clearTimeout(timer);
  }
  await new Promise((resolve) => setTimeout(resolve, REPLACED_POLLER_WAIT_SECONDS * 1000 + 500));
}

export function runtimeSyncEnv(runtime: Runtime): Record<string, string> {
  const sandbox = runtime.limioSandbox!;
  return {
    PATH: process.env.PATH ?? '',
    ...runtime.config.handlerEnv,
    QUEUE_URL: runtime.queues.mainQueueUrl,
    DLQ_URL: runtime.queues.deadLetterQueueUrl,
    LIMIO_BASE_URL: runtime.limioBaseUrl,
    LIMIO_CLIENT_ID: sandbox.clientId,
    LIMIO_CLIENT_SECRET: sandbox.clientSecret,
    AWS_ENDPOINT_URL_SQS: runtime.sqsEndpoint,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
    POWERTOOLS_METRICS_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * The sync Lambda's environment for the chaos run's worker: the runtime's (runtimeSyncEnv), the run's pollers and
 * timeout, and the ledger only when the run keeps one (reached through `ledgerEndpoint`).
 */
export function syncWorkerEnv(
  runtime: Runtime,
  options: ChaosOptions,
  ledgerEndpoint: string | undefined,
): Record<string, string> {
  const workerEnv: Record<string, string> = {
    ...runtimeSyncEnv(runtime),
    SYNC_POLLERS: String(options.pollers),
    SYNC_FUNCTION_TIMEOUT_SECONDS: String(options.functionTimeoutSeconds),
  };
  delete workerEnv.LEDGER_TABLE_NAME;
  if (ledgerEndpoint !== undefined) {
    Object.assign(workerEnv, {
      LEDGER_TABLE_NAME: LEDGER_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: ledgerEndpoint,
      SYNC_COOLDOWN_SECONDS: String(options.cooldownSeconds),
      SYNC_WORKER_LEDGER_LINES: 'true',
    });
  }
  return workerEnv;
}

export function emptyTally(): WorkerTally {
  return { retries: 0, clientMaxInFlight: 0, ledgerAnswered: 0, ledgerUnanswered: 0 };
}

/** Starts a worker and resolves once it says it is ready; rejects with its stderr if it exits first. */
export async function startSyncWorker(
  env: Record<string, string>,
  tally: WorkerTally,
  onLine?: (line: WorkerLine) => void,
): Promise<SyncWorker> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      onLine?.(line);
      if (line.kind === 'ready') resolve();
      if (line.kind === 'outcome' && line.outcome === 'retry') tally.retries++;
      if (line.kind === 'in-flight') tally.clientMaxInFlight = Math.max(tally.clientMaxInFlight, line.maxInFlight ?? 0);
      if (line.kind === 'ledger' && line.answered) tally.ledgerAnswered++;
      if (line.kind === 'ledger' && !line.answered) tally.ledgerUnanswered++;
    });
    exited.then(
      () => reject(new Error(`sync worker exited before it was ready: ${stderr.trim().slice(0, 500)}`)),
      reject,
    );
  });
  await ready;
  return { child, exited };
}
