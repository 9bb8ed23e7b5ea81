import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import type { LimitChange } from '../functions/sync/adaptive-limit';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { BreakerState } from '../functions/breaker/breaker-state';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import { DynamoDbBreakerStore } from '../functions/breaker/dynamodb-store';
import type { ProbeRunReport } from '../functions/breaker/probe-handler';
import type { ProbeLoop } from '../functions/breaker/probe-loop';
import { createCalloutHandler, type CalloutObserver } from '../functions/callout/callout-handler';
import { loadCalloutConfig } from '../functions/callout/config';
import { FANOUT_DEFAULTS, loadFanOutConfig } from '../functions/fanout/config';
import { createFanOutHandler, type FanOutEvent } from '../functions/fanout/fanout-handler';
import { LEDGER_PARTITION_KEY } from '../functions/ledger/dynamodb-ledger-store';
import { DEFAULTS } from '../functions/shared/defaults';
import type { SweepReport } from '../functions/sweep/sweep';
import { loadSyncConfig } from '../functions/sync/config';
import { createSyncHandler, type SyncObserver } from '../functions/sync/sync-handler';
import type { ProxyHandler } from './api-gateway-adapter';
import type { RuntimeConfig } from './config';
import { LOCAL_DEFAULTS, LOCAL_TABLES } from './defaults';
import { createOnDemandTable, startDynamoDbEmulator, type DynamoDbEmulator } from './dynamodb-emulator';
import type { EmulatorExitedError } from './emulator-process';
import { createFrontDoor } from './front-door';
import { checkHandlerSettings, setProcessEnv, sweepLambdaEnv, TABLE_VARIABLES } from './handler-env';
import { checkLimioTenant } from './limio-preflight';
import type { LimioControlView } from './limio-control';
import type { LimioSandbox, LimioServiceModel } from './limio-sandbox';
import { closeServer, listen, PortInUseError } from './listen';
import { startProbeSchedule } from './probe-schedule';
import {
  createAccountQueue,
  createQueuePair,
  EMULATOR_CREDENTIALS,
  EMULATOR_REGION,
  startSqsEmulator,
  type QueuePair,
  type SqsEmulator,
} from './sqs-emulator';
import { startSqsPoller, type BatchOutcome, type SqsPoller } from './sqs-poller';
import { startSweepSchedule } from './sweep-schedule';
import { startLimioTarget, startZuoraTarget } from './tenants';
import type { ZuoraSandbox } from './zuora-sandbox';

// What startRuntime throws when a real Limio tenant cannot issue a token: npm start and its tests catch it.
export { LimioUnreachableError } from './limio-preflight';
export { EmulatorExitedError } from './emulator-process';

/**
 * The whole pipeline on one machine, as `npm start` and the end-to-end tests run it: the SQS emulator with the
 * stack's queue pair, a DynamoDB emulator with the stack's ledger and breaker tables, the Limio sandbox (or a real
 * tenant), the Zuora sandbox (or a real tenant), the production callout handler behind the API Gateway adapter,
 * the production sync handler behind the SQS poller, and the sweep Lambda on a timer. The handlers are built by
 * the same factories and config loaders as their Lambda entry points, and find their tables and queues through
 * the same variables; only the observers are added.
 */
