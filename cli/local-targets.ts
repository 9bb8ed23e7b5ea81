import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS } from '../functions/shared/defaults';
import { LOCAL_DEFAULTS, LOCAL_TABLES } from '../local/defaults';
import {
  findRuntimeRecord,
  RUNTIME_RECORD_VARIABLE,
  type RecordLookup,
  type RuntimeRecord,
} from '../local/runtime-record';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { CLI_AWS_CLIENT_OPTIONS } from './aws-clients';
import type { Env, TargetFlags, TargetNeeds, Targets } from './target-types';
import { TargetUnreachable, UsageError } from './usage-error';
import { zuoraTarget } from './zuora-target';

/**
 * The `npm start` runtime. Each part is found by, first: its variable (PORT, SQS_PORT, DYNAMODB_PORT,
 * ZUORA_SANDBOX_PORT), then the record npm start writes where it listens (local/runtime-record.ts), then the
 * default port. A record whose runtime is gone is reported as such when a part would have come from it.
 */
export async function localTargets(
  env: Env,
  needs: TargetNeeds,
  flags: TargetFlags = { local: true },
): Promise<Targets> {
  const found = await findRuntimeRecord(env);
  const recorded = found.kind === 'live' ? found.record : undefined;
  /** The record's value for a part no variable names; throws when the record cannot be trusted for it. */
  const fromRecord = <T>(variable: string, pick: (record: RuntimeRecord) => T | undefined): T | undefined => {
    if (env[variable] !== undefined && env[variable]!.trim() !== '') return undefined;
    if (found.kind === 'stale' || found.kind === 'unreadable') throw recordProblem(found, variable);
    return recorded ? pick(recorded) : undefined;
  };
  const partPort = (variable: string, pick: (record: RuntimeRecord) => number | undefined, fallback: number) =>
    fromRecord(variable, pick) ?? port(env, variable, fallback);

  const sqsPort = partPort('SQS_PORT', (record) => record.ports.sqs, LOCAL_DEFAULTS.sqsPort);
  const calloutPort = partPort('PORT', (record) => record.ports.callout, LOCAL_DEFAULTS.calloutPort);
  const endpoint = `http://${LOCAL_DEFAULTS.host}:${sqsPort}`;
  // The queue URLs the runtime recorded hold for the emulator it recorded; one named by SQS_PORT is asked.
  const recordedQueues = fromRecord('SQS_PORT', (record) => record.queues);
  const whereFrom = recorded ? `the runtime record ${found.file}` : `SQS_PORT, or ${RUNTIME_RECORD_VARIABLE}`;
  // The emulator checks no credentials; fixed dummy ones keep real AWS credentials from ever being sent to it.
  const sqs = new SQSClient({
    ...CLI_AWS_CLIENT_OPTIONS,
    endpoint,
    region: env.AWS_REGION ?? EMULATOR_REGION,
    credentials: EMULATOR_CREDENTIALS,
  });
  const queueUrl = async (name: string, known: string | undefined) => {
    if (known !== undefined) return known;
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (error) {
      sqs.destroy();
      const problem =
        (error as Error).name === 'QueueDoesNotExist' ? `queue "${name}" does not exist` : (error as Error).message;
      throw new TargetUnreachable(
        '--local',
        `cannot reach the local runtime's SQS emulator at ${endpoint} (${problem}); is \`npm start\` running? ` +
          (found.kind === 'none'
            ? `(no runtime record at ${found.file}: npm start writes one once ready; a runtime started elsewhere is found by its ports, e.g. SQS_PORT=N as it printed "SQS emulator http://127.0.0.1:N")`
            : `(the port came from ${whereFrom})`),
      );
    }
  };
  // npm start makes the fan-out queue whenever it has a Zuora connection (always, today); ask rather than assume.
  const accountQueueUrl = needs.accountQueue
    ? recordedQueues !== undefined
      ? recordedQueues.account
      : await sqs.send(new GetQueueUrlCommand({ QueueName: DEFAULTS.accountQueueName })).then(
          (answer) => answer.QueueUrl,
          () => undefined,
        )
    : undefined;
  const recordedAuth = needs.callout ? recorded?.calloutAuth : undefined;
  return {
    sqs,
    mainQueueUrl: needs.mainQueue ? await queueUrl(DEFAULTS.mainQueueName, recordedQueues?.main) : undefined,
    ...(accountQueueUrl !== undefined && { accountQueueUrl }),
    ...(needs.accountQueue &&
      accountQueueUrl === undefined && {
        accountQueueUnknown: `the local runtime has no fan-out queue "${DEFAULTS.accountQueueName}"`,
        accountQueueAbsent: true,
      }),
    deadLetterQueueUrl: needs.deadLetterQueue
      ? await queueUrl(DEFAULTS.deadLetterQueueName, recordedQueues?.deadLetter)
      : undefined,
    calloutUrl: `http://${LOCAL_DEFAULTS.host}:${calloutPort}${LOCAL_DEFAULTS.calloutPath}`,
    // The callout is signed as the runtime checks, unless the variables or flags say otherwise (callout.ts).
    ...(recordedAuth && { calloutVariables: recordedAuth, calloutPreemptive: recorded?.apiKind === 'http' }),
    // The runtime keeps its breaker in memory and serves it on its own HTTP server (local/breaker-control.ts).
    ...(needs.breaker && { breaker: { kind: 'local', baseUrl: `http://${LOCAL_DEFAULTS.host}:${calloutPort}` } }),
    ...(needs.ledger && {
      ledger: {
        kind: 'table',
        tableName: LOCAL_TABLES.ledger,
        localEndpoint: `http://${LOCAL_DEFAULTS.host}:${partPort('DYNAMODB_PORT', (record) => record.ports.dynamoDb, LOCAL_DEFAULTS.dynamoDbPort)}`,
      },
    }),
    ...(needs.zuora && { zuora: zuoraTarget(flags, env, {}, localZuora(env, fromRecord)) }),
    description: `local runtime (SQS ${endpoint}${recorded ? `; found by ${found.file}` : ''})`,
  };
}

