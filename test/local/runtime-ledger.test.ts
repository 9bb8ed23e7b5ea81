import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedgerStore } from '../../functions/ledger/dynamodb-ledger-store';
import { loadRuntimeConfig } from '../../local/config';
import { LOCAL_TABLES } from '../../local/defaults';
import { DYNAMODB_EMULATOR_CREDENTIALS, DYNAMODB_EMULATOR_REGION } from '../../local/dynamodb-emulator';
import { startRuntime } from '../../local/runtime';
import { basicHeader, EPHEMERAL, postJson, recorder } from './runtime-harness';

describe('local runtime and the sync ledger', () => {
  async function ledgerEntryAfterOneSync(ledger: boolean | undefined, subscriptionId: string) {
    const rec = recorder();
    const runtime = await startRuntime({
      config: loadRuntimeConfig({ ...EPHEMERAL, SYNC_BATCHING_WINDOW_SECONDS: '0' }),
      quiet: true,
      ...(ledger !== undefined && { ledger }),
      observers: { sync: { onSyncOutcome: (event) => rec.notify(event) } },
    });
    const dynamodb = new DynamoDBClient({
      endpoint: runtime.dynamoDbEndpoint,
      region: DYNAMODB_EMULATOR_REGION,
      credentials: DYNAMODB_EMULATOR_CREDENTIALS,
    });
    try {
      expect(
        (
          await postJson(
            runtime.calloutUrl,
            { subscriptionNumber: subscriptionId },
            { authorization: basicHeader(runtime.config.callout) },
          )
        ).status,
      ).toBe(200);
      await rec.waitFor(subscriptionId, 'synced');
      await runtime.stopWorkers();
      return (await new DynamoDbLedgerStore(dynamodb, LOCAL_TABLES.ledger).readMany([subscriptionId])).entries.get(
        subscriptionId,
      );
    } finally {
      dynamodb.destroy();
      await runtime.stop();
    }
  }

  it('records each sync in the ledger table of its DynamoDB emulator, as the sync Lambda does in AWS', async () => {
    expect((await ledgerEntryAfterOneSync(undefined, 'A-S00000950'))?.lastSuccess?.limioId).toEqual(expect.any(String));
  });

  it("runs the sync handler without the ledger when asked (a measurement's baseline)", async () => {
    expect(await ledgerEntryAfterOneSync(false, 'A-S00000951')).toBeUndefined();
  });
});
