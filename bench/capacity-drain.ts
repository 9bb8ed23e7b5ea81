import { SetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { loadRuntimeConfig } from '../local/config';
import { startRuntime, type Runtime } from '../local/runtime';
import { queueDepth } from '../local/queue-depth';
import { PROBE_PERIOD_MS } from '../functions/sync/adaptive-limit';
import { emptyTally, runtimeSyncEnv, startSyncWorker, type SyncWorker } from './chaos-worker';
import { authorizationFor, EPHEMERAL_PORTS, sendCallouts, subscriptionNumbers, waitUntil } from './pipeline';

/**
 * A queued backlog drained by the sync side (1..n processes of bench/sync-worker.ts, each a container with its
 * own limit) against one Limio sandbox whose capacity is hidden (local/limio-capacity.ts), issue #21. The
 * backlog is queued before any worker starts, so the drain begins with a full queue as after a bill run. What
 * Limio saw is taken at the sandbox: every answer with its latency, and its calls in flight sampled over time.
 *
 * A container grows its limit only once its first probe (seconds 0 to 4 of a wall-clock minute) has measured
 * Limio's unloaded latency; `startAtSecond` starts the workers at that second of the minute, so every run meets
 * its first probe at the same point, and `steadyFromMs` says when that probe ended.
 */
export interface CapacityDrainOptions {
  readonly subscriptions: number;
  /** Sync worker processes, each its own container with its own limit. */
  readonly workers: number;
  /** Concurrent invocations per worker (the local poller's SYNC_POLLERS). */
  readonly pollersPerWorker: number;
  /** LIMIO_SANDBOX_CAPACITY; undefined = unlimited. */
  readonly capacity: number | undefined;
  readonly latencyMs: number;
  /** SYNC_CONCURRENCY: the fixed cap, or the adaptive limit's ceiling. */
  readonly syncConcurrency: number;
  readonly adaptive: boolean;
  /** Wall-clock second of the minute at which the workers start; undefined = at once. */
  readonly startAtSecond?: number;
  /** Capacity changes, each this long after the first probe ended (with startAtSecond) or after the start. */
  readonly steps?: readonly { readonly afterSteadyMs: number; readonly capacity: number }[];
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
}

interface LimioAnswer {
  /** ms since the workers started. */
  readonly atMs: number;
  readonly status: number;
  readonly latencyMs: number;
  readonly subscriptionId: string;
}

export interface CapacityDrainResult {
  readonly options: CapacityDrainOptions;
  /** Every subscription synced within timeoutMs. */
  readonly drained: boolean;
  /** From the workers' start to the last subscription's first success (to the timeout when not drained). */
  readonly drainMs: number;
  readonly synced: number;
  readonly limioCalls: number;
  readonly overloadRefused: number;
  readonly answers: readonly LimioAnswer[];
  /** Calls in flight at the sandbox, every SAMPLE_MS. */
  readonly inFlight: readonly { readonly atMs: number; readonly calls: number }[];
  /** When the workers' first probe ended (ms since start): the limit can grow from then on. */
  readonly steadyFromMs: number;
  /** When each step happened (ms since start). */
  readonly stepsAtMs: readonly number[];
  readonly maxInFlight: number;
  /** Subscriptions not synced when the run ended. */
  readonly lost: number;
  /** Messages on the queue (any state) once every subscription was synced, after 3 s to settle. */
  readonly leftOnQueue: number;
}

const SAMPLE_MS = 100;
/**
 * The chaos run's timeouts (bench/chaos-options.ts), not the deployed 30 s and 180 s: with a dozen processes on
 * two cores, a receive the emulator answered but the client gave up on leaves its messages invisible until the
 * visibility timeout, and 180 s of that would measure the timeout, not the limit.
 */
const VISIBILITY_TIMEOUT_SECONDS = 10;
const FUNCTION_TIMEOUT_SECONDS = 8;
const LIMIO_TIMEOUT_MS = 2_000;
/** The probe of a Limio answering in under a second lasts PROBE_MIN_MS (adaptive-limit.ts). */
const PROBE_LENGTH_MS = 4_000;

function runtimeEnv(options: CapacityDrainOptions): Record<string, string> {
  return {
    ...EPHEMERAL_PORTS,
    SYNC_POLLERS: '1',
    LIMIO_SANDBOX_LATENCY_MS: String(options.latencyMs),
    ...(options.capacity !== undefined && { LIMIO_SANDBOX_CAPACITY: String(options.capacity) }),
    // Overload answers come back quickly under a cut limit: a short backoff keeps them from idling the drain.
    BACKOFF_BASE_SECONDS: '1',
    BACKOFF_MAX_SECONDS: '2',
  };
}

async function untilSecondOfMinute(second: number): Promise<void> {
  const now = Date.now();
  const intoMinute = now % PROBE_PERIOD_MS;
  const waitMs = (second * 1000 - intoMinute + PROBE_PERIOD_MS) % PROBE_PERIOD_MS;
  await new Promise((resolve) => setTimeout(resolve, waitMs));
}

/** The runtime and its queued backlog, ready for workers. */
export async function prepareCapacityDrain(
  options: CapacityDrainOptions,
): Promise<{ runtime: Runtime; ids: string[] }> {
  const runtime = await startRuntime({ config: loadRuntimeConfig(runtimeEnv(options)), quiet: true });
  await runtime.poller.stop();
  await runtime.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: runtime.queues.mainQueueUrl,
      Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
    }),
  );
  const ids = subscriptionNumbers(options.subscriptions);
  const sent = await sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), ids, { parallel: 32 });
  const refused = sent.filter((callout) => callout.status !== 200).length;
  if (refused > 0) throw new Error(`${refused} of ${sent.length} callouts refused while queueing the backlog`);
  return { runtime, ids };
}

