import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbWatermarkStore } from '../../functions/sweep/dynamodb-watermark-store';
import { memoryWatermarkStore, runSweep } from '../../functions/sweep/sweep';
import { createOnDemandTable } from '../../local/dynamodb-emulator';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';

describe('DynamoDbWatermarkStore (DynamoDB emulator)', () => {
  const emulator = useDynamoDbEmulator();
  let tableName: string;
  let counter = 0;
  const store = (key = 'sweep#rest.zuora.com') =>
    new DynamoDbWatermarkStore(emulator.dynamodb, { tableName, partitionKey: 'pk', key, now: () => 1_000 });

  beforeEach(async () => {
    tableName = `sweep-watermark-${++counter}`;
    await createOnDemandTable(emulator.dynamodb, { tableName, partitionKey: 'pk' });
  });
  afterEach(async () => {
    await emulator.dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
  });

  it('has no watermark before the first put, then reads back what was put', async () => {
    const watermarks = store();
    expect(await watermarks.get()).toBeUndefined();
    await watermarks.put({ completedUntilMs: 1_795_543_200_000, sliceSeconds: 1800 });
    expect(await watermarks.get()).toEqual({ completedUntilMs: 1_795_543_200_000, sliceSeconds: 1800 });
    await watermarks.put({ completedUntilMs: 1_795_546_800_000 });
    expect(await watermarks.get()).toEqual({ completedUntilMs: 1_795_546_800_000 });
  });

  it('never moves the watermark backwards (an overlapping older sweep cannot undo a newer one)', async () => {
    const watermarks = store();
    await watermarks.put({ completedUntilMs: 2_000_000 });
    await watermarks.put({ completedUntilMs: 1_000_000 });
    expect(await watermarks.get()).toEqual({ completedUntilMs: 2_000_000 });
    // The same point with a smaller slice is how a run that ran out of time records it.
    await watermarks.put({ completedUntilMs: 2_000_000, sliceSeconds: 600 });
    expect(await watermarks.get()).toEqual({ completedUntilMs: 2_000_000, sliceSeconds: 600 });
  });

  it('keeps one watermark per key, side by side in one table', async () => {
    await store('sweep#tenant-a').put({ completedUntilMs: 1 });
    await store('sweep#tenant-b').put({ completedUntilMs: 2 });
    expect(await store('sweep#tenant-a').get()).toEqual({ completedUntilMs: 1 });
    expect(await store('sweep#tenant-b').get()).toEqual({ completedUntilMs: 2 });
  });

  it('carries a sweep from one run to the next like the in-memory store', async () => {
    const now = Date.parse('2026-11-24T18:05:00Z');
    const settings = { settleSeconds: 300, overlapSeconds: 600, initialLookbackSeconds: 3600, maxSliceSeconds: 3600 };
    const source = {
      changed: async function* () {
        yield [];
      },
    };
    const ports = { source, coverage: async () => new Map(), enqueue: async () => ({ notQueued: [] }), now: () => now };
    const dynamo = store();
    const memory = memoryWatermarkStore();
    for (const watermarks of [dynamo, memory])
      await runSweep({ ...ports, watermarks }, { settings, commitLagSeconds: 2 });
    expect(await dynamo.get()).toEqual(memory.current);
    expect(await dynamo.get()).toEqual({ completedUntilMs: Date.parse('2026-11-24T18:00:00Z') });
  });
});
