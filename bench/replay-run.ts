import { Readable } from 'node:stream';
import { listDeadLetters, type DeadLetterRow } from '../cli/commands/dlq-list';
import type { ReplayResult } from '../cli/commands/replay-types';
import { runCli } from '../cli/main';
import { loadRuntimeConfig } from '../local/config';
import { queueDepth } from '../local/queue-depth';
import { startRuntime } from '../local/runtime';
import { OUTAGE_ENV } from './outage-run';
import { authorizationFor, burstOf, sendCallouts, subscriptionNumbers, waitUntil } from './pipeline';

/**
 * Issue #12's "replay while the subscription still fails", on `npm start`'s runtime: some subscriptions answer
 * 404 for good, their callouts end on the DLQ as terminal, and the operator replays the DLQ with the CLI
 * (`zuora-limio-sync dlq replay --local --watch …`, in this process). The replay used to receive each letter's
 * failed-again copy as a new letter and replay it for ever; now it must end, cost Limio at most one call per
 * letter, and leave every letter back on the DLQ with its reason.
 */
export interface ReplayWhileFailingOptions {
  /** Subscriptions Limio answers 404 for the whole run. */
  readonly failingSubscriptions: number;
  readonly calloutsPerSubscription: number;
  /** Healthy subscriptions in the same burst (they sync and are never dead-lettered). */
  readonly healthySubscriptions: number;
  /** --watch of the replay: how long it waits for the letters to fail again. */
  readonly watchSeconds: number;
  /** A replay still running after this long has not ended: the run stops the runtime and says so. */
  readonly replayTimeoutMs: number;
  readonly log?: (line: string) => void;
}

export const REPLAY_WHILE_FAILING_DEFAULTS: ReplayWhileFailingOptions = {
  failingSubscriptions: 20,
  calloutsPerSubscription: 2,
  healthySubscriptions: 50,
  watchSeconds: 30,
  replayTimeoutMs: 120_000,
};

export interface ReplayWhileFailingResult {
  readonly options: ReplayWhileFailingOptions;
  /** Letters on the DLQ when the replay started. */
  readonly lettersBefore: number;
  readonly replayEnded: boolean;
  readonly replaySeconds: number;
  readonly exitCode?: number;
  readonly replayed: number;
  /** Letters the replay itself reported as failed again (with --watch). */
  readonly failedAgainReported: number;
  /** Limio sync calls for the failing subscriptions from the replay's start to a second after it ended. */
  readonly limioCallsDuringReplay: number;
  /** The DLQ after the replay. */
  readonly lettersAfter: readonly DeadLetterRow[];
  readonly runId?: string;
}

const SETTLE_MS = 1_000;

export async function runReplayWhileFailing(
  overrides: Partial<ReplayWhileFailingOptions> = {},
): Promise<ReplayWhileFailingResult> {
  const options: ReplayWhileFailingOptions = { ...REPLAY_WHILE_FAILING_DEFAULTS, ...overrides };
  const log = options.log ?? (() => undefined);
  const runtime = await startRuntime({ config: loadRuntimeConfig({ ...OUTAGE_ENV }), quiet: true });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await runtime.stop();
  };
  try {
    const sandbox = runtime.limioSandbox!;
    const failing = subscriptionNumbers(options.failingSubscriptions, 'A-F');
    for (const id of failing) sandbox.respondWith(id, 404);
    const healthy = subscriptionNumbers(options.healthySubscriptions);
    const burst = burstOf([...failing, ...healthy], options.calloutsPerSubscription, 13);
    const sent = await sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), burst, {
      parallel: 8,
    });
    const failingAccepted = sent.filter(
      (callout) => callout.status === 200 && failing.includes(callout.subscriptionId),
    ).length;
    const reached = await waitUntil(
      async () =>
        (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0 &&
        (await queueDepth(runtime.sqs, runtime.queues.deadLetterQueueUrl)) >= failingAccepted,
      60_000,
      100,
    );
    const lettersBefore = await queueDepth(runtime.sqs, runtime.queues.deadLetterQueueUrl);
    log(
      `${lettersBefore} letters on the DLQ (${failingAccepted} callouts of ${failing.length} subscriptions answered 404)${reached ? '' : ' (not all arrived in time)'}; replaying`,
    );

    const callsToFailing = () => failing.reduce((sum, id) => sum + (sandbox.stats.syncCallsById.get(id) ?? 0), 0);
    const callsBefore = callsToFailing();
    const output: string[] = [];
    const io = {
      stdout: { write: (text: string) => output.push(text) },
      stderr: { write: () => true },
      stdin: Readable.from([]),
      // The ports a runtime started with PORT=0 / SQS_PORT=0 picked, given as an operator would.
      env: { SQS_PORT: new URL(runtime.sqsEndpoint).port, PORT: new URL(runtime.calloutUrl).port },
    };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const exitCode = await Promise.race([
      runCli(['dlq', 'replay', '--local', '--watch', `${options.watchSeconds}s`, '--json'], io),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), options.replayTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    const replaySeconds = (performance.now() - started) / 1000;
    const replayEnded = exitCode !== undefined;
    if (!replayEnded) {
      log(`the replay had not ended after ${options.replayTimeoutMs / 1000} s: stopping the runtime`);
      const callsDuringReplay = callsToFailing() - callsBefore;
      await stop();
      return {
        options,
        lettersBefore,
        replayEnded,
        replaySeconds,
        replayed: 0,
        failedAgainReported: 0,
        limioCallsDuringReplay: callsDuringReplay,
        lettersAfter: [],
      };
    }
    // Anything still going round would call Limio again within this second.
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const limioCallsDuringReplay = callsToFailing() - callsBefore;
    let result: ReplayResult | undefined;
    try {
      result = JSON.parse(output.join('')) as ReplayResult;
    } catch {
      log(`the replay printed no JSON: ${output.join('').slice(0, 300)}`);
    }
    const lettersAfter = (
      await listDeadLetters(runtime.sqs, {
        deadLetterQueueUrl: runtime.queues.deadLetterQueueUrl,
        limit: 100_000,
        waitTimeSeconds: 0,
      })
    ).deadLetters;
    log(
      `replay ended in ${replaySeconds.toFixed(1)} s (exit ${exitCode}): ${result?.replayed.length ?? '?'} replayed, ${result?.failedAgain.length ?? '?'} failed again; ${limioCallsDuringReplay} Limio calls; ${lettersAfter.length} letters on the DLQ after`,
    );
    return {
      options,
      lettersBefore,
      replayEnded,
      replaySeconds,
      exitCode,
      replayed: result?.replayed.length ?? 0,
      failedAgainReported: result?.failedAgain.length ?? 0,
      limioCallsDuringReplay,
      lettersAfter,
      ...(result?.runId !== undefined && { runId: result.runId }),
    };
  } finally {
    await stop();
  }
}
