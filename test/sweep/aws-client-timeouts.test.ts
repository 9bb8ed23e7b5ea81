import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { createSweepLambda, loadSweepLambdaConfig, SweepFailedError } from '../../functions/sweep/lambda-sweep';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { captureOutput, type CapturedOutput } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { startStalledServer, type StalledServer } from '../support/stalled-server';

// The sweep Lambda's own AWS clients (the ones it builds when none is given) against a server that accepts
// connections and never answers: without request timeouts a stalled call would hold the run past its deadline,
// and past the Lambda timeout, before the watermark is written. Each test here would then hang until jest gives up.

const MINUTE = 60_000;
const ZUORA_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:zuora-client-AbCdEf';
const AWS_ENV = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
] as const;
const invocation = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

describe("sweep Lambda's AWS clients time out (Zuora sandbox, DynamoDB emulator, a server that never answers)", () => {
  const dynamoEmulator = useDynamoDbEmulator();
  let stalled: StalledServer;
  let sandbox: ZuoraSandbox;
  let output: CapturedOutput;
  let ledgerTableName: string;
  let counter = 0;
  const saved: Partial<Record<(typeof AWS_ENV)[number], string>> = {};

  beforeEach(async () => {
    counter += 1;
    for (const name of AWS_ENV) saved[name] = process.env[name];
    stalled = await startStalledServer();
    sandbox = await startZuoraSandbox();
    ledgerTableName = `sweep-timeouts-${counter}`;
    await createOnDemandTable(dynamoEmulator.dynamodb, {
      tableName: ledgerTableName,
      partitionKey: LEDGER_PARTITION_KEY,
    });
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: stalled.url,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEmulator.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: stalled.url,
    });
    sandbox.touch('A-S00000001', Date.now() - 20 * MINUTE);
  });
  afterEach(async () => {
    for (const name of AWS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    output?.restore();
    await sandbox.stop();
    await stalled.stop();
  });

  /** The Lambda with the clients it builds itself; the queue on the stalled server, so its URL cannot route elsewhere. */
  function sweepLambda() {
    const config = loadSweepLambdaConfig({
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_SECRET_ID: ZUORA_SECRET_ARN,
      QUEUE_URL: `${stalled.url}/000000000000/main`,
      LEDGER_TABLE_NAME: ledgerTableName,
    });
    output = captureOutput();
    return createSweepLambda(config, {
      logger: new Logger({ serviceName: 'sweep-test' }),
      metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'sweep-test' }),
    });
  }
  const errorLine = () => output.lines().find((line) => line.level === 'ERROR');

  it('a stalled SQS: the run fails as enqueue within seconds, instead of running into the Lambda timeout', async () => {
    const secrets = mockClient(SecretsManagerClient);
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }) });
    try {
      await expect(sweepLambda()({}, invocation(5 * MINUTE))).rejects.toThrow(SweepFailedError);
    } finally {
      secrets.restore();
    }
    expect(errorLine()).toMatchObject({ errorKind: 'enqueue' });
    // The enqueue's three attempts, each tried twice by the SDK.
    expect(stalled.requests()).toBe(6);
  }, 40_000);

  it('a stalled Secrets Manager (read through Powertools): the run fails as credentials within seconds', async () => {
    await expect(sweepLambda()({}, invocation(5 * MINUTE))).rejects.toThrow(SweepFailedError);
    expect(errorLine()).toMatchObject({ errorKind: 'credentials' });
    expect(stalled.requests()).toBe(2);
  }, 25_000);

  it('a stalled DynamoDB: the watermark read fails within seconds', async () => {
    process.env.AWS_ENDPOINT_URL_DYNAMODB = stalled.url;
    await expect(sweepLambda()({}, invocation(5 * MINUTE))).rejects.toThrow(SweepFailedError);
    expect(stalled.requests()).toBe(2);
  }, 25_000);
});
