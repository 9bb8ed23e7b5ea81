import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import { credentialsSourceFor, LimioClient, LimioTokenCache } from '../limio';
import { DEFAULTS } from '../shared/defaults';
import { METRICS_NAMESPACE } from '../shared/metrics';
import type { BreakerStore } from './breaker-store';
import { DynamoDbBreakerStore } from './dynamodb-store';
import { createLimioProbe } from './limio-probe';
import { LambdaEventSourceController, type SyncPollingController } from './polling-controller';
import type { ProbeConfig } from './probe-config';
import { createProbeHandler, type LimioProbe, type ProbeRunReport } from './probe-handler';
import { breakerOutcomeOf } from './sync-outcome';

const BREAKER_SERVICE_NAME = 'breaker';

/**
 * The probe as the sync Lambda would see Limio: the same client-credentials token client and sync client,
 * with a token cache made afresh for every probe so that each probe really asks the token endpoint.
 */
export function limioProbeFor(
  config: Pick<ProbeConfig, 'limioBaseUrl' | 'credentials' | 'limioTimeoutMs' | 'probeSubscriptionId'>,
  secretsManager?: SecretsManagerClient,
): LimioProbe {
  // Shared by every probe of the container: the secret is read once, again only if the endpoint refuses it.
  const credentials = credentialsSourceFor(config.credentials, secretsManager);
  return async () => {
    const tokens = new LimioTokenCache({
      baseUrl: config.limioBaseUrl,
      credentials,
      timeoutMs: config.limioTimeoutMs,
      expiryMarginSeconds: DEFAULTS.tokenExpiryMarginSeconds,
    });
    const probeSubscriptionId = config.probeSubscriptionId;
    const client = new LimioClient({ baseUrl: config.limioBaseUrl, tokens, timeoutMs: config.limioTimeoutMs });
    return createLimioProbe({
      requestToken: () => tokens.token(),
      ...(probeSubscriptionId !== undefined && {
        syncProbeSubscription: async () => breakerOutcomeOf((await client.sync(probeSubscriptionId)).outcome),
      }),
    })();
  };
}

export interface ProbeLambdaDependencies {
  readonly store?: BreakerStore;
  readonly controller?: SyncPollingController;
  readonly probe?: LimioProbe;
  readonly dynamo?: DynamoDBClient;
  readonly lambda?: LambdaClient;
  readonly secretsManager?: SecretsManagerClient;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

/** The deployed probe Lambda, from its validated configuration; every part can be replaced for tests. */
export function createProbeLambda(
  config: ProbeConfig,
  dependencies: ProbeLambdaDependencies = {},
): () => Promise<ProbeRunReport> {
  return createProbeHandler({
    store:
      dependencies.store ??
      new DynamoDbBreakerStore(dependencies.dynamo ?? new DynamoDBClient(BATCH_AWS_CLIENT_OPTIONS), config.tableName),
    controller:
      dependencies.controller ??
      new LambdaEventSourceController(
        dependencies.lambda ?? new LambdaClient(BATCH_AWS_CLIENT_OPTIONS),
        config.eventSourceMappingId,
      ),
    probe: dependencies.probe ?? limioProbeFor(config, dependencies.secretsManager),
    settings: config.settings,
    fullConcurrency: config.fullConcurrency,
    ...(dependencies.now && { now: dependencies.now }),
    logger: dependencies.logger ?? new Logger({ serviceName: BREAKER_SERVICE_NAME }),
    metrics: dependencies.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: BREAKER_SERVICE_NAME }),
  });
}
