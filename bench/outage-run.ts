import type { BreakerState } from '../functions/breaker/breaker-state';
import { loadRuntimeConfig } from '../local/config';
import { startRuntime, type Runtime } from '../local/runtime';
import { sleep } from './figures';
import {
  authorizationFor,
  EPHEMERAL_PORTS,
  readDeadLetters,
  sendCallouts,
  subscriptionNumbers,
  waitUntil,
  type DeadLetter,
} from './pipeline';

/**
 * Issue #9's outage mode under the chaos run, on `npm start`'s runtime as it is (its own poller, the circuit
 * breaker and sync ledger in its DynamoDB emulator, and the probe loop that pauses the poller), with hours
 * compressed into seconds by environment.
 */
export const OUTAGE_ENV = {
  ...EPHEMERAL_PORTS,
  SYNC_POLLERS: '2',
  SYNC_CONCURRENCY: '5',
  SYNC_BATCHING_WINDOW_SECONDS: '0',
  BACKOFF_BASE_SECONDS: '1',
  BACKOFF_MAX_SECONDS: '1',
  RETRY_BUDGET_SECONDS: '6',
  BREAKER_HOLD_SECONDS: '1',
  BREAKER_PROBE_INTERVAL_SECONDS: '1',
  BREAKER_WINDOW_SECONDS: '5',
  BREAKER_MIN_CALLS: '5',
  BREAKER_HALF_OPEN_SUCCESSES: '3',
  // The sandbox's faults hit syncs, not its token endpoint: the probe must sync something to see an outage.
  PROBE_SUBSCRIPTION_ID: 'A-S99999999',
} as const;

interface Recorded {
  readonly runtime: Runtime;
  readonly transitions: Array<{ at: number; to: string }>;
  readonly calls: Array<{ at: number; subscriptionId: string; status: number }>;
  readonly errors: unknown[];
}

async function startRecorded(env: Record<string, string>): Promise<Recorded> {
  const transitions: Recorded['transitions'] = [];
  const errors: unknown[] = [];
  const runtime = await startRuntime({
    config: loadRuntimeConfig(env),
    quiet: true,
    observers: {
      onBreakerTransition: (_before: BreakerState, after: BreakerState) =>
        transitions.push({ at: performance.now(), to: after.state }),
      onError: (error) => errors.push(error),
    },
  });
  const calls: Recorded['calls'] = [];
  runtime.limioSandbox!.onSync = ({ subscriptionId, status }) =>
    calls.push({ at: performance.now(), subscriptionId, status });
  return { runtime, transitions, calls, errors };
}

export interface OutageResult {
  readonly outageSeconds: number;
  readonly retryBudgetSeconds: number;
  readonly accepted: number;
  readonly synced: number;
  readonly deadLetters: number;
  readonly breakerOpened: boolean;
  readonly breakerClosedAtEnd: boolean;
  /** Sync calls (probe subscription excluded) Limio received while the breaker was open. */
  readonly syncsWhileOpen: number;
  readonly syncCap: number;
  readonly failedSyncsBeforeTrip: number;
  readonly drainAfterRecoverySeconds: number;
  readonly drained: boolean;
}

