import { createServer, type Server } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import type { BreakerState } from '../functions/breaker/breaker-state';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import { DynamoDbBreakerStore } from '../functions/breaker/dynamodb-store';
import { PollerController } from '../functions/breaker/polling-controller';
import { createProbeHandler, type ProbeRunReport } from '../functions/breaker/probe-handler';
import { limioProbeFor } from '../functions/breaker/probe-lambda';
import { startProbeLoop, type ProbeLoop } from '../functions/breaker/probe-loop';
import { checkSubscriptionId } from '../functions/shared/subscription-id';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createCalloutHandler, type CalloutObserver } from '../functions/callout/callout-handler';
import { loadCalloutConfig } from '../functions/callout/config';
import { loadSyncConfig } from '../functions/sync/config';
import { environmentCredentials, LimioTokenCache } from '../functions/limio';
import { createSyncHandler, type SyncObserver } from '../functions/sync/sync-handler';
import { LEDGER_PARTITION_KEY } from '../functions/ledger/dynamodb-ledger-store';
import { createSweepLambda, loadSweepLambdaConfig } from '../functions/sweep/lambda-sweep';
import type { SweepReport } from '../functions/sweep/sweep';
import { tenantDateTime } from './zoql';
import { ConfigError } from '../functions/shared/config-error';
import { DEFAULTS } from '../functions/shared/defaults';
import { createApiGatewayListener, type ProxyHandler } from './api-gateway-adapter';
import { handleLocalBreakerRequest } from './breaker-control';
import type { RuntimeConfig } from './config';
import { LOCAL_DEFAULTS, LOCAL_SWEEP_TIMEOUT_SECONDS, LOCAL_TABLES } from './defaults';
import { createOnDemandTable, startDynamoDbEmulator, type DynamoDbEmulator } from './dynamodb-emulator';
import { createLambdaContext } from './lambda-context';
import { startLimioSandbox, type LimioSandbox } from './limio-sandbox';
import { closeServer, listen, PortInUseError } from './listen';
import { createQueuePair, EMULATOR_CREDENTIALS, EMULATOR_REGION, startSqsEmulator, type QueuePair, type SqsEmulator } from './sqs-emulator';
import { startSqsPoller, type BatchOutcome, type SqsPoller } from './sqs-poller';
import { handleLocalZuoraRequest } from './zuora-control';
import { startZuoraSandbox, type ZuoraSandbox } from './zuora-sandbox';

/**
 * The whole pipeline on one machine, as `npm start` and the end-to-end tests run it: the SQS emulator with the
 * stack's queue pair, a DynamoDB emulator with the stack's ledger and breaker tables, the Limio sandbox (or a real
 * tenant), the Zuora sandbox (or a real tenant), the production callout handler behind the API Gateway adapter,
 * the production sync handler behind the SQS poller, and the sweep Lambda on a timer. The handlers are built by
 * the same factories and config loaders as their Lambda entry points, and find their tables and queues through
 * the same variables; only the observers are added.
 */
export interface RuntimeObservers {
  readonly sync?: SyncObserver;
  readonly callout?: CalloutObserver;
  readonly onBatch?: (outcome: BatchOutcome) => void;
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
  /** Subscriptions changed in the Zuora sandbox through the runtime's control endpoint (no callout). */
  readonly onZuoraTouched?: (names: readonly string[]) => void;
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
  readonly observers?: RuntimeObservers;
}

export interface Runtime {
  /** The configuration it was started with, generated callout credentials included. */
  readonly config: RuntimeConfig;
  readonly calloutUrl: string;
  readonly sqsEndpoint: string;
  readonly queues: QueuePair;
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
}

/** A Limio tenant that cannot issue a token: the message says what to change. */
export class LimioUnreachableError extends Error {
  constructor(baseUrl: string, cause: string) {
    super(`LIMIO_BASE_URL ${baseUrl}: ${cause}; check LIMIO_BASE_URL, LIMIO_CLIENT_ID and LIMIO_CLIENT_SECRET, or unset LIMIO_BASE_URL to use the local sandbox`);
    this.name = 'LimioUnreachableError';
  }
}

