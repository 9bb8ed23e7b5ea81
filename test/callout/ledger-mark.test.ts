import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { createCalloutHandler } from '../../functions/callout/callout-handler';
import { loadCalloutConfig } from '../../functions/callout/config';
import { DynamoDbLedgerStore, LEDGER_PARTITION_KEY } from '../../functions/ledger/dynamodb-ledger-store';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { createQueuePair, EMULATOR_CREDENTIALS, EMULATOR_REGION } from '../../local/sqs-emulator';
import { captureOutput } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startStalledServer } from '../support/stalled-server';
import { basicAuthorization, httpApiEvent } from './events';

// The callout Lambda marks lastQueuedAt in the sync ledger once its messages are on the queue (issue #22): real
// queues (SQS emulator) and a real table (dynalite).

const NOW = new Date('2026-11-25T10:00:00.000Z');
const env = { CALLOUT_AUTH_MODE: 'basic', CALLOUT_USERNAME: 'zuora', CALLOUT_PASSWORD: 'pw' };
const callout = (ids: string[]) =>
  httpApiEvent({
    headers: { 'content-type': 'application/json', authorization: basicAuthorization('zuora', 'pw') },
    body: JSON.stringify({ subscriptions: ids.map((subscriptionNumber) => ({ subscriptionNumber })) }),
  });

describe('callout handler: lastQueuedAt in the sync ledger', () => {
  const sqs = useSqsEmulator();
  const dynamo = useDynamoDbEmulator();
  let tables = 0;
  let output: ReturnType<typeof captureOutput>;
  beforeEach(() => {
    output = captureOutput();
  });
  afterEach(() => output.restore());

  async function parts() {
    const n = ++tables;
    const { mainQueueUrl } = await createQueuePair(sqs.sqs, {
      mainQueueName: `mark-${n}`,
      deadLetterQueueName: `mark-${n}-dlq`,
    });
    await createOnDemandTable(dynamo.dynamodb, { tableName: `ledger-mark-${n}`, partitionKey: LEDGER_PARTITION_KEY });
    return { queueUrl: mainQueueUrl, ledger: new DynamoDbLedgerStore(dynamo.dynamodb, `ledger-mark-${n}`) };
  }

  it('marks each queued subscription with the receivedAt its messages carry, after they are on the queue', async () => {
    const { queueUrl, ledger } = await parts();
    const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: queueUrl, ...env }), {
      sqs: sqs.sqs,
      now: () => NOW,
      ledger,
    });
    expect((await handler(callout(['A-S00000301', 'A-S00000302', 'A-S00000301']))).statusCode).toBe(200);
    const { entries } = await ledger.readMany(['A-S00000301', 'A-S00000302']);
    expect([...entries.values()].map((entry) => entry.lastQueuedAt)).toEqual([NOW.getTime(), NOW.getTime()]);
  });

  it('reads LEDGER_TABLE_NAME: the deployed Lambda marks the table the stack gives it', () => {
    expect(loadCalloutConfig({ QUEUE_URL: 'http://q', LEDGER_TABLE_NAME: 'ledger', ...env }).ledgerTableName).toBe(
      'ledger',
    );
    expect(loadCalloutConfig({ QUEUE_URL: 'http://q', ...env }).ledgerTableName).toBeUndefined();
  });

  it('marks nothing for a callout it could not queue', async () => {
    const { ledger } = await parts();
    const unreachable = new SQSClient({
      endpoint: 'http://127.0.0.1:9',
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const handler = createCalloutHandler(
        loadCalloutConfig({ QUEUE_URL: 'http://127.0.0.1:9/000000000000/q', ...env }),
        { sqs: unreachable, now: () => NOW, ledger, sleep: async () => undefined },
      );
      expect((await handler(callout(['A-S00000303']))).statusCode).toBe(503);
      expect((await ledger.readMany(['A-S00000303'])).entries.size).toBe(0);
    } finally {
      unreachable.destroy();
    }
  });

  it('still accepts within about a second when the ledger never answers: the mark fails open, logged and counted', async () => {
    const { queueUrl } = await parts();
    const silent = await startStalledServer();
    const hanging = new DynamoDBClient({
      endpoint: silent.url,
      region: EMULATOR_REGION,
      credentials: EMULATOR_CREDENTIALS,
      maxAttempts: 1,
    });
    try {
      const handler = createCalloutHandler(loadCalloutConfig({ QUEUE_URL: queueUrl, ...env }), {
        sqs: sqs.sqs,
        now: () => NOW,
        ledger: new DynamoDbLedgerStore(hanging, 'ledger'),
      });
      const startedAt = Date.now();
      expect((await handler(callout(['A-S00000304']))).statusCode).toBe(200);
      expect(Date.now() - startedAt).toBeLessThan(2_500);
      expect(output.text()).toContain('queued, but not marked in the sync ledger');
      expect(output.text()).toContain('CalloutLedgerMarkFailed');
    } finally {
      hanging.destroy();
      await silent.stop();
    }
  });
});