interface RuntimeObservers {
  readonly sync?: SyncObserver;
  readonly callout?: CalloutObserver;
  readonly onBatch?: (outcome: BatchOutcome) => void;
  /** The records each poller (main queue, fan-out queue) hands its handler, before it runs. */
  readonly onRecords?: (records: readonly SQSRecord[]) => void;
  /** Poller receive/delete errors, failed invocations, callout integration errors and failed probe runs. */
  readonly onError?: (error: unknown) => void;
  /** A sync invocation moved the circuit breaker (it trips it; the probe then pauses the poller). */
  readonly onBreakerTransition?: (before: BreakerState, after: BreakerState) => void;
  /** Every probe run; `announced` lists the phases it announced (opened, half-open, closed). */
  readonly onProbe?: (report: ProbeRunReport) => void;
  /** Every sweep run that ended with a report: complete, nothing to do, or out of time. */
  readonly onSweep?: (report: SweepReport) => void;
  /** A sweep run that failed (Zuora, the ledger, the queue); its message is the sweep's one-line report. */
  readonly onSweepFailed?: (error: Error) => void;
  /** What the Zuora sandbox's control endpoint changed (no callout): subscriptions, accounts, contacts. */
  readonly onZuoraTouched?: (names: readonly string[]) => void;
  /** Accounts and contacts changed through the same endpoint, described ("contact (bill-to) of A00000001"). */
  readonly onZuoraAccountsTouched?: (changes: readonly string[]) => void;
  /** Each account message the fan-out handler finished with: fanned out, continued, retried or dead-lettered. */
  readonly onFanOut?: (event: FanOutEvent) => void;
  /** The sync handler's adaptive limit on Limio calls moved markedly (SyncHandlerDependencies.onLimitChange). */
  readonly onLimitChange?: (change: LimitChange) => void;
  /** The Limio sandbox's capacity or latency changed through the runtime's control endpoint. */
  readonly onLimioCapacityChanged?: (model: LimioServiceModel) => void;
  /** The Limio sandbox's faults changed through the runtime's control endpoint. */
  readonly onLimioFaultsChanged?: (view: LimioControlView) => void;
}

export interface StartRuntimeOptions {
  readonly config: RuntimeConfig;
  /** Silence the handlers' JSON logs and metrics (the human output of `npm start`, and the tests). */
  readonly quiet?: boolean;
  /**
   * false: the sync handler runs without the sync ledger (no LEDGER_TABLE_NAME), as a stack before issue #13 did:
   * the baseline a measurement compares the ledger with. npm start always runs it. The sweep reads the table anyway.
   */
  readonly ledger?: boolean;
  /**
   * Long-poll wait of the sync poller's receives (default 20 s, as Lambda's event source). A run that stops this
   * poller to put its own in its place (a bench's sync worker) sets it short: a receive the stopped poller had under
   * way stays open in the emulator until its wait ends, and a message it takes then is hidden for the visibility
   * timeout, from a poller that will never handle it.
   */
  readonly syncPollWaitSeconds?: number;
  readonly observers?: RuntimeObservers;
}

export interface Runtime {
  /** The configuration it was started with, generated callout credentials included. */
  readonly config: RuntimeConfig;
  readonly calloutUrl: string;
  readonly sqsEndpoint: string;
  readonly queues: QueuePair;
  /**
   * The fan-out queue (ACCOUNT_QUEUE_URL of the callout handler), redriven to the same DLQ: present when the runtime
   * has a Zuora connection, as for the sweep. The fan-out handler consumes it (fanOutPoller).
   */
  readonly accountQueueUrl?: string;
  /** The fan-out Lambda's event source: present with the fan-out queue. */
  readonly fanOutPoller?: SqsPoller;
  readonly limioBaseUrl: string;
  /** Present unless LIMIO_BASE_URL pointed at a real tenant. */
  readonly limioSandbox?: LimioSandbox;
  /** The DynamoDB emulator's endpoint (the ledger and breaker tables, LOCAL_TABLES). */
  readonly dynamoDbEndpoint: string;
  /** The tenant the sweep reads. */
  readonly zuoraBaseUrl: string;
  /** Present unless ZUORA_BASE_URL pointed at a real tenant. */
  readonly zuoraSandbox?: ZuoraSandbox;
  /** The sweep's schedule: trigger() runs a sweep now (after one under way), as the CLI or a test may want. */
  readonly sweep: ProbeLoop;
  /** A client bound to the emulator, for tests and tools. */
  readonly sqs: SQSClient;
  readonly poller: SqsPoller;
  /** Outage mode: the circuit breaker's store (its table in the DynamoDB emulator) and the probe loop that drives the poller. */
  readonly breaker: { readonly store: BreakerStore; readonly probe: ProbeLoop };
  /**
   * Stops taking callouts and lets the invocations under way finish (server, sweep, probe, poller), leaving the
   * emulators up: what is left on the queues can then be counted. stop() does this first anyway.
   */
  stopWorkers(): Promise<void>;
  /** Closes the HTTP server, the poller, the sandboxes and the emulators, and restores process.env. */
  stop(): Promise<void>;
  /**
   * Resolves with the first emulator (SQS or DynamoDB) whose process ended while the runtime ran (killed, crashed,
   * out of memory); never settles otherwise, nor for their exit in stop(). Their queues and tables lived in that
   * process, so the runtime cannot recover: its owner decides what to do (npm start stops and exits 1). It
   * resolves rather than rejects, so that an owner that does not listen is not ended by an unhandled rejection.
   */
  readonly emulatorExited: Promise<EmulatorExitedError>;
}