const PREFLIGHT_TIMEOUT_MS = 5_000;

/** Asks the tenant's token endpoint for a token, with the production token client, before anything starts. */
export async function checkLimioTenant(baseUrl: string, clientId: string, clientSecret: string): Promise<void> {
  const tokens = new LimioTokenCache({
    baseUrl,
    credentials: environmentCredentials(clientId, clientSecret),
    timeoutMs: PREFLIGHT_TIMEOUT_MS,
    expiryMarginSeconds: DEFAULTS.tokenExpiryMarginSeconds,
  });
  try {
    await tokens.token();
  } catch (error) {
    throw new LimioUnreachableError(baseUrl, (error as Error).message);
  }
}

/** Runs the handlers' config loaders with stand-ins for the values the runtime fills in once it runs. */
function checkHandlerSettings(config: RuntimeConfig): void {
  const placeholders = {
    QUEUE_URL: 'http://127.0.0.1/000000000000/pending',
    DLQ_URL: 'http://127.0.0.1/000000000000/pending-dlq',
    LIMIO_BASE_URL: config.limio.kind === 'tenant' ? config.limio.baseUrl : 'http://127.0.0.1',
    LIMIO_CLIENT_ID: 'pending',
    LIMIO_CLIENT_SECRET: 'pending',
    ...TABLE_VARIABLES,
  };
  loadCalloutConfig({ ...config.handlerEnv, ...placeholders });
  loadSyncConfig({ ...config.handlerEnv, ...placeholders });
  const zuora = config.zuora.kind === 'tenant' ? config.zuora : { baseUrl: 'http://127.0.0.1', clientId: 'pending', clientSecret: 'pending' };
  loadSweepLambdaConfig(sweepLambdaEnv({ ...config.handlerEnv, ...placeholders }, zuora));
}

/** The handlers find their tables as in AWS: by name, in whatever DynamoDB AWS_ENDPOINT_URL_DYNAMODB names. */
const TABLE_VARIABLES = { LEDGER_TABLE_NAME: LOCAL_TABLES.ledger, BREAKER_TABLE_NAME: LOCAL_TABLES.breaker } as const;

/**
 * The sweep Lambda's environment: the handlers' plus the tenant and its client. SWEEP_INTERVAL_SECONDS is the
 * runtime's timer (any seconds locally), not the Lambda's to check against EventBridge's one-minute floor.
 */
function sweepLambdaEnv(handlerEnv: Record<string, string>, zuora: { baseUrl: string; clientId: string; clientSecret: string }): Record<string, string> {
  const { SWEEP_INTERVAL_SECONDS: _interval, ...rest } = handlerEnv;
  return { ...rest, ZUORA_BASE_URL: zuora.baseUrl, ZUORA_CLIENT_ID: zuora.clientId, ZUORA_CLIENT_SECRET: zuora.clientSecret };
}

/** A sweep under way when the runtime stops gets this long; then the emulators close under it (its failure is not news). */
const SWEEP_STOP_GRACE_MS = 2_000;

/**
 * PROBE_SUBSCRIPTION_ID, as the probe Lambda reads it: a subscription the probe syncs besides asking for a token.
 * The sandbox's injected faults (LIMIO_SANDBOX_502_RATE, ...) hit syncs only, never its token endpoint, so only
 * this lets the probe see such an outage.
 */
function probeSubscription(env: Record<string, string>, syncConfig: ReturnType<typeof loadSyncConfig>): { probeSubscriptionId?: string } {
  const raw = env.PROBE_SUBSCRIPTION_ID?.trim();
  if (!raw) return {};
  const checked = checkSubscriptionId(raw, syncConfig.subscriptionIdRule);
  if (!checked.ok) throw new ConfigError('PROBE_SUBSCRIPTION_ID', checked.reason);
  return { probeSubscriptionId: checked.id };
}

