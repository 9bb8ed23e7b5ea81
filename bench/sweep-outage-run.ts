import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createSweepLambda, loadSweepLambdaConfig, SWEEP_METRICS } from '../functions/sweep/lambda-sweep';
import type { SweepCounts } from '../functions/sweep/settle';
import { METRICS_NAMESPACE } from '../functions/shared/metrics';
import { loadRuntimeConfig } from '../local/config';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../local/dynamodb-emulator';
import { LOCAL_TABLES } from '../local/defaults';
import { queueDepth } from '../local/queue-depth';
import { startRuntime, type Runtime } from '../local/runtime';
import { RecordingMetrics } from './chaos-sweep';
import { formatNumber, sleep, type Figure } from './figures';
import { OUTAGE_ENV } from './outage-run';
import {
  authorizationFor,
  lastSuccessfulSyncs,
  readDeadLetters,
  sendCallouts,
  subscriptionNumbers,
  waitUntil,
} from './pipeline';

/**
 * Issue #22's promise to the operator, in `npm run bench`: during a Limio outage longer than three sweeps, with
 * callouts arriving, the sweep counts no missing callout (the alarm stays quiet) and queues nothing for the changes
 * whose callouts came (they are pending: their messages wait on the queue); once Limio is back and everything has
 * synced, a share of new changes is made without a callout, and the next sweep queues exactly those.
 *
 * On `npm start`'s runtime (its breaker, ledger and Zuora sandbox; Limio's outage is the sandbox answering 502),
 * with the sweep Lambda as deployed run by hand over the same ledger table, its metrics recorded. The callouts
 * name the subscription's UpdatedDate, as the documented template does.
 */
export interface SweepOutageResult {
  readonly subscriptions: number;
  readonly withoutCallout: number;
  /** One per sweep during the outage: what it counted, and its sweepMissing metric. */
  readonly outageSweeps: readonly { readonly counts: SweepCounts; readonly missingMetric: number | undefined }[];
  /** The changes made with callouts so far, at each sweep: all of them must be pending. */
  readonly pendingExpected: readonly number[];
  /** Messages the callouts queued (one each), and those on the main queue after the sweeps (nothing synced meanwhile). */
  readonly calloutMessages: number;
  readonly queueAfterSweeps: number;
  readonly drainedAfterOutage: boolean;
  readonly afterOutage: { readonly counts: SweepCounts; readonly missingMetric: number | undefined };
  /** The subscriptions the sweep after the outage queued, read back as Limio syncs after it: exactly the ones without a callout. */
  readonly syncedAfterSweep: readonly string[];
  readonly expectedAfterSweep: readonly string[];
  readonly deadLetters: number;
  readonly outageSeconds: number;
}

