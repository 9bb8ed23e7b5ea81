import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { ConfigError } from '../../functions/shared/config-error';
import {
  createSweepLambda,
  loadSweepLambdaConfig,
  SWEEP_LAMBDA_RESERVE_MS,
  SWEEP_METRICS,
  SweepFailedError,
} from '../../functions/sweep/lambda-sweep';
import { SWEEP_RUN_DEFAULTS } from '../../functions/sweep/sweep';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { startZuoraSandbox, type ZuoraSandbox } from '../../local/zuora-sandbox';
import { drainQueue } from '../callout/queue-reader';
import { captureOutput, metricValues, type CapturedOutput } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';

const MINUTE = 60_000;
const ZUORA_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:zuora-client-AbCdEf';
/** Lambda's context for an invocation with this much time left. */
const invocation = (remainingMs: number) => ({ getRemainingTimeInMillis: () => remainingMs });

describe('sweep Lambda (Zuora sandbox, SQS emulator, DynamoDB emulator; Secrets Manager mocked)', () => {
  const sqsEmulator = useSqsEmulator();
  const dynamoEmulator = useDynamoDbEmulator();
  const secrets = mockClient(SecretsManagerClient);
  let sandbox: ZuoraSandbox;
  let queueUrl: string;
  let ledgerTableName: string;
  let output: CapturedOutput;
  let counter = 0;

  beforeEach(async () => {
    counter += 1;
    sandbox = await startZuoraSandbox({ pageSize: 2 });
    queueUrl = (await sqsEmulator.sqs.send(new CreateQueueCommand({ QueueName: `sweep-lambda-${counter}` }))).QueueUrl!;
    ledgerTableName = `sweep-lambda-ledger-${counter}`;
    await createOnDemandTable(dynamoEmulator.dynamodb, {
      tableName: ledgerTableName,
      partitionKey: LEDGER_PARTITION_KEY,
    });
    secrets.reset();
    secrets
      .on(GetSecretValueCommand, { SecretId: ZUORA_SECRET_ARN })
      .resolves({ SecretString: JSON.stringify({ clientId: sandbox.clientId, clientSecret: sandbox.clientSecret }) });
  });
  afterEach(async () => {
    output?.restore();
    await sandbox.stop();
  });
  afterAll(() => secrets.restore());

  /** The Lambda as deployed: the environment the CDK construct gives it, real clients but Secrets Manager. */
  function sweepLambda(env: Record<string, string> = {}) {
    const config = loadSweepLambdaConfig({
      ZUORA_BASE_URL: sandbox.baseUrl,
      ZUORA_SECRET_ID: ZUORA_SECRET_ARN,
      QUEUE_URL: queueUrl,
      LEDGER_TABLE_NAME: ledgerTableName,
      ...env,
    });
    output = captureOutput();
    return createSweepLambda(config, {
      sqs: sqsEmulator.sqs,
      dynamodb: dynamoEmulator.dynamodb,
      secretsManager: new SecretsManagerClient({ region: 'eu-west-1' }),
      logger: new Logger({ serviceName: 'sweep-test' }),
      metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'sweep-test' }),
    });
  }

  const watermarkItem = async () =>
    (
      await dynamoEmulator.dynamodb.send(
        new GetItemCommand({
          TableName: ledgerTableName,
          Key: { [LEDGER_PARTITION_KEY]: { S: `sweep#${new URL(sandbox.baseUrl).host}#default` } },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('queues only the change made without a callout, with the Zuora credentials from the secret, and keeps its watermark in the ledger table', async () => {
    const changedAt = Date.now() - 20 * MINUTE;
    const ledger = new DynamoDbLedgerStore(dynamoEmulator.dynamodb, ledgerTableName);
    for (const name of ['A-S00000001', 'A-S00000002']) {
      sandbox.touch(name, changedAt);
      // Came with its callout, which named the change's UpdatedDate: synced a few seconds after the change, proving it.
      await ledger.raiseMark(name, 'lastQueuedAt', changedAt + 2_000);
      await ledger.recordOutcome(name, {
        kind: 'synced',
        startedAt: changedAt + 4_000,
        finishedAt: changedAt + 4_500,
        httpStatus: 200,
      });
      await ledger.raiseMark(name, 'provenThrough', changedAt);
    }
    sandbox.touch('A-S00000003', changedAt);

    const report = await sweepLambda()({}, invocation(5 * MINUTE));

    expect(report).toMatchObject({ outcome: 'complete', counts: { read: 3, covered: 2, queued: 1, missing: 1 } });
    const queued = (await drainQueue(sqsEmulator.sqs, queueUrl)).map(
      (body) => JSON.parse(body) as { subscriptionId: string; source: string },
    );
    expect(queued).toEqual([expect.objectContaining({ subscriptionId: 'A-S00000003', source: 'sweep' })]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    // The next scheduled run starts where this one ended, whatever container runs it.
    expect(Number((await watermarkItem())?.completedUntil?.N)).toBe(report.watermark?.completedUntilMs);

    const lines = output.lines();
    expect(metricValues(lines, SWEEP_METRICS.read)).toEqual([3]);
    expect(metricValues(lines, SWEEP_METRICS.covered)).toEqual([2]);
    expect(metricValues(lines, SWEEP_METRICS.queued)).toEqual([1]);
    expect(metricValues(lines, SWEEP_METRICS.missing)).toEqual([1]);
    expect(metricValues(lines, SWEEP_METRICS.unproven)).toEqual([0]);
    expect(metricValues(lines, SWEEP_METRICS.pending)).toEqual([0]);
    expect(metricValues(lines, SWEEP_METRICS.failed)).toEqual([0]);
    expect(metricValues(lines, SWEEP_METRICS.lagSeconds)).toEqual([report.lagSeconds]);
    expect(metricValues(lines, SWEEP_METRICS.durationMs)).toHaveLength(1);
    expect(
      lines.find((line) => typeof line.message === 'string' && line.message.startsWith('sweep complete')),
    ).toMatchObject({ level: 'INFO' });
    expect(output.text()).not.toContain(sandbox.clientSecret);
  });

  it('fails the invocation and counts sweepFailed when Zuora refuses the credentials in the secret, queueing nothing and keeping the watermark', async () => {
    secrets.on(GetSecretValueCommand, { SecretId: ZUORA_SECRET_ARN }).resolves({
      SecretString: JSON.stringify({ clientId: 'REPLACE_WITH_ZUORA_CLIENT_ID', clientSecret: 'stand-in' }),
    });
    sandbox.touch('A-S00000004', Date.now() - 20 * MINUTE);

    await expect(sweepLambda()({}, invocation(5 * MINUTE))).rejects.toThrow(SweepFailedError);

    expect(metricValues(output.lines(), SWEEP_METRICS.failed)).toEqual([1]);
    const logged = output.lines().find((line) => line.level === 'ERROR');
    expect(logged).toMatchObject({ errorKind: 'credentials' });
    expect(await drainQueue(sqsEmulator.sqs, queueUrl)).toEqual([]);
    expect(await watermarkItem()).toBeUndefined();
    expect(output.text()).not.toContain('stand-in');
  });

  it("stops at the invocation's deadline less its reserve instead of running into the Lambda timeout", async () => {
    sandbox.touch('A-S00000005', Date.now() - 20 * MINUTE);

    // No time left once the Lambda's reserve and the sweep's own are kept: the first slice is left to the next run.
    const report = await sweepLambda()({}, invocation(SWEEP_LAMBDA_RESERVE_MS + SWEEP_RUN_DEFAULTS.reserveMs));

    expect(report.outcome).toBe('out-of-time');
    expect(metricValues(output.lines(), SWEEP_METRICS.failed)).toEqual([0]);
    expect(await drainQueue(sqsEmulator.sqs, queueUrl)).toEqual([]);
  });

  it('says so when it starts fresh (no watermark under its Zuora host and entity, e.g. zuoraBaseUrl changed): from when, the key, how to backfill; sweepStartedFresh 1, and 0 once it has a watermark', async () => {
    // The watermark the stack kept while zuoraBaseUrl named another host: not this key, so not read.
    const oldKey = 'sweep#rest.zuora.com#default';
    await dynamoEmulator.dynamodb.send(
      new PutItemCommand({
        TableName: ledgerTableName,
        Item: {
          [LEDGER_PARTITION_KEY]: { S: oldKey },
          completedUntil: { N: String(Date.now() - 3 * 24 * 60 * MINUTE) },
          updatedAt: { N: '1' },
        },
      }),
    );
    const sweep = sweepLambda();

    const first = await sweep({}, invocation(5 * MINUTE));
    const key = `sweep#${new URL(sandbox.baseUrl).host}#default`;
    const freshFrom = new Date(first.window!.startMs).toISOString();
    const warning = output
      .lines()
      .find(
        (line) =>
          line.level === 'WARN' && typeof line.message === 'string' && line.message.startsWith('sweep starting fresh'),
      );
    expect(warning).toMatchObject({ watermarkKey: key, freshFrom });
    expect(warning?.message).toContain(
      `no watermark under ${key}: this run reads from ${freshFrom} (SWEEP_INITIAL_LOOKBACK_SECONDS before the settle point)`,
    );
    expect(warning?.message).toContain('zuoraBaseUrl host or zuoraEntityId changed');
    expect(warning?.message).toContain(
      `zuora-limio-sync sweep --since <where the old watermark stood> --until ${freshFrom.replace('.000Z', 'Z')}`,
    );
    expect(metricValues(output.lines(), SWEEP_METRICS.startedFresh)).toEqual([1]);

    await sweep({}, invocation(5 * MINUTE));
    expect(metricValues(output.lines(), SWEEP_METRICS.startedFresh)).toEqual([1, 0]);
    expect(
      output
        .lines()
        .filter((line) => typeof line.message === 'string' && line.message.startsWith('sweep starting fresh')),
    ).toHaveLength(1);
  });

  it('refuses to start without its queue or ledger table, naming the variable', () => {
    const env = {
      ZUORA_BASE_URL: 'https://rest.zuora.com',
      ZUORA_SECRET_ID: ZUORA_SECRET_ARN,
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      LEDGER_TABLE_NAME: 'ledger',
    };
    expect(() => loadSweepLambdaConfig({ ...env, QUEUE_URL: '' })).toThrow(
      new ConfigError('QUEUE_URL', 'is required but not set'),
    );
    expect(() => loadSweepLambdaConfig({ ...env, LEDGER_TABLE_NAME: undefined })).toThrow(/LEDGER_TABLE_NAME/);
    expect(() => loadSweepLambdaConfig({ ...env, ZUORA_BASE_URL: 'http://rest.zuora.com' })).toThrow(/ZUORA_BASE_URL/);
  });
});
