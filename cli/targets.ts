import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS } from '../functions/shared/defaults';
import { LOCAL_DEFAULTS, LOCAL_TABLES, LOCAL_ZUORA_CLIENT } from '../local/defaults';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { UsageError } from './usage-error';

type Env = Readonly<Record<string, string | undefined>>;

/** Where a command acts: chosen by exactly one of --local, --stack NAME, or explicit URLs (flags or env). */
export interface TargetFlags {
  local?: boolean;
  stack?: string;
  queueUrl?: string;
  dlqUrl?: string;
  url?: string;
  /** The circuit breaker's DynamoDB table (or env ZLS_BREAKER_TABLE). */
  breakerTable?: string;
  /** The sync ledger's DynamoDB table (or env ZLS_LEDGER_TABLE). */
  ledgerTable?: string;
  /** The Zuora tenant's REST root (or the stack output ZuoraBaseUrl, or env ZUORA_BASE_URL). */
  zuoraUrl?: string;
  /** The Secrets Manager secret {"clientId","clientSecret"} of the Zuora OAuth client (or the stack output ZuoraSecretArn). */
  zuoraSecret?: string;
  /** Lets signed AWS requests go to an https host that is not AWS's (an SQS-compatible service the operator trusts). */
  allowNonAwsEndpoint?: boolean;
  /** Lets signed AWS requests or a callout's credentials go over plain http to a host that is not this machine. */
  allowInsecureTarget?: boolean;
}

export const ALLOW_NON_AWS_ENDPOINT_FLAG = '--allow-non-aws-endpoint';
export const ALLOW_INSECURE_TARGET_FLAG = '--allow-insecure-target';