export async function runCapacityDrain(
  options: CapacityDrainOptions,
  prepared?: { runtime: Runtime; ids: string[] },
): Promise<CapacityDrainResult> {
  const { runtime, ids } = prepared ?? (await prepareCapacityDrain(options));
  const sandbox = runtime.limioSandbox!;
  const workers: SyncWorker[] = [];
  let sampler: NodeJS.Timeout | undefined;
  const stepTimers: NodeJS.Timeout[] = [];
  try {
    const env = {
      ...runtimeSyncEnv(runtime),
      SYNC_POLLERS: String(options.pollersPerWorker),
      SYNC_CONCURRENCY: String(options.syncConcurrency),
      SYNC_ADAPTIVE: String(options.adaptive),
      SYNC_FUNCTION_TIMEOUT_SECONDS: String(FUNCTION_TIMEOUT_SECONDS),
      LIMIO_TIMEOUT_MS: String(LIMIO_TIMEOUT_MS),
    };
    if (options.startAtSecond !== undefined) await untilSecondOfMinute(options.startAtSecond);
    const started = performance.now();
    const startedEpoch = Date.now();
    const answers: LimioAnswer[] = [];
    const firstSyncedAt = new Map<string, number>();
    sandbox.onSync = ({ subscriptionId, status, latencyMs }) => {
      const atMs = performance.now() - started;
      answers.push({ atMs, status, latencyMs, subscriptionId });
      if (status === 200 && !firstSyncedAt.has(subscriptionId)) firstSyncedAt.set(subscriptionId, atMs);
    };
    const inFlight: { atMs: number; calls: number }[] = [];
    sampler = setInterval(
      () => inFlight.push({ atMs: performance.now() - started, calls: sandbox.stats.inFlight }),
      SAMPLE_MS,
    );
    // Started together, as Lambda scales out on a full queue; each reports ready once its poller runs.
    const tally = emptyTally();
    workers.push(...(await Promise.all(Array.from({ length: options.workers }, () => startSyncWorker(env, tally)))));
    const nextProbeEnd = Math.ceil(startedEpoch / PROBE_PERIOD_MS) * PROBE_PERIOD_MS + PROBE_LENGTH_MS;
    const steadyFromMs = options.adaptive ? nextProbeEnd - startedEpoch : 0;
    const stepsAtMs: number[] = [];
    for (const step of options.steps ?? []) {
      const stepBaseMs = options.startAtSecond === undefined ? 0 : steadyFromMs;
      const delay = stepBaseMs + step.afterSteadyMs - (performance.now() - started);
      stepTimers.push(
        setTimeout(
          () => {
            sandbox.setCapacity(step.capacity);
            stepsAtMs.push(performance.now() - started);
            options.log?.(`capacity now ${step.capacity}`);
          },
          Math.max(0, delay),
        ),
      );
    }
    const drained = await waitUntil(() => firstSyncedAt.size === ids.length, options.timeoutMs, 100);
    const drainMs = drained ? Math.max(0, ...firstSyncedAt.values()) : performance.now() - started;
    // Messages still held once every subscription is synced: a second sync's worth, not a lost one.
    await waitUntil(
      async () => (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
      drained ? 3_000 : 0,
      250,
    );
    const leftOnQueue = await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl);
    return {
      options,
      drained,
      drainMs,
      synced: firstSyncedAt.size,
      limioCalls: sandbox.stats.syncCalls,
      overloadRefused: sandbox.stats.overloadRefused,
      answers,
      inFlight,
      steadyFromMs,
      stepsAtMs,
      maxInFlight: sandbox.stats.maxInFlight,
      lost: ids.filter((id) => !firstSyncedAt.has(id)).length,
      leftOnQueue,
    };
  } finally {
    if (sampler) clearInterval(sampler);
    for (const timer of stepTimers) clearTimeout(timer);
    for (const { child, exited } of workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    }
    await runtime.stop();
  }
}