/** process.env values the runtime sets for the handlers and the AWS SDK, put back on stop. */
function setProcessEnv(values: Record<string, string>): () => void {
  const previous = new Map<string, string | undefined>();
  for (const [name, value] of Object.entries(values)) {
    previous.set(name, process.env[name]);
    process.env[name] = value;
  }
  return () => {
    for (const [name, value] of previous) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

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
    const dynamoDbEmulator: DynamoDbEmulator = await startDynamoDbEmulator({ port: config.dynamoDbPort }).catch((error: Error) => {
      throw /EADDRINUSE/.test(error.message) ? new PortInUseError(config.dynamoDbPort, 'DYNAMODB_PORT') : error;
    });
    cleanups.push(() => dynamoDbEmulator.stop());
    const dynamodb = dynamoDbEmulator.client();
    // As the CDK stack defines them: the ledger keyed by subscription id (the sweep's watermark shares it), the
    // breaker by pk. dynalite has no TTL: items never expire locally, which a run of npm start never notices.
    await createOnDemandTable(dynamodb, { tableName: LOCAL_TABLES.ledger, partitionKey: LEDGER_PARTITION_KEY });
    await createOnDemandTable(dynamodb, { tableName: LOCAL_TABLES.breaker, partitionKey: 'pk' });

    let limioSandbox: LimioSandbox | undefined;
    let limio: { baseUrl: string; clientId: string; clientSecret: string };
    if (config.limio.kind === 'sandbox') {
      const target = config.limio;
      const sandbox = await startLimioSandbox({
        port: target.port,
        host: config.host,
        ...target.faults,
        ...(target.clientId !== undefined && { clientId: target.clientId, clientSecret: target.clientSecret }),
      }).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EADDRINUSE' || /EADDRINUSE/.test(error.message) ? new PortInUseError(target.port, 'LIMIO_SANDBOX_PORT') : error;
      });
      limioSandbox = sandbox;
      cleanups.push(() => sandbox.stop());
      limio = { baseUrl: sandbox.baseUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret };
    } else {
      limio = config.limio;
    }

    let zuoraSandbox: ZuoraSandbox | undefined;
    let zuora: { baseUrl: string; clientId: string; clientSecret: string };
    if (config.zuora.kind === 'sandbox') {
      const target = config.zuora;
      const sandbox = await startZuoraSandbox({
        port: target.port,
        host: config.host,
        ...target.faults,
        clientId: target.clientId,
        clientSecret: target.clientSecret,
        ...(target.entityId !== undefined && { entityId: target.entityId }),
      }).catch((error: NodeJS.ErrnoException) => {
        throw error.code === 'EADDRINUSE' ? new PortInUseError(target.port, 'ZUORA_SANDBOX_PORT') : error;
      });
      zuoraSandbox = sandbox;
      cleanups.push(() => sandbox.stop());
      zuora = { baseUrl: sandbox.baseUrl, clientId: sandbox.clientId, clientSecret: sandbox.clientSecret };
    } else {
      zuora = config.zuora;
    }

    const handlerEnv: Record<string, string> = {
      // One process, one breaker: no need to cache its state (set it to see how instances lag in AWS).
      BREAKER_STATE_CACHE_SECONDS: '0',
      ...config.handlerEnv,
      QUEUE_URL: queues.mainQueueUrl,
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
    const quietLogger = (serviceName: string) => (options.quiet ? { logger: new Logger({ serviceName, logLevel: 'SILENT' }) } : {});

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
      onBreakerTransition: (before, after) => {
        observers.onBreakerTransition?.(before, after);
        // The probe run that follows announces the change and pauses (or caps) the poller at once.
        void probeLoop?.trigger();
      },
    });

    const basicAuth = calloutConfig.auth.kind === 'static' && calloutConfig.auth.auth.mode === 'basic';
    const calloutListener = createApiGatewayListener({
      kind: config.apiKind,
      handler: calloutHandler as ProxyHandler,
      path: LOCAL_DEFAULTS.calloutPath,
      // The deployed REST API challenges credential-less requests itself; an HTTP API cannot.
      ...(config.apiKind === 'rest' && basicAuth && { basicChallengeRealm: calloutConfig.realm }),
      functionName: 'callout',
      ...(observers.onError && { onIntegrationError: observers.onError }),
    });
    // The CLI's `status --local` and `breaker open|close --local` reach the breaker here.
    const breakerControl = { store: breakerStore, settings: syncConfig.breaker.settings, onChange: () => probeLoop?.trigger() };
    const tenantOffsetMinutes = -480; // the sandbox's default time zone, as it reports UpdatedDate
    const zuoraControl = {
      ...(zuoraSandbox && { sandbox: zuoraSandbox }),
      describeUpdatedDate: (updatedMs: number) => tenantDateTime(updatedMs, tenantOffsetMinutes),
      ...(observers.onZuoraTouched && { onTouched: observers.onZuoraTouched }),
    };
    const server: Server = createServer((request, response) => {
      if (handleLocalBreakerRequest(request, response, breakerControl)) return;
      if (handleLocalZuoraRequest(request, response, zuoraControl)) return;
      void calloutListener(request, response);
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
      ...(observers.onBatch && { onBatch: observers.onBatch }),
      ...(observers.onError && { onError: observers.onError }),
    });
    // Stopped after the server (no new callouts) and before the sandbox and the emulator: no invocation outlives them.
    cleanups.splice(cleanups.length - 1, 0, () => poller.stop());

    const fullConcurrency = config.poller.concurrency;
    const runProbe = createProbeHandler({
      store: breakerStore,
      controller: new PollerController(poller),
      probe: limioProbeFor({
        limioBaseUrl: limio.baseUrl,
        credentials: { source: 'environment', clientId: limio.clientId, clientSecret: limio.clientSecret },
        limioTimeoutMs: syncConfig.limioTimeoutMs,
        ...probeSubscription(handlerEnv, syncConfig),
      }),
      // Half-open lets a small batch through: never more pollers than full speed has.
      settings: { ...syncConfig.breaker.settings, halfOpenMaxConcurrency: Math.min(syncConfig.breaker.settings.halfOpenMaxConcurrency, fullConcurrency) },
      fullConcurrency,
      ...quietLogger('breaker'),
    });
    const loop = startProbeLoop({
      intervalSeconds: syncConfig.breaker.settings.probeIntervalSeconds,
      run: async () => {
        const report = await runProbe();
        observers.onProbe?.(report);
        return report;
      },
      ...(observers.onError && { onError: observers.onError }),
    });
    probeLoop = loop;
    // Stopped before the poller, so no probe run resumes a poller that is stopping.
    cleanups.splice(cleanups.length - 1, 0, () => loop.stop());

    // The sweep Lambda as deployed, invoked by a timer instead of its EventBridge schedule (first run one interval
    // after the start, as a schedule's would be). It shares only the event loop with the callout path: a slow or
    // failing Zuora delays nothing there, and a failed run is reported and the next one runs on time.
    const sweepLambda = createSweepLambda(loadSweepLambdaConfig(sweepLambdaEnv({ ...handlerEnv, ...TABLE_VARIABLES }, zuora)), quietLogger('sweep'));
    const sweepSchedule = startProbeLoop({
      intervalSeconds: config.sweepIntervalSeconds,
      run: async () => {
        try {
          observers.onSweep?.(await sweepLambda({}, createLambdaContext('sweep', LOCAL_SWEEP_TIMEOUT_SECONDS * 1000)));
        } catch (error) {
          if (observers.onSweepFailed) observers.onSweepFailed(error as Error);
          else throw error;
        }
      },
      ...(observers.onError && { onError: observers.onError }),
    });
    // Stopped first (after the server): no new run, and one under way ends at its next sandbox request; against a
    // tenant it gets a short grace before the rest closes.
    cleanups.splice(cleanups.length - 1, 0, () => {
      zuoraSandbox?.refuseAll();
      return Promise.race([sweepSchedule.stop(), new Promise<void>((resolve) => setTimeout(resolve, SWEEP_STOP_GRACE_MS).unref())]);
    });

    let workersStopped: Promise<void> | undefined;
    let stopped: Promise<void> | undefined;
    return {
      config,
      calloutUrl: `http://${config.host}:${port}${LOCAL_DEFAULTS.calloutPath}`,
      sqsEndpoint: emulator.endpoint,
      queues,
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
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