/** Limio answers every sync 502 for `outageSeconds` (longer than the retry budget) while callouts keep coming. */
export async function runOutage(options: {
  outageSeconds: number;
  calloutsPerSecond: number;
  drainTimeoutMs?: number;
}): Promise<OutageResult> {
  const { runtime, transitions, calls } = await startRecorded({ ...OUTAGE_ENV });
  try {
    const sandbox = runtime.limioSandbox!;
    const headers = authorizationFor(runtime.config.callout);
    const ids = subscriptionNumbers(Math.ceil(options.outageSeconds * options.calloutsPerSecond), 'A-O');
    const acceptedAt = new Map<string, number>();
    sandbox.setFaults({ rate502: 1 });
    const outageStart = performance.now();
    // Callouts keep arriving through the outage, in small groups.
    for (let sent = 0; sent < ids.length; ) {
      const group = ids.slice(sent, sent + Math.max(1, Math.round(options.calloutsPerSecond / 4)));
      sent += group.length;
      for (const callout of await sendCallouts(runtime.calloutUrl, headers, group, { parallel: group.length })) {
        if (callout.status === 200) acceptedAt.set(callout.subscriptionId, callout.answeredAt);
      }
      const due = outageStart + (sent / ids.length) * options.outageSeconds * 1000;
      await sleep(Math.max(0, due - performance.now()));
    }
    const recoveredAt = performance.now();
    sandbox.setFaults({ rate502: 0 });
    const drained = await waitUntil(
      () => [...acceptedAt.keys()].every((id) => sandbox.stats.synced.has(id)),
      options.drainTimeoutMs ?? 120_000,
      200,
    );
    const drainedAt = performance.now();
    await waitUntil(async () => (await runtime.breaker.store.read()).breaker.state === 'closed', 10_000, 200);
    const deadLetters = await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl);

    const tripAt = transitions.find((transition) => transition.to === 'open')?.at;
    const whileOpen = tripAt === undefined ? [] : calls.filter((call) => call.at > tripAt && call.at < recoveredAt);
    return {
      outageSeconds: (recoveredAt - outageStart) / 1000,
      retryBudgetSeconds: Number(OUTAGE_ENV.RETRY_BUDGET_SECONDS),
      accepted: acceptedAt.size,
      synced: [...acceptedAt.keys()].filter((id) => sandbox.stats.synced.has(id)).length,
      deadLetters: deadLetters.length,
      breakerOpened: tripAt !== undefined,
      breakerClosedAtEnd: (await runtime.breaker.store.read()).breaker.state === 'closed',
      syncsWhileOpen: whileOpen.filter((call) => call.subscriptionId !== OUTAGE_ENV.PROBE_SUBSCRIPTION_ID).length,
      syncCap: Number(OUTAGE_ENV.SYNC_CONCURRENCY) * Number(OUTAGE_ENV.SYNC_POLLERS),
      failedSyncsBeforeTrip: calls.filter(
        (call) => call.at >= outageStart && (tripAt === undefined || call.at <= tripAt) && call.status !== 200,
      ).length,
      drainAfterRecoverySeconds: (drainedAt - recoveredAt) / 1000,
      drained,
    };
  } finally {
    await runtime.stop();
  }
}

export interface BadSubscriptionResult {
  readonly subscriptions: number;
  readonly badSubscription: string;
  /** Callouts accepted for the bad subscription: each is one message, so one dead letter. */
  readonly badCalloutsAccepted: number;
  readonly healthySynced: number;
  readonly deadLetters: readonly DeadLetter[];
  readonly breakerOpened: boolean;
}

/** A healthy Limio that answers one subscription 404 every time, among `subscriptions` healthy ones. */
export async function runBadSubscription(options: {
  subscriptions: number;
  badCallouts: number;
  drainTimeoutMs?: number;
}): Promise<BadSubscriptionResult> {
  const { runtime, transitions } = await startRecorded({ ...OUTAGE_ENV });
  try {
    const sandbox = runtime.limioSandbox!;
    const bad = 'A-B00000404';
    sandbox.respondWith(bad, 404);
    const healthy = subscriptionNumbers(options.subscriptions);
    // The bad subscription's callouts are spread through the burst, as repeated Zuora notifications would be.
    const burst = healthy.flatMap((id, index) =>
      index % Math.max(1, Math.floor(healthy.length / options.badCallouts)) === 0 ? [id, bad] : [id],
    );
    const sent = await sendCallouts(runtime.calloutUrl, authorizationFor(runtime.config.callout), burst, {
      parallel: 16,
    });
    const badAccepted = sent.filter((callout) => callout.subscriptionId === bad && callout.status === 200).length;
    let deadLetters: DeadLetter[] = [];
    await waitUntil(
      async () => {
        if (!healthy.every((id) => sandbox.stats.synced.has(id))) return false;
        // Read without deleting; the letters stay hidden for the rest of the run, so count them cumulatively.
        deadLetters = [...deadLetters, ...(await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl))];
        return deadLetters.length >= badAccepted;
      },
      options.drainTimeoutMs ?? 60_000,
      250,
    );
    return {
      subscriptions: healthy.length,
      badSubscription: bad,
      badCalloutsAccepted: badAccepted,
      healthySynced: healthy.filter((id) => sandbox.stats.synced.has(id)).length,
      deadLetters,
      breakerOpened: transitions.some((transition) => transition.to === 'open'),
    };
  } finally {
    await runtime.stop();
  }
}
