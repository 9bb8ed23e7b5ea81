import * as path from 'node:path';
import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { INFRA_DEFAULTS, type BridgeSettings } from '../settings';

const PROJECT_ROOT = path.join(__dirname, '..', '..');

export type BridgeFunctionName = 'Callout' | 'Sync' | 'Probe' | 'Sweep' | 'FanOut';

export interface BridgeFunctionOptions
  extends Pick<nodejs.NodejsFunctionProps, 'reservedConcurrentExecutions' | 'retryAttempts' | 'maxEventAge'> {
  /** The handler file, relative to the project root. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
}

/** The variables every function reads besides its own. */
export function sharedEnvironment(settings: BridgeSettings): Record<string, string> {
  return {
    ...(settings.subscriptionIdPattern === undefined
      ? {}
      : { SUBSCRIPTION_ID_PATTERN: settings.subscriptionIdPattern }),
    NODE_OPTIONS: '--enable-source-maps',
    POWERTOOLS_SERVICE_NAME: INFRA_DEFAULTS.serviceName,
    POWERTOOLS_METRICS_NAMESPACE: INFRA_DEFAULTS.metricsNamespace,
  };
}

/** The retry budget and backoff of the functions that retry through their queue (sync and fan-out). */
export function retryEnvironment(settings: BridgeSettings): Record<string, string> {
  return {
    RETRY_BUDGET_SECONDS: String(settings.retryBudgetSeconds),
    MAX_ATTEMPTS: String(settings.maxAttempts),
    BACKOFF_BASE_SECONDS: String(settings.backoffBaseSeconds),
    BACKOFF_MAX_SECONDS: String(settings.backoffMaxSeconds),
  };
}

/**
 * One of the bridge's Lambdas, as every one of them is built: `<name>Logs`, `<name>Role` and `<name>Function` in
 * `scope`, bundled by the project's own esbuild.
 */
export function bridgeFunction(
  scope: Construct,
  name: BridgeFunctionName,
  options: BridgeFunctionOptions,
  settings: BridgeSettings,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, `${name}Logs`, {
    retention: settings.logRetentionDays as logs.RetentionDays,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // An own role instead of AWSLambdaBasicExecutionRole: it may write to its own log group and nothing else
  // until the grants below add exactly what the function needs.
  const role = new iam.Role(scope, `${name}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `zuora-limio-sync ${name.toLowerCase()} function`,
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  return new nodejs.NodejsFunction(scope, `${name}Function`, {
    entry: path.join(PROJECT_ROOT, options.entry),
    handler: 'handler',
    description: options.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    timeout: options.timeout,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: options.environment,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    retryAttempts: options.retryAttempts,
    maxEventAge: options.maxEventAge,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
    bundling: {
      // The project's own esbuild: synth needs neither Docker nor network.
      forceDockerBundling: false,
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      target: 'node24',
      format: nodejs.OutputFormat.CJS,
      // The Lambda runtime ships AWS SDK v3: leaving it out keeps the bundle, and so the cold start, small.
      externalModules: ['@aws-sdk/*'],
    },
  });
}
