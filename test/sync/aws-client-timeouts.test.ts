import type { SQSRecord } from 'aws-lambda';
import { createSyncHandler } from '../../functions/sync/sync-handler';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import { captureOutput } from '../support/capture-output';
import { body, mockLimioSecret, syncConfig } from './harness';
import { startStalledServer } from '../support/stalled-server';

// The sync Lambda's own SQS and DynamoDB clients (the ones it builds when none is given) against a server that
// accepts connections and never answers: without request timeouts a stalled call would hold the invocation,
// and the whole batch, until Lambda kills it. Each test here would then hang until jest gives up.

function record(messageBody: string): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: 'message-1',
    receiptHandle: 'receipt-1',
    body: messageBody,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: now,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:zuora-limio-sync',
    awsRegion: 'us-east-1',
  };
}

const AWS_ENV = [
  'AWS_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
] as const;

describe("sync Lambda's AWS clients time out", () => {
  let stalled: Awaited<ReturnType<typeof startStalledServer>>;
  let sandbox: LimioSandbox;
  let secret: ReturnType<typeof mockLimioSecret>;
  let output: ReturnType<typeof captureOutput>;
  const saved: Partial<Record<(typeof AWS_ENV)[number], string>> = {};

  beforeEach(async () => {
    for (const name of AWS_ENV) saved[name] = process.env[name];
    stalled = await startStalledServer();
    sandbox = await startLimioSandbox();
    secret = mockLimioSecret(sandbox);
    output = captureOutput();
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: stalled.url,
      AWS_ENDPOINT_URL_DYNAMODB: stalled.url,
    });
  });
  afterEach(async () => {
    for (const name of AWS_ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    output.restore();
    secret.mock.restore();
    await sandbox.stop();
    await stalled.stop();
  });

  // Both queues on the stalled server, so the queue URL cannot route the calls elsewhere.
  const stalledQueues = () => ({
    mainQueueUrl: `${stalled.url}/000000000000/main`,
    deadLetterQueueUrl: `${stalled.url}/000000000000/dlq`,
  });

  it('a stalled breaker table: the breaker fails open and the batch syncs instead of waiting for the Lambda timeout', async () => {
    // A cache longer than the test, so the count of calls below does not depend on how long the timeouts take.
    const env = { BREAKER_TABLE_NAME: 'zls-breaker', BREAKER_STATE_CACHE_SECONDS: '300' };
    const handler = createSyncHandler(syncConfig(sandbox, stalledQueues(), env), { secretsManager: secret.client });
    expect(await handler({ Records: [record(body('A-S1'))] })).toEqual({ batchItemFailures: [] });
    expect(sandbox.stats.synced.has('A-S1')).toBe(true);
    const unavailable = output
      .lines()
      .filter((entry) => entry.message === 'breaker state unavailable; syncing as if closed');
    // One failed read (not one more inside the Limio slot) and one failed record, each tried twice.
    expect(unavailable.map((entry) => entry.during)).toEqual(['read', 'record']);
    expect(stalled.requests()).toBe(4);
  }, 25_000);

  it('a stalled SQS: a message the DLQ cannot take is reported failed, not left to the Lambda timeout', async () => {
    sandbox.respondWith('A-S404', 404);
    const handler = createSyncHandler(syncConfig(sandbox, stalledQueues()), { secretsManager: secret.client });
    const response = await handler({ Records: [record(body('A-S404'))] });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'message-1' }] });
    // SendMessage then ChangeMessageVisibility, each tried twice.
    expect(stalled.requests()).toBe(4);
  }, 25_000);

  it('a stalled Secrets Manager, read through Powertools with its own client: the secret read times out by itself, tried twice', async () => {
    secret.mock.restore();
    const stalledSecrets = await startStalledServer();
    try {
      process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = stalledSecrets.url;
      const handler = createSyncHandler(syncConfig(sandbox, stalledQueues()));
      expect(await handler({ Records: [record(body('A-S1'))] })).toEqual({
        batchItemFailures: [{ itemIdentifier: 'message-1' }],
      });
      expect(sandbox.stats.synced.has('A-S1')).toBe(false);
      // The read itself timed out, tried twice: without the client's timeouts only the token's own bound
      // (LIMIO_TIMEOUT_MS) ended the wait, and the stalled read went on holding its connection.
      const failed = output.lines().find((entry) => entry.message === 'sync failed, will retry');
      expect(failed?.error).toMatch(/cannot read the Limio credentials secret .*requestTimeout/);
      expect(stalledSecrets.requests()).toBe(2);
    } finally {
      await stalledSecrets.stop();
    }
  }, 25_000);
});