/** Where the circuit breaker lives. */
export type BreakerTarget =
  | { readonly kind: 'table'; readonly tableName: string }
  /** The `npm start` runtime's in-memory breaker, at this base URL's /_local/breaker. */
  | { readonly kind: 'local'; readonly baseUrl: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/** Where the sync ledger lives. */
export type LedgerTarget =
  /** `localEndpoint`: the `npm start` runtime's DynamoDB emulator (no AWS credentials are sent there). */
  | { readonly kind: 'table'; readonly tableName: string; readonly localEndpoint?: string }
  | { readonly kind: 'unavailable'; readonly reason: string };

/**
 * The Zuora tenant a sweep reads, as the variables the sweep's own configuration reads (ZUORA_BASE_URL and
 * ZUORA_SECRET_ID or ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET), so loadSweepConfig checks them exactly as it does for
 * the Lambda; `inputs` says which flag, output or variable gave each, for error messages.
 */
export interface ZuoraTarget {
  readonly variables: Readonly<Record<string, string>>;
  readonly inputs: Readonly<Record<string, string>>;
  /** One line for the operator: which tenant, and where its credentials come from (never their value). */
  readonly description: string;
}

export interface Targets {
  readonly sqs: SQSClient;
  readonly mainQueueUrl?: string;
  readonly deadLetterQueueUrl?: string;
  readonly calloutUrl?: string;
  /** Set when the command asked for the breaker. */
  readonly breaker?: BreakerTarget;
  /** Set when the command asked for the ledger. */
  readonly ledger?: LedgerTarget;
  /** Set when the command asked for Zuora. */
  readonly zuora?: ZuoraTarget;
  /** One line for the operator: which deployment this is about. */
  readonly description: string;
}

export interface TargetNeeds {
  mainQueue?: boolean;
  deadLetterQueue?: boolean;
  callout?: boolean;
  /** `required`: refuse to run without it; `optional`: say why it is unavailable (status). */
  breaker?: 'required' | 'optional';
  /** `required`: refuse to run without it; `optional`: say why it is unavailable (trace). */
  ledger?: 'required' | 'optional';
  zuora?: boolean;
}

/** The CloudFormation outputs of the deployed stack (see the infra construct). */
export const STACK_OUTPUTS = {
  mainQueueUrl: 'MainQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  calloutUrl: 'CalloutUrl',
  breakerTableName: 'BreakerTableName',
  ledgerTableName: 'LedgerTableName',
  zuoraBaseUrl: 'ZuoraBaseUrl',
  zuoraSecretArn: 'ZuoraSecretArn',
} as const;

export interface TargetDependencies {
  /** Reads a stack's outputs; defaults to CloudFormation DescribeStacks. */
  readStackOutputs?: (stackName: string) => Promise<Record<string, string>>;
  /** Makes the SQS client for a stack or explicit queue URLs; defaults to awsSqsClient (tests wrap it). */
  sqsClient?: (env: Env, queueUrl: string | undefined) => SQSClient;
}

export async function resolveTargets(
  flags: TargetFlags,
  env: Env,
  needs: TargetNeeds,
  dependencies: TargetDependencies = {},
): Promise<Targets> {
  const explicitFlag =
    flags.queueUrl !== undefined ? '--queue-url'
    : flags.dlqUrl !== undefined ? '--dlq-url'
    : flags.url !== undefined ? '--url'
    : flags.breakerTable !== undefined ? '--breaker-table'
    : flags.ledgerTable !== undefined ? '--ledger-table'
    : undefined;
  if (flags.local && flags.stack !== undefined) throw new UsageError('--stack', 'cannot be combined with --local; pick one target');
  if (explicitFlag && (flags.local || flags.stack !== undefined)) {
    throw new UsageError(explicitFlag, `cannot be combined with ${flags.local ? '--local' : '--stack'}; pick one target`);
  }

  if (flags.local) {
    const local = await localTargets(env, needs);
    return { ...local, ...(needs.zuora && { zuora: zuoraTarget(flags, env, {}) }) };
  }

  if (flags.stack !== undefined) {
    const stackName = flags.stack.trim();
    if (stackName === '') throw new UsageError('--stack', 'needs the CloudFormation stack name');
    if (!dependencies.readStackOutputs) checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL']);
    const readOutputs = dependencies.readStackOutputs ?? ((name: string) => describeStackOutputs(name, env));
    const outputs = await readOutputs(stackName);
    const output = (name: string, needed: boolean | undefined) => {
      const value = outputs[name];
      if (needed && !value) throw new UsageError('--stack', `stack "${stackName}" has no output ${name} (found: ${Object.keys(outputs).join(', ') || 'none'})`);
      return value;
    };
    const mainQueueUrl = output(STACK_OUTPUTS.mainQueueUrl, needs.mainQueue);
    const deadLetterQueueUrl = output(STACK_OUTPUTS.deadLetterQueueUrl, needs.deadLetterQueue);
    const breakerTableName = output(STACK_OUTPUTS.breakerTableName, needs.breaker === 'required');
    const calloutUrl = output(STACK_OUTPUTS.calloutUrl, needs.callout);
    const ledgerTableName = output(STACK_OUTPUTS.ledgerTableName, needs.ledger === 'required');
    const zuora = needs.zuora ? zuoraTarget(flags, env, { stackName, outputs }) : undefined;
    // Outputs are data too: a stack (or whatever answered for CloudFormation) gets the same checks as a flag.
    checkSqsDestinations(flags, env, [
      ['--stack', needs.mainQueue ? mainQueueUrl : undefined],
      ['--stack', needs.deadLetterQueue ? deadLetterQueueUrl : undefined],
    ]);
    if (calloutUrl) checkCalloutDestination(flags, '--stack', calloutUrl);
    if ((needs.breaker && breakerTableName) || (needs.ledger && ledgerTableName)) checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL']);
    return {
      sqs: (dependencies.sqsClient ?? awsSqsClient)(env, mainQueueUrl ?? deadLetterQueueUrl),
      mainQueueUrl,
      deadLetterQueueUrl,
      calloutUrl,
      ...(needs.breaker && {
        breaker: breakerTableName
          ? { kind: 'table', tableName: breakerTableName }
          : { kind: 'unavailable', reason: `stack "${stackName}" has no ${STACK_OUTPUTS.breakerTableName} output (deployed before outage mode; redeploy)` },
      }),
      ...(needs.ledger && {
        ledger: ledgerTableName
          ? { kind: 'table', tableName: ledgerTableName }
          : { kind: 'unavailable', reason: `stack "${stackName}" has no ${STACK_OUTPUTS.ledgerTableName} output (deployed before the sync ledger; redeploy)` },
      }),
      ...(zuora && { zuora }),
      description: `stack ${stackName}`,
    };
  }

  const mainQueueUrl = urlFrom('--queue-url', flags.queueUrl) ?? urlFrom('ZLS_QUEUE_URL', env.ZLS_QUEUE_URL);
  const deadLetterQueueUrl = urlFrom('--dlq-url', flags.dlqUrl) ?? urlFrom('ZLS_DLQ_URL', env.ZLS_DLQ_URL);
  const calloutUrl = urlFrom('--url', flags.url);
  const breakerTableName = tableNameFrom('--breaker-table', flags.breakerTable) ?? tableNameFrom('ZLS_BREAKER_TABLE', env.ZLS_BREAKER_TABLE);
  const ledgerTableName = tableNameFrom('--ledger-table', flags.ledgerTable) ?? tableNameFrom('ZLS_LEDGER_TABLE', env.ZLS_LEDGER_TABLE);
  const missing = [
    needs.mainQueue && !mainQueueUrl && '--queue-url (or ZLS_QUEUE_URL)',
    needs.deadLetterQueue && !deadLetterQueueUrl && '--dlq-url (or ZLS_DLQ_URL)',
    needs.callout && !calloutUrl && '--url',
    needs.breaker === 'required' && !breakerTableName && '--breaker-table (or ZLS_BREAKER_TABLE)',
    needs.ledger === 'required' && !ledgerTableName && '--ledger-table (or ZLS_LEDGER_TABLE)',
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(String(missing[0]).split(' ')[0], `no target given: use --local, --stack NAME, or ${missing.join(' and ')}`);
  }
  const mainQueueInput = flags.queueUrl?.trim() ? '--queue-url' : 'ZLS_QUEUE_URL';
  const deadLetterQueueInput = flags.dlqUrl?.trim() ? '--dlq-url' : 'ZLS_DLQ_URL';
  checkSqsDestinations(flags, env, [
    [mainQueueInput, mainQueueUrl],
    [deadLetterQueueInput, deadLetterQueueUrl],
  ]);
  if (calloutUrl) checkCalloutDestination(flags, '--url', calloutUrl);
  if ((needs.breaker && breakerTableName) || (needs.ledger && ledgerTableName)) checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL']);
  const zuora = needs.zuora ? zuoraTarget(flags, env, {}) : undefined;
  return {
    sqs: (dependencies.sqsClient ?? awsSqsClient)(env, mainQueueUrl ?? deadLetterQueueUrl),
    mainQueueUrl,
    deadLetterQueueUrl,
    calloutUrl,
    ...(needs.breaker && {
      breaker: breakerTableName
        ? { kind: 'table', tableName: breakerTableName }
        : { kind: 'unavailable', reason: 'give --breaker-table NAME (or ZLS_BREAKER_TABLE): the stack output BreakerTableName' },
    }),
    ...(needs.ledger && {
      ledger: ledgerTableName
        ? { kind: 'table', tableName: ledgerTableName }
        : { kind: 'unavailable', reason: 'give --ledger-table NAME (or ZLS_LEDGER_TABLE): the stack output LedgerTableName' },
    }),
    ...(zuora && { zuora }),
    description: 'queues given explicitly',
  };
}

/** The `npm start` runtime: the SQS emulator on SQS_PORT and the callout endpoint on PORT, queues by name. */
async function localTargets(env: Env, needs: TargetNeeds): Promise<Targets> {
  const sqsPort = port(env, 'SQS_PORT', LOCAL_DEFAULTS.sqsPort);
  const calloutPort = port(env, 'PORT', LOCAL_DEFAULTS.calloutPort);
  const endpoint = `http://${LOCAL_DEFAULTS.host}:${sqsPort}`;
  // The emulator checks no credentials; fixed dummy ones keep real AWS credentials from ever being sent to it.
  const sqs = new SQSClient({ endpoint, region: env.AWS_REGION ?? EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  const queueUrl = async (name: string) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (error) {
      sqs.destroy();
      const problem = (error as Error).name === 'QueueDoesNotExist' ? `queue "${name}" does not exist` : (error as Error).message;
      throw new UsageError('--local', `cannot reach the local runtime's SQS emulator at ${endpoint} (${problem}); is \`npm start\` running? (one started with SQS_PORT=0 printed the port it picked, "SQS emulator http://127.0.0.1:N": give it as SQS_PORT=N)`);
    }
  };
  return {
    sqs,
    mainQueueUrl: needs.mainQueue ? await queueUrl(DEFAULTS.mainQueueName) : undefined,
    deadLetterQueueUrl: needs.deadLetterQueue ? await queueUrl(DEFAULTS.deadLetterQueueName) : undefined,
    calloutUrl: `http://${LOCAL_DEFAULTS.host}:${calloutPort}${LOCAL_DEFAULTS.calloutPath}`,
    // The runtime keeps its breaker in memory and serves it on its own HTTP server (local/breaker-control.ts).
    ...(needs.breaker && { breaker: { kind: 'local', baseUrl: `http://${LOCAL_DEFAULTS.host}:${calloutPort}` } }),
    ...(needs.ledger && {
      ledger: {
        kind: 'table',
        tableName: LOCAL_TABLES.ledger,
        localEndpoint: `http://${LOCAL_DEFAULTS.host}:${port(env, 'DYNAMODB_PORT', LOCAL_DEFAULTS.dynamoDbPort)}`,
      },
    }),
    description: `local runtime (SQS ${endpoint})`,
  };
}

/**
 * A client for real SQS, or whatever AWS_ENDPOINT_URL_SQS points at. The endpoint is passed explicitly because
 * without a configured endpoint the SQS client sends each call to the host named in the queue URL. Without AWS_REGION, the region is read from
 * the queue URL (https://sqs.eu-west-1.amazonaws.com/...), so a copied URL is all an operator needs.
 */
export function awsSqsClient(env: Env, queueUrl: string | undefined): SQSClient {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfQueueUrl(queueUrl);
  return new SQSClient({ ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/** A client for the breaker's table in real DynamoDB, or whatever AWS_ENDPOINT_URL_DYNAMODB points at. */
export function awsDynamoClient(env: Env, queueUrl: string | undefined, config: DynamoDBClientConfig = {}): DynamoDBClient {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfQueueUrl(queueUrl);
  return new DynamoDBClient({ ...config, ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/**
 * The Zuora tenant and its credentials, first found of: the flags, the stack's outputs, the environment's own
 * ZUORA_* variables and, for --local only, the runtime's Zuora sandbox. A Secrets Manager secret is read with
 * signed requests, so it gets the same destination check as every AWS call.
 */
function zuoraTarget(flags: TargetFlags, env: Env, stack: { stackName?: string; outputs?: Record<string, string> }): ZuoraTarget {
  const fromStack = (name: string) => (stack.outputs?.[name] ? { value: stack.outputs[name], input: `stack output ${name}` } : undefined);
  const given = (input: string, raw: string | undefined) => (raw !== undefined && raw.trim() !== '' ? { value: raw.trim(), input } : undefined);
  const sandbox = flags.local
    ? { value: `http://${LOCAL_DEFAULTS.host}:${port(env, 'ZUORA_SANDBOX_PORT', LOCAL_DEFAULTS.zuoraSandboxPort)}`, input: 'the local Zuora sandbox on ZUORA_SANDBOX_PORT' }
    : undefined;
  const baseUrl =
    given('--zuora-url', flags.zuoraUrl) ?? fromStack(STACK_OUTPUTS.zuoraBaseUrl) ?? given('ZUORA_BASE_URL', env.ZUORA_BASE_URL) ?? sandbox;
  if (baseUrl === undefined) {
    throw new UsageError(
      '--zuora-url',
      stack.stackName !== undefined
        ? `stack "${stack.stackName}" has no ${STACK_OUTPUTS.zuoraBaseUrl} output (its sweep is off): give the tenant's REST root, e.g. https://rest.zuora.com (or ZUORA_BASE_URL)`
        : "give the Zuora tenant's REST root, e.g. https://rest.zuora.com (or ZUORA_BASE_URL)",
    );
  }
  const secret = given('--zuora-secret', flags.zuoraSecret) ?? fromStack(STACK_OUTPUTS.zuoraSecretArn) ?? given('ZUORA_SECRET_ID', env.ZUORA_SECRET_ID);
  const variables: Record<string, string> = { ZUORA_BASE_URL: baseUrl.value };
  const inputs: Record<string, string> = { ZUORA_BASE_URL: baseUrl.input };
  let credentialsFrom: string;
  if (secret !== undefined) {
    variables.ZUORA_SECRET_ID = secret.value;
    inputs.ZUORA_SECRET_ID = secret.input;
    credentialsFrom = `Secrets Manager secret ${secret.value}`;
    checkEndpointVariables(flags, env, ['AWS_ENDPOINT_URL_SECRETS_MANAGER', 'AWS_ENDPOINT_URL']);
  } else if (env.ZUORA_CLIENT_ID !== undefined || env.ZUORA_CLIENT_SECRET !== undefined) {
    variables.ZUORA_CLIENT_ID = env.ZUORA_CLIENT_ID ?? '';
    variables.ZUORA_CLIENT_SECRET = env.ZUORA_CLIENT_SECRET ?? '';
    inputs.ZUORA_CLIENT_ID = 'ZUORA_CLIENT_ID';
    inputs.ZUORA_CLIENT_SECRET = 'ZUORA_CLIENT_SECRET';
    credentialsFrom = 'ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET';
  } else if (baseUrl === sandbox) {
    variables.ZUORA_CLIENT_ID = LOCAL_ZUORA_CLIENT.clientId;
    variables.ZUORA_CLIENT_SECRET = LOCAL_ZUORA_CLIENT.clientSecret;
    credentialsFrom = "the sandbox's local client";
  } else {
    throw new UsageError(
      '--zuora-secret',
      `no credentials for ${baseUrl.value}: give the Secrets Manager secret {"clientId","clientSecret"} (or ZUORA_SECRET_ID), or ZUORA_CLIENT_ID and ZUORA_CLIENT_SECRET`,
    );
  }
  return { variables, inputs, description: `Zuora ${baseUrl.value} (from ${baseUrl.input}), credentials from ${credentialsFrom}` };
}

/** A client for the Zuora secret in real Secrets Manager (region from AWS_REGION or the secret's ARN). */
export function awsSecretsManagerClient(env: Env, secretId: string, queueUrl: string | undefined): SecretsManagerClient {
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId)?.[1] ?? regionOfQueueUrl(queueUrl);
  return new SecretsManagerClient({ ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/**
 * Keys given in the CLI's environment are used as given; otherwise the SDK's default chain (profiles, SSO,
 * instance roles) applies.
 */
function credentialsFrom(env: Env) {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return {};
  return {
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
    },
  };
}

export function regionOfQueueUrl(queueUrl: string | undefined): string | undefined {
  return queueUrl ? /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1] : undefined;
}

async function describeStackOutputs(stackName: string, env: Env): Promise<Record<string, string>> {
  const endpoint = env.AWS_ENDPOINT_URL_CLOUDFORMATION ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const client = new CloudFormationClient({ ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
  try {
    const result = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = result.Stacks?.[0];
    if (!stack) throw new UsageError('--stack', `stack "${stackName}" not found`);
    return Object.fromEntries((stack.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue).map((o) => [o.OutputKey!, o.OutputValue!]));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError('--stack', `cannot read the outputs of stack "${stackName}": ${(error as Error).message}`);
  } finally {
    client.destroy();
  }
}

function urlFrom(input: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  // Not new URL(): emulator queue URLs such as http://sqs.us-east-1.127.0.0.1:9324/000000000000/q are valid for
  // SQS but not for the WHATWG parser (a host ending in a number must be an IPv4 address).
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw.trim())) throw new UsageError(input, `expected an http(s) URL, got "${raw}"`);
  return raw.trim();
}

/** DynamoDB table names: 3-255 of letters, digits, "_", "-", ".". */
function tableNameFrom(input: string, raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(raw.trim())) throw new UsageError(input, `expected a DynamoDB table name, got "${raw}"`);
  return raw.trim();
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 65535) throw new UsageError(name, `expected a port from 1 to 65535, got "${raw}"`);
  return Number(raw);
}

/** Where a URL points, as far as sending credentials there is concerned. */
export interface Destination {
  readonly host: string;
  /** This machine: 127.0.0.0/8, localhost or ::1. Nothing crosses a network. */
  readonly local: boolean;
  readonly tls: boolean;
  /** An AWS service endpoint (amazonaws.com, amazonaws.com.cn, api.aws). */
  readonly aws: boolean;
}

export function destinationOf(url: string): Destination {
  // Not new URL(): emulator queue URLs such as http://sqs.us-east-1.127.0.0.1:9324/… are valid for SQS but not for it.
  const match = /^(https?):\/\/(?:[^@/\s]*@)?(\[[^\]]*\]|[^/:?#\s]+)/i.exec(url.trim());
  const host = (match?.[2] ?? '').toLowerCase().replace(/\.$/, '');
  const bare = host.replace(/^\[|\]$/g, '');
  return {
    host,
    local: /^127(?:\.\d{1,3}){3}$/.test(bare) || bare === 'localhost' || bare === '::1' || bare === '0:0:0:0:0:0:0:1',
    tls: match?.[1].toLowerCase() === 'https',
    aws: /(?:^|\.)amazonaws\.com(?:\.cn)?$/.test(bare) || /(?:^|\.)api\.aws$/.test(bare),
  };
}

/**
 * Every SQS call is signed with the operator's AWS credentials (the access key id and any session token travel
 * with it) and goes to the configured endpoint or, without one, to the host of the queue URL: refuse to send them
 * anywhere but AWS over TLS, or this machine, unless a flag says the operator means it.
 */
function checkSqsDestinations(flags: TargetFlags, env: Env, queueUrls: ReadonlyArray<readonly [string, string | undefined]>): void {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  if (endpoint) {
    checkSignedDestination(flags, env.AWS_ENDPOINT_URL_SQS ? 'AWS_ENDPOINT_URL_SQS' : 'AWS_ENDPOINT_URL', endpoint);
    return;
  }
  for (const [input, url] of queueUrls) if (url) checkSignedDestination(flags, input, url);
}

function checkEndpointVariables(flags: TargetFlags, env: Env, names: readonly string[]): void {
  const name = names.find((candidate) => env[candidate]);
  if (name) checkSignedDestination(flags, name, env[name]!);
}

function checkSignedDestination(flags: TargetFlags, input: string, url: string): void {
  const destination = destinationOf(url);
  if (destination.local) return;
  const what = 'requests signed with your AWS credentials (the access key id and session token travel with them)';
  if (!destination.tls && !flags.allowInsecureTarget) {
    throw new UsageError(
      input,
      `${url} is plain http to ${destination.host || 'a host'} that is not this machine: ${what} would cross the network in clear. ` +
        `Use https (AWS endpoints always have it), or pass ${ALLOW_INSECURE_TARGET_FLAG} if you really mean it`,
    );
  }
  if (!destination.aws && !flags.allowNonAwsEndpoint) {
    throw new UsageError(
      input,
      `${url} is not an AWS endpoint: ${what} would go to ${destination.host || 'an unknown host'}. ` +
        `Use the queue URL SQS gave you (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME), or pass ${ALLOW_NON_AWS_ENDPOINT_FLAG} if this host is an SQS-compatible service you trust`,
    );
  }
}

/** A callout carries the Basic password, the header secret or an HMAC signature: never in clear over a network. */
function checkCalloutDestination(flags: TargetFlags, input: string, url: string): void {
  const destination = destinationOf(url);
  if (destination.local || destination.tls || flags.allowInsecureTarget) return;
  throw new UsageError(
    input,
    `${url} is plain http to ${destination.host || 'a host'} that is not this machine: the callout's credentials (Basic password, header secret or HMAC signature) ` +
      `would cross the network in clear. Use the https URL, or pass ${ALLOW_INSECURE_TARGET_FLAG} if you really mean it`,
  );
}
