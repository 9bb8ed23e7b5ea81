import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS } from '../functions/shared/defaults';
import { LOCAL_DEFAULTS, LOCAL_TABLES } from '../local/defaults';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../local/sqs-emulator';
import { CLI_AWS_CLIENT_OPTIONS } from './aws-clients';
import type { Env, TargetNeeds, Targets } from './target-types';
import { TargetUnreachable, UsageError } from './usage-error';

/** The `npm start` runtime: the SQS emulator on SQS_PORT and the callout endpoint on PORT, queues by name. */
export async function localTargets(env: Env, needs: TargetNeeds): Promise<Targets> {
  const sqsPort = port(env, 'SQS_PORT', LOCAL_DEFAULTS.sqsPort);
  const calloutPort = port(env, 'PORT', LOCAL_DEFAULTS.calloutPort);
  const endpoint = `http://${LOCAL_DEFAULTS.host}:${sqsPort}`;
  // The emulator checks no credentials; fixed dummy ones keep real AWS credentials from ever being sent to it.
  const sqs = new SQSClient({ ...CLI_AWS_CLIENT_OPTIONS, endpoint, region: env.AWS_REGION ?? EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
  const queueUrl = async (name: string) => {
    try {
      return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
    } catch (error) {
      sqs.destroy();
      const problem = (error as Error).name === 'QueueDoesNotExist' ? `queue "${name}" does not exist` : (error as Error).message;
      throw new TargetUnreachable('--local', `cannot reach the local runtime's SQS emulator at ${endpoint} (${problem}); is \`npm start\` running? (one started with SQS_PORT=0 printed the port it picked, "SQS emulator http://127.0.0.1:N": give it as SQS_PORT=N)`);
    }
  };
  // npm start makes the fan-out queue whenever it has a Zuora connection (always, today); ask rather than assume.
  const accountQueueUrl = needs.accountQueue
    ? await sqs.send(new GetQueueUrlCommand({ QueueName: DEFAULTS.accountQueueName })).then(
        (answer) => answer.QueueUrl,
        () => undefined,
      )
    : undefined;
  return {
    sqs,
    mainQueueUrl: needs.mainQueue ? await queueUrl(DEFAULTS.mainQueueName) : undefined,
    ...(accountQueueUrl !== undefined && { accountQueueUrl }),
    ...(needs.accountQueue && accountQueueUrl === undefined && { accountQueueUnknown: `the local runtime has no fan-out queue "${DEFAULTS.accountQueueName}"` }),
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

export function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || Number(raw) > 65535) throw new UsageError(name, `expected a port from 1 to 65535, got "${raw}"`);
  return Number(raw);
}