export async function runSweepOutage(options: {
  subscriptions: number;
  withoutCalloutShare: number;
  sweeps?: number;
  timeoutMs?: number;
}): Promise<SweepOutageResult> {
  const sweeps = options.sweeps ?? 3;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const runtime: Runtime = await startRuntime({
    // A retry budget longer than the outage (nothing is dead-lettered), and the runtime's own scheduled sweep off:
    // the sweeps measured are the ones run here.
    config: loadRuntimeConfig({
      ...OUTAGE_ENV,
      RETRY_BUDGET_SECONDS: '3600',
      SWEEP_INTERVAL_SECONDS: String(24 * 60 * 60),
    }),
    quiet: true,
  });
  const dynamodb = new DynamoDBClient({
    endpoint: runtime.dynamoDbEndpoint,
    region: DYNAMODB_EMULATOR_REGION,
    credentials: DYNAMODB_EMULATOR_CREDENTIALS,
  });
  try {
    const zuora = runtime.zuoraSandbox!;
    const limio = runtime.limioSandbox!;
    const headers = authorizationFor(runtime.config.callout);
    const lastSyncAt = lastSuccessfulSyncs(limio);
    const sweepOnce = async () => {
      const metrics = new RecordingMetrics({ namespace: METRICS_NAMESPACE, serviceName: 'sweep' });
      const sweep = createSweepLambda(
        loadSweepLambdaConfig({
          QUEUE_URL: runtime.queues.mainQueueUrl,
          LEDGER_TABLE_NAME: LOCAL_TABLES.ledger,
          ZUORA_BASE_URL: zuora.baseUrl,
          ZUORA_CLIENT_ID: zuora.clientId,
          ZUORA_CLIENT_SECRET: zuora.clientSecret,
          // The sandbox commits a change the instant it stamps it (as npm start sweeps it); the changes are
          // seconds old, so nothing needs to settle.
          SWEEP_COMMIT_LAG_SECONDS: '1',
          SWEEP_SETTLE_SECONDS: '0',
          SWEEP_INITIAL_LOOKBACK_SECONDS: '600',
        }),
        { sqs: runtime.sqs, dynamodb, metrics, logger: new Logger({ serviceName: 'sweep', logLevel: 'SILENT' }) },
      );
      const report = await sweep({}, { getRemainingTimeInMillis: () => 300_000 });
      const published = metrics.published.at(-1) ?? {};
      const missing = published[SWEEP_METRICS.missing];
      return { counts: report.counts, missingMetric: typeof missing === 'number' ? missing : undefined };
    };
    const calloutsNamingUpdatedDate = async (ids: readonly string[], updatedDates: ReadonlyMap<string, string>) => {
      const answered = await sendCallouts(runtime.calloutUrl, headers, ids, {
        parallel: 16,
        updatedDateOf: (id) => updatedDates.get(id),
      });
      const refused = answered.filter((callout) => callout.status !== 200);
      if (refused.length > 0) throw new Error(`${refused.length} callouts refused (first: ${refused[0]!.status})`);
    };
    const touchAll = (ids: readonly string[], changedAt: number) => {
      return new Map(ids.map((id) => [id, new Date(zuora.touch(id, changedAt).updatedMs).toISOString()]));
    };

    const ids = subscriptionNumbers(options.subscriptions, 'A-W');
    limio.setFaults({ rate502: 1 });
    const outageStart = performance.now();
    // Callouts keep arriving through the outage: a group before each sweep. Sweeps run every few minutes in a
    // stack, the breaker opens within seconds: each sweep here runs once it is open, with no sync in flight. (A
    // sync in flight at a sweep's read, as in the first seconds of an outage, makes its change unproven, not
    // pending: queued again, one Limio call, never counted missing; see functions/sweep/coverage.ts.)
    const groupSize = Math.ceil(ids.length / sweeps);
    const outageSweeps = [];
    const pendingExpected: number[] = [];
    for (let index = 0; index < sweeps; index++) {
      const group = ids.slice(index * groupSize, (index + 1) * groupSize);
      // Changes 2 s old, as the sweeps' window ends the commit lag (1 s) before now.
      await calloutsNamingUpdatedDate(group, touchAll(group, Date.now() - 2_000));
      await waitUntil(async () => (await runtime.breaker.store.read()).breaker.state === 'open', timeoutMs, 100);
      // The syncs under way when it opened end at LIMIO_TIMEOUT_MS at the latest.
      await sleep(1_500);
      outageSweeps.push(await sweepOnce());
      pendingExpected.push(Math.min(ids.length, (index + 1) * groupSize));
    }
    const queueAfterSweeps = await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl);
    const outageSeconds = (performance.now() - outageStart) / 1000;
    limio.setFaults({ rate502: 0 });
    const drainedAfterOutage = await waitUntil(
      async () =>
        ids.every((id) => lastSyncAt.has(id)) && (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
      timeoutMs,
      200,
    );

    // New changes after every sync (a second later, as UpdatedDate has whole seconds: a sync started after a
    // change covers it): most with their callouts, every (1 / share)th without.
    await sleep(1_100);
    const withoutCallout = ids.filter(
      (_, index) =>
        Math.floor((index + 1) * options.withoutCalloutShare) > Math.floor(index * options.withoutCalloutShare),
    );
    const dropped = new Set(withoutCallout);
    const updatedDates = touchAll(ids, Date.now());
    const calledOut = ids.filter((id) => !dropped.has(id));
    const calloutsAt = performance.now();
    await calloutsNamingUpdatedDate(calledOut, updatedDates);
    await waitUntil(
      async () =>
        calledOut.every((id) => (lastSyncAt.get(id) ?? -1) >= calloutsAt) &&
        (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
      timeoutMs,
      100,
    );
    await sleep(2_100);
    const sweepAt = performance.now();
    const afterOutage = await sweepOnce();
    await waitUntil(
      async () =>
        withoutCallout.every((id) => (lastSyncAt.get(id) ?? -1) >= sweepAt) &&
        (await queueDepth(runtime.sqs, runtime.queues.mainQueueUrl)) === 0,
      timeoutMs,
      100,
    );
    // Let a stray sync of one that should not have been queued show up before reading who was synced.
    await sleep(500);
    return {
      subscriptions: ids.length,
      withoutCallout: withoutCallout.length,
      outageSweeps,
      pendingExpected,
      calloutMessages: ids.length,
      queueAfterSweeps,
      drainedAfterOutage,
      afterOutage,
      syncedAfterSweep: ids.filter((id) => (lastSyncAt.get(id) ?? -1) >= sweepAt),
      expectedAfterSweep: withoutCallout,
      deadLetters: (await readDeadLetters(runtime.sqs, runtime.queues.deadLetterQueueUrl)).length,
      outageSeconds,
    };
  } finally {
    dynamodb.destroy();
    await runtime.stop();
  }
}

export function checkSweepOutage(result: SweepOutageResult): string[] {
  const failures: string[] = [];
  result.outageSweeps.forEach(({ counts, missingMetric }, index) => {
    if (missingMetric !== 0 || counts.missing !== 0)
      failures.push(
        `sweep ${index + 1} in the outage counted ${counts.missing} missing callouts (metric ${missingMetric ?? 'not published'})`,
      );
    if (counts.queued !== 0)
      failures.push(
        `sweep ${index + 1} in the outage queued ${counts.queued} (unproven ${counts.unproven}) for changes whose callouts came`,
      );
    if (counts.pending !== result.pendingExpected[index])
      failures.push(
        `sweep ${index + 1} in the outage counted ${counts.pending} pending of ${result.pendingExpected[index]} changes with callouts`,
      );
  });
  if (result.queueAfterSweeps > result.calloutMessages)
    failures.push(
      `${result.queueAfterSweeps} messages on the main queue after the outage's sweeps, ${result.calloutMessages} from the callouts`,
    );
  if (!result.drainedAfterOutage) failures.push('the backlog did not drain once Limio was back');
  const { counts, missingMetric } = result.afterOutage;
  if (
    counts.missing !== result.withoutCallout ||
    missingMetric !== result.withoutCallout ||
    counts.queued !== result.withoutCallout
  ) {
    failures.push(
      `after the outage the sweep counted ${counts.missing} missing (metric ${missingMetric ?? 'not published'}) and queued ${counts.queued}; ${result.withoutCallout} changes had no callout`,
    );
  }
  const expected = [...result.expectedAfterSweep].sort().join(',');
  if ([...result.syncedAfterSweep].sort().join(',') !== expected) {
    failures.push(
      `synced after the sweep: ${result.syncedAfterSweep.length}, expected exactly the ${result.expectedAfterSweep.length} without a callout`,
    );
  }
  if (result.deadLetters > 0) failures.push(`${result.deadLetters} dead letters`);
  return failures;
}

export function sweepOutageFigures(result: SweepOutageResult): Figure[] {
  const title = `Limio outage over ${result.outageSweeps.length} sweeps (${result.outageSeconds.toFixed(1)} s), ${formatNumber(result.subscriptions)} changes with callouts`;
  const missing = result.outageSweeps.reduce((sum, sweep) => sum + (sweep.missingMetric ?? Number.NaN), 0);
  const queued = result.outageSweeps.reduce((sum, sweep) => sum + sweep.counts.queued, 0);
  const after = result.afterOutage.counts;
  return [
    {
      measure: `${title}: missing callouts counted (sweepMissing, all sweeps)`,
      value: formatNumber(missing),
      baseline: `changes counted pending: ${result.outageSweeps.map((sweep) => formatNumber(sweep.counts.pending)).join(' / ')}`,
      ratio: missing / result.subscriptions,
      note: 'MissingCalloutsAlarm stays quiet: their callouts came, their messages wait on the queue',
    },
    {
      measure: `${title}: queued by the sweeps for changes whose callouts came`,
      value: formatNumber(queued),
      baseline: `messages the callouts queued: ${formatNumber(result.calloutMessages)} (on the main queue after the sweeps: ${formatNumber(result.queueAfterSweeps)})`,
      ratio: queued / result.subscriptions,
      note: 'the sweep adds nothing to the backlog; callouts named UpdatedDate',
    },
    {
      measure: `after the outage, ${formatNumber(result.withoutCallout)} of ${formatNumber(result.subscriptions)} new changes made without a callout: queued by the sweep`,
      value: formatNumber(after.queued),
      baseline: `changes made without a callout: ${formatNumber(result.withoutCallout)}`,
      ratio: after.queued / result.withoutCallout,
      note: `missing ${formatNumber(after.missing)}, unproven ${formatNumber(after.unproven)}, covered ${formatNumber(after.covered)}; synced after the sweep: ${formatNumber(result.syncedAfterSweep.length)}`,
    },
  ];
}