/**
 * Whether account callouts can be fanned out: the fan-out reads an account's subscriptions from Zuora through the
 * sweep's connection, so the stack is to set ACCOUNT_QUEUE_URL only with a Zuora connection. Locally the sweep
 * always has one (the Zuora sandbox, or the tenant at ZUORA_BASE_URL), so today this is always true; it is the one
 * place that ties the fan-out queue to the connection, should a run without Zuora become possible.
 */
export function hasZuoraConnection(config: Pick<RuntimeConfig, 'zuora'>): boolean {
  return config.zuora.kind === 'sandbox' || config.zuora.kind === 'tenant';
}

/** A sweep under way when the runtime stops gets this long; then the emulators close under it (its failure is not news). */
const SWEEP_STOP_GRACE_MS = 2_000;

export async function startRuntime(options: StartRuntimeOptions): Promise<Runtime> {
  const { config, observers = {} } = options;
  const cleanups: Array<() => Promise<void> | void> = [];
  // Cleanups from this index on are the workers (the callout server, the poller and the timers); before it, what
  // they use (emulators, sandboxes, the process environment).
  let workersFrom = Number.POSITIVE_INFINITY;
  const stopFrom = async (index: number) => {
    // Reverse order: stop taking callouts first, the emulator last.
    for (const cleanup of cleanups.splice(Math.min(index, cleanups.length)).reverse()) {
      try {
        await cleanup();
      } catch (error) {
        observers.onError?.(error);
      }
    }
  };
  const stopAll = () => stopFrom(0);

  try {
    // The handlers' own settings are checked before anything starts, so a bad variable fails at once.
    checkHandlerSettings(config);
    if (config.limio.kind === 'tenant') {
      await checkLimioTenant(config.limio.baseUrl, config.limio.clientId, config.limio.clientSecret);
    }

    const emulator: SqsEmulator = await startSqsEmulator({ port: config.sqsPort }).catch((error: Error) => {
      throw /EADDRINUSE/.test(error.message) ? new PortInUseError(config.sqsPort, 'SQS_PORT') : error;
    });
    cleanups.push(() => emulator.stop());
    const sqs = emulator.client();
    const queues = await createQueuePair(sqs, { maxReceiveCount: config.maxReceiveCount });

    // Like the SQS emulator, it runs in a child process: its listen error comes back as text.
    const dynamoDbEmulator: DynamoDbEmulator = await startDynamoDbEmulator({ port: config.dynamoDbPort }).catch(
      (error: Error) => {
        throw /EADDRINUSE/.test(error.message) ? new PortInUseError(config.dynamoDbPort, 'DYNAMODB_PORT') : error;
      },
    );
    cleanups.push(() => dynamoDbEmulator.stop());
    const dynamodb = dynamoDbEmulator.client();
    // As the CDK stack defines them: the ledger keyed by subscription id (the sweep's watermark shares it), the
    // breaker by pk. dynalite has no TTL: items never expire locally, which a run of npm start never notices.
    await createOnDemandTable(dynamodb, { tableName: LOCAL_TABLES.ledger, partitionKey: LEDGER_PARTITION_KEY });
    await createOnDemandTable(dynamodb, { tableName: LOCAL_TABLES.breaker, partitionKey: 'pk' });

    const limioTarget = await startLimioTarget(config);
    const limioSandbox = limioTarget.sandbox;
    if (limioSandbox) cleanups.push(() => limioSandbox.stop());
    const limio = limioTarget.access;

    const zuoraTarget = await startZuoraTarget(config);
    const zuoraSandbox = zuoraTarget.sandbox;
    if (zuoraSandbox) cleanups.push(() => zuoraSandbox.stop());
    const zuora = zuoraTarget.access;
    const accountQueueUrl = hasZuoraConnection(config)
      ? await createAccountQueue(sqs, {
          deadLetterQueueUrl: queues.deadLetterQueueUrl,
          maxReceiveCount: config.maxReceiveCount,
          // AWS's advice for an event source: six times the function timeout.
          visibilityTimeoutSeconds: FANOUT_DEFAULTS.functionTimeoutSeconds * 6,
        })
      : undefined;

    const handlerEnv: Record<string, string> = {
      // One process, one breaker: no need to cache its state (set it to see how instances lag in AWS).
      BREAKER_STATE_CACHE_SECONDS: '0',
      ...config.handlerEnv,
      QUEUE_URL: queues.mainQueueUrl,
      ...(accountQueueUrl !== undefined && { ACCOUNT_QUEUE_URL: accountQueueUrl }),
      DLQ_URL: queues.deadLetterQueueUrl,
      LIMIO_BASE_URL: limio.baseUrl,
      LIMIO_CLIENT_ID: limio.clientId,
      LIMIO_CLIENT_SECRET: limio.clientSecret,
      ...TABLE_VARIABLES,
    };
    if (options.ledger === false) delete handlerEnv.LEDGER_TABLE_NAME;
    // The handlers build their own SQS clients, with their production settings, from the standard AWS
    // environment, as in Lambda.
    const restoreEnv = setProcessEnv({
      AWS_ENDPOINT_URL_SQS: emulator.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbEmulator.endpoint,
      AWS_REGION: EMULATOR_REGION,
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      ...(options.quiet && { POWERTOOLS_METRICS_DISABLED: 'true' }),
    });
    cleanups.push(restoreEnv);
    const quietLogger = (serviceName: string): { logger?: Logger } =>
      options.quiet ? { logger: new Logger({ serviceName, logLevel: 'SILENT' }) } : {};

    const calloutConfig = loadCalloutConfig(handlerEnv);
    const calloutHandler = createCalloutHandler(calloutConfig, {
      ...quietLogger('zuora-limio-callout'),
      ...(observers.callout && { observer: observers.callout }),
    });
    const syncConfig = loadSyncConfig(handlerEnv);
    // Outage mode as in AWS, with the schedule replaced by a timer: the sync handler finds the breaker's table by
    // BREAKER_TABLE_NAME; the probe and the control endpoint share it through this store. The probe loop exists
    // once the poller does; a transition before then has nothing to pause yet.
    const breakerStore = new DynamoDbBreakerStore(dynamodb, LOCAL_TABLES.breaker);
    let probeLoop: ProbeLoop | undefined;
    const syncHandler = createSyncHandler(syncConfig, {
      ...quietLogger('sync'),
      ...(observers.sync && { observer: observers.sync }),
      ...(observers.onLimitChange && { onLimitChange: observers.onLimitChange }),
      onBreakerTransition: (before, after) => {
        observers.onBreakerTransition?.(before, after);
        // The probe run that follows announces the change and pauses (or caps) the poller at once.
        void probeLoop?.trigger();
      },
    });

    const server = createFrontDoor({
      apiKind: config.apiKind,
      calloutConfig,
      calloutHandler: calloutHandler as ProxyHandler,
      breakerControl: {
        store: breakerStore,
        settings: syncConfig.breaker.settings,
        onChange: () => probeLoop?.trigger(),
      },
      zuoraSandbox,
      ...(observers.onZuoraTouched && { onZuoraTouched: observers.onZuoraTouched }),
      ...(observers.onZuoraAccountsTouched && { onZuoraAccountsTouched: observers.onZuoraAccountsTouched }),
      limioSandbox,
      ...(observers.onLimioCapacityChanged && { onLimioCapacityChanged: observers.onLimioCapacityChanged }),
      ...(observers.onLimioFaultsChanged && { onLimioFaultsChanged: observers.onLimioFaultsChanged }),
      ...(observers.onError && { onError: observers.onError }),
    });
    const port = await listen(server, config.port, config.host, 'PORT');
    workersFrom = cleanups.length;
    cleanups.push(() => closeServer(server));

    const poller = await startSqsPoller({
      client: sqs,
      queueUrl: queues.mainQueueUrl,
      handler: syncHandler,
      batchSize: config.poller.batchSize,
      batchingWindowSeconds: config.poller.batchingWindowSeconds,
      concurrency: config.poller.concurrency,
      functionTimeoutSeconds: DEFAULTS.syncFunctionTimeoutSeconds,
      functionName: 'sync',
      ...(options.syncPollWaitSeconds !== undefined && { waitTimeSeconds: options.syncPollWaitSeconds }),
      ...(observers.onBatch && { onBatch: observers.onBatch }),
      ...(observers.onRecords && { onRecords: observers.onRecords }),
      ...(observers.onError && { onError: observers.onError }),
    });
    // Stopped after the server (no new callouts) and before the sandbox and the emulator: no invocation outlives them.
    cleanups.splice(cleanups.length - 1, 0, () => poller.stop());

    // The fan-out Lambda behind its own event source, as deployed: the sweep's Zuora connection, the main queue
    // for what it fans out, its own queue for continuations. One invocation at a time: Zuora is read one request
    // at a time anyway.
    let fanOutPoller: SqsPoller | undefined;
    if (accountQueueUrl !== undefined) {
      const fanOutHandler = createFanOutHandler(loadFanOutConfig(sweepLambdaEnv(handlerEnv, zuora)), {
        ...quietLogger('fanout'),
        ...(observers.onFanOut && { observer: observers.onFanOut }),
      });
      const started = await startSqsPoller({
        client: sqs,
        queueUrl: accountQueueUrl,
        handler: fanOutHandler,
        batchSize: 10,
        concurrency: 1,
        functionTimeoutSeconds: FANOUT_DEFAULTS.functionTimeoutSeconds,
        functionName: 'fanout',
        ...(observers.onRecords && { onRecords: observers.onRecords }),
        ...(observers.onError && { onError: observers.onError }),
      });
      fanOutPoller = started;
      // Stopped before the sync poller: what it queues last still finds the sync handler running.
      cleanups.splice(cleanups.length - 1, 0, () => started.stop());
    }

    const loop = startProbeSchedule({
      store: breakerStore,
      poller,
      limio,
      syncConfig,
      handlerEnv,
      fullConcurrency: config.poller.concurrency,
      logging: quietLogger('breaker'),
      ...(observers.onProbe && { onProbe: observers.onProbe }),
      ...(observers.onError && { onError: observers.onError }),
    });
    probeLoop = loop;
    // Stopped before the poller, so no probe run resumes a poller that is stopping.
    cleanups.splice(cleanups.length - 1, 0, () => loop.stop());

    // The sweep Lambda on a timer (local/sweep-schedule.ts).
    const sweepSchedule = startSweepSchedule({
      handlerEnv,
      zuora,
      intervalSeconds: config.sweepIntervalSeconds,
      logging: quietLogger('sweep'),
      ...(observers.onSweep && { onSweep: observers.onSweep }),
      ...(observers.onSweepFailed && { onSweepFailed: observers.onSweepFailed }),
      ...(observers.onError && { onError: observers.onError }),
    });
    // Stopped first (after the server): no new run, and one under way ends at its next sandbox request; against a
    // tenant it gets a short grace before the rest closes.
    cleanups.splice(cleanups.length - 1, 0, () => {
      zuoraSandbox?.refuseAll();
      return Promise.race([
        sweepSchedule.stop(),
        new Promise<void>((resolve) => setTimeout(resolve, SWEEP_STOP_GRACE_MS).unref()),
      ]);
    });

    let workersStopped: Promise<void> | undefined;
    let stopped: Promise<void> | undefined;
    return {
      config,
      calloutUrl: `http://${config.host}:${port}${LOCAL_DEFAULTS.calloutPath}`,
      sqsEndpoint: emulator.endpoint,
      queues,
      ...(accountQueueUrl !== undefined && { accountQueueUrl }),
      ...(fanOutPoller !== undefined && { fanOutPoller }),
      limioBaseUrl: limio.baseUrl,
      ...(limioSandbox && { limioSandbox }),
      dynamoDbEndpoint: dynamoDbEmulator.endpoint,
      zuoraBaseUrl: zuora.baseUrl,
      ...(zuoraSandbox && { zuoraSandbox }),
      sweep: sweepSchedule,
      sqs,
      poller,
      breaker: { store: breakerStore, probe: loop },
      stopWorkers: () => (workersStopped ??= stopFrom(workersFrom)),
      stop: () => (stopped ??= (workersStopped ??= stopFrom(workersFrom)).then(stopAll)),
      emulatorExited: Promise.race([emulator.unexpectedExit, dynamoDbEmulator.unexpectedExit]),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
