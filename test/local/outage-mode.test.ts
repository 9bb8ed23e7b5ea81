import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { DynamoDbBreakerStore } from '../../functions/breaker/dynamodb-store';
import { LOCAL_TABLES } from '../../local/defaults';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../../local/dynamodb-emulator';
import type { BreakerState } from '../../functions/breaker/breaker-state';
import type { ProbeRunReport } from '../../functions/breaker/probe-handler';
import { runCli } from '../../cli/main';
import { loadRuntimeConfig } from '../../local/config';
import { startRuntime, type Runtime } from '../../local/runtime';

/**
 * Outage mode end to end on `npm start`'s runtime, with hours compressed into seconds by environment: Limio
 * (the sandbox) fails every sync for longer than the old attempt budget (8 receives at a 1 s backoff) and than
 * the whole time budget (RETRY_BUDGET_SECONDS 6), while callouts keep arriving. The breaker must trip, pause the
 * poller, keep every message, and drain the backlog once Limio is back.
 */

const SYNC_POLLERS = 2;
const SYNC_CONCURRENCY = 5;
const PROBE_SUBSCRIPTION = 'A-S99999999';
const COMPRESSED = {
  PORT: '0',
  SQS_PORT: '0',
  DYNAMODB_PORT: '0',
  ZUORA_SANDBOX_PORT: '0',
  LIMIO_SANDBOX_PORT: '0',
  SYNC_POLLERS: String(SYNC_POLLERS),
  SYNC_CONCURRENCY: String(SYNC_CONCURRENCY),
  SYNC_BATCHING_WINDOW_SECONDS: '0',
  BACKOFF_BASE_SECONDS: '1',
  BACKOFF_MAX_SECONDS: '1',
  RETRY_BUDGET_SECONDS: '6',
  BREAKER_HOLD_SECONDS: '1',
  BREAKER_PROBE_INTERVAL_SECONDS: '1',
  BREAKER_WINDOW_SECONDS: '5',
  BREAKER_MIN_CALLS: '5',
  BREAKER_HALF_OPEN_SUCCESSES: '3',
  // The sandbox's faults hit syncs, not its token endpoint: the probe must sync something to see them.
  PROBE_SUBSCRIPTION_ID: PROBE_SUBSCRIPTION,
};
const OUTAGE_MS = 14_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('outage mode on the local runtime', () => {
  let runtime: Runtime;
  const transitions: Array<{ at: number; from: string; to: string }> = [];
  const probes: Array<{ at: number; report: ProbeRunReport }> = [];
  const errors: unknown[] = [];

  beforeAll(async () => {
    runtime = await startRuntime({
      config: loadRuntimeConfig(COMPRESSED),
      quiet: true,
      observers: {
        onBreakerTransition: (before: BreakerState, after: BreakerState) =>
          transitions.push({ at: Date.now(), from: before.state, to: after.state }),
        onProbe: (report) => probes.push({ at: Date.now(), report }),
        onError: (error) => errors.push(error),
      },
    });
  });
  afterAll(async () => {
    await runtime?.stop();
  });

  it('rides out an outage longer than any retry budget with zero dead letters, few Limio calls, and everything synced after', async () => {
    const sandbox = runtime.limioSandbox!;
    const calls: Array<{ at: number; subscriptionId: string }> = [];
    sandbox.onSync = ({ subscriptionId }) => calls.push({ at: Date.now(), subscriptionId });
    const credentials = runtime.config.callout;
    if (credentials.mode !== 'basic') throw new Error('expected generated Basic credentials');
    const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
    const accepted: string[] = [];
    const callout = async (subscriptionId: string) => {
      const response = await fetch(runtime.calloutUrl, {
        method: 'POST',
        body: JSON.stringify({ subscriptionNumber: subscriptionId }),
        headers: { 'content-type': 'application/json', authorization },
      });
      expect(response.status).toBe(200);
      accepted.push(subscriptionId);
    };

    // Limio goes down; callouts keep coming for the whole outage, two every half second.
    sandbox.setFaults({ rate502: 1 });
    const outageStart = Date.now();
    for (let n = 0; Date.now() - outageStart < OUTAGE_MS; n++) {
      await Promise.all([
        callout(`A-S1${String(2 * n).padStart(7, '0')}`),
        callout(`A-S1${String(2 * n + 1).padStart(7, '0')}`),
      ]);
      await sleep(500);
    }
    const { breaker: duringOutage } = await runtime.breaker.store.read();
    const recoveredAt = Date.now();
    sandbox.setFaults({ rate502: 0 });

    // Everything accepted gets synced once Limio is back.
    const deadline = Date.now() + 60_000;
    while (accepted.some((id) => !sandbox.stats.synced.has(id)) && Date.now() < deadline) await sleep(200);
    const drainedAt = Date.now();
    expect(accepted.filter((id) => !sandbox.stats.synced.has(id))).toEqual([]);

    // Nothing was dead-lettered, though every message outlived both the old attempt budget and the time budget.
    const dlq = await runtime.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: runtime.queues.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect([
      dlq.Attributes?.ApproximateNumberOfMessages,
      dlq.Attributes?.ApproximateNumberOfMessagesNotVisible,
    ]).toEqual(['0', '0']);
    expect(recoveredAt - outageStart).toBeGreaterThan(Number(COMPRESSED.RETRY_BUDGET_SECONDS) * 1000);

    // A sync instance tripped it during the outage; the probe kept it open until Limio was back, then it closed.
    expect(duringOutage.state).toBe('open');
    expect(transitions[0]).toMatchObject({ from: 'closed', to: 'open' });
    const tripAt = duringOutage.openIntervals[0].from;
    expect(tripAt).toBeGreaterThan(outageStart);
    expect(tripAt).toBeLessThan(recoveredAt);
    const announced = probes.flatMap((probe) => probe.report.announced);
    expect(announced[0]).toBe('opened');
    expect(announced.slice(-1)).toEqual(['closed']);
    expect((await runtime.breaker.store.read()).breaker.state).toBe('closed');
    expect(runtime.poller.paused).toBe(false);

    // While open, Limio heard only the probes and the calls already in flight when it tripped (at most the cap).
    const whileOpen = calls.filter((call) => call.at > tripAt && call.at < recoveredAt);
    const syncsWhileOpen = whileOpen.filter((call) => call.subscriptionId !== PROBE_SUBSCRIPTION).length;
    const probeSyncsWhileOpen = whileOpen.length - syncsWhileOpen;
    const probeRunsWhileOpen = probes.filter(
      (probe) => probe.at > tripAt && probe.report.probe !== undefined && probe.at <= recoveredAt + 1_000,
    ).length;
    expect(syncsWhileOpen).toBeLessThanOrEqual(SYNC_POLLERS * SYNC_CONCURRENCY);
    expect(probeSyncsWhileOpen).toBeLessThanOrEqual(probeRunsWhileOpen);
    const callsBeforeTrip = calls.filter((call) => call.at >= outageStart && call.at <= tripAt).length;
    expect(errors).toEqual([]);

    // The figures, for docs/how-a-subscription-is-synced.md's outage-mode section.
    console.info(
      [
        `outage ${((recoveredAt - outageStart) / 1000).toFixed(1)} s (time budget ${COMPRESSED.RETRY_BUDGET_SECONDS} s), ${accepted.length} subscriptions accepted`,
        `tripped after ${((tripAt - outageStart) / 1000).toFixed(1)} s and ${callsBeforeTrip} failed syncs`,
        `while open: ${syncsWhileOpen} syncs in flight at the trip, ${probeSyncsWhileOpen} probe syncs (${probeRunsWhileOpen} probe runs)`,
        `dead letters 0; all ${accepted.length} synced ${((drainedAt - recoveredAt) / 1000).toFixed(1)} s after recovery`,
      ].join('\n'),
    );
  });

  it('lets an operator hold it open by hand with the CLI (--local), pausing the poller until `breaker close`', async () => {
    const output: string[] = [];
    const io = {
      stdout: { write: (text: string) => output.push(text) },
      stderr: { write: (text: string) => output.push(text) },
      stdin: process.stdin,
      env: { PORT: new URL(runtime.calloutUrl).port, SQS_PORT: new URL(runtime.sqsEndpoint).port },
    };
    expect(await runCli(['breaker', 'open', '--local', '--reason', 'Limio maintenance'], io)).toBe(0);
    expect(runtime.poller.paused).toBe(true);
    // The state is in the breaker table of the runtime's DynamoDB emulator, where the sync handler reads it, as in AWS.
    const dynamodb = new DynamoDBClient({
      endpoint: runtime.dynamoDbEndpoint,
      region: DYNAMODB_EMULATOR_REGION,
      credentials: DYNAMODB_EMULATOR_CREDENTIALS,
    });
    try {
      expect((await new DynamoDbBreakerStore(dynamodb, LOCAL_TABLES.breaker).read()).breaker).toMatchObject({
        state: 'open',
        openedBy: 'manual',
        reason: 'opened by hand: Limio maintenance',
      });
    } finally {
      dynamodb.destroy();
    }
    // Limio is healthy, yet probes leave a breaker opened by hand alone.
    await runtime.breaker.probe.trigger();
    expect((await runtime.breaker.store.read()).breaker).toMatchObject({ state: 'open', openedBy: 'manual' });
    expect(runtime.poller.paused).toBe(true);

    expect(await runCli(['status', '--local'], io)).toBe(0);
    expect(output.join('')).toMatch(/breaker: OPEN since .*; opened by hand: Limio maintenance\n/);

    expect(await runCli(['breaker', 'close', '--local'], io)).toBe(0);
    expect(runtime.poller.paused).toBe(false);
    expect((await runtime.breaker.store.read()).breaker.state).toBe('closed');
  });
});