/**
 * The Zuora the runtime sweeps: its sandbox (ZUORA_SANDBOX_PORT, the record, 4020), or the tenant it recorded
 * (whose credentials the CLI takes from ZUORA_CLIENT_ID/ZUORA_CLIENT_SECRET, as npm start did).
 */
function localZuora(
  env: Env,
  fromRecord: <T>(variable: string, pick: (record: RuntimeRecord) => T | undefined) => T | undefined,
): { value: string; input: string; sandbox: boolean } {
  const recordedSandboxPort = fromRecord('ZUORA_SANDBOX_PORT', (record) => record.ports.zuoraSandbox);
  if (recordedSandboxPort !== undefined)
    return {
      value: `http://${LOCAL_DEFAULTS.host}:${recordedSandboxPort}`,
      input: "the runtime record's Zuora sandbox",
      sandbox: true,
    };
  const recordedTenant = fromRecord('ZUORA_SANDBOX_PORT', (record) =>
    record.ports.zuoraSandbox === undefined ? record.zuoraBaseUrl : undefined,
  );
  if (recordedTenant !== undefined)
    return { value: recordedTenant, input: "the runtime record's Zuora tenant", sandbox: false };
  return {
    value: `http://${LOCAL_DEFAULTS.host}:${port(env, 'ZUORA_SANDBOX_PORT', LOCAL_DEFAULTS.zuoraSandboxPort)}`,
    input: 'the local Zuora sandbox on ZUORA_SANDBOX_PORT',
    sandbox: true,
  };
}

function recordProblem(
  found: Extract<RecordLookup, { kind: 'stale' | 'unreadable' }>,
  variable: string,
): UsageError | TargetUnreachable {
  const what = found.kind === 'stale' ? `is stale: ${found.reason}` : `cannot be read: ${found.reason}`;
  // A stale record means the runtime is not running: the target is unreachable, however right the command line.
  return new (found.kind === 'stale' ? TargetUnreachable : UsageError)(
    '--local',
    `the runtime record ${found.file} ${what}. Is \`npm start\` running? Starting it again rewrites the record; or remove the file, or give the port as ${variable}=N`,
  );
}

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 65535)
    throw new UsageError(name, `expected a port from 1 to 65535, got "${raw}"`);
  return Number(raw);
}
