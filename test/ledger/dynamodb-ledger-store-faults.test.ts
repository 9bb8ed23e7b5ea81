import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingMessage,
  type Server as HttpServer,
} from 'node:http';
import {
  DYNAMODB_EMULATOR_CREDENTIALS,
  DYNAMODB_EMULATOR_REGION,
  createOnDemandTable,
} from '../../local/dynamodb-emulator';
import {
  DynamoDbLedgerStore,
  LEDGER_PARTITION_KEY,
  MAX_CONCURRENT_BATCH_GETS,
  ledgerDynamoDbClient,
} from '../../functions/ledger/dynamodb-ledger-store';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';
import { startStalledServer } from '../support/stalled-server';

type Item = Record<string, { S?: string }>;

/**
 * A proxy in front of dynalite that answers BatchGetItem the way DynamoDB does under load or past 16 MB: part of
 * the keys come back as UnprocessedKeys. dynalite itself only does so past 16 MB of items.
 */
async function startThrottlingProxy(
  target: string,
  unprocessedRounds: number,
): Promise<{ url: string; batchGets: () => number; mostBatchGetsAtOnce: () => number; stop: () => Promise<void> }> {
  let batchGets = 0;
  let inFlight = 0;
  let mostAtOnce = 0;
  const server: HttpServer = createHttpServer((incoming: IncomingMessage, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const isBatchGet = incoming.headers['x-amz-target'] === 'DynamoDB_20120810.BatchGetItem';
      if (isBatchGet) {
        batchGets += 1;
        inFlight += 1;
        mostAtOnce = Math.max(mostAtOnce, inFlight);
      }
      const throttle = isBatchGet && batchGets <= unprocessedRounds;
      const forwarded = httpRequest(
        `${target}${incoming.url ?? '/'}`,
        { method: incoming.method, headers: incoming.headers },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => parts.push(chunk));
          answer.on('end', () => {
            let body = Buffer.concat(parts).toString('utf8');
            const headers = { ...answer.headers };
            if (throttle) {
              // Keep the first item of each table, hand the others back as unprocessed keys.
              const parsed = JSON.parse(body) as {
                Responses: Record<string, Item[]>;
                UnprocessedKeys: Record<string, { Keys: Item[] }>;
              };
              for (const [table, items] of Object.entries(parsed.Responses)) {
                const [kept, ...rest] = items;
                parsed.Responses[table] = kept ? [kept] : [];
                if (rest.length > 0)
                  parsed.UnprocessedKeys[table] = {
                    Keys: rest.map((item) => ({ [LEDGER_PARTITION_KEY]: item[LEDGER_PARTITION_KEY] })),
                  };
              }
              body = JSON.stringify(parsed);
              delete headers['x-amz-crc32'];
              headers['content-length'] = String(Buffer.byteLength(body));
            }
            // Answered a little later, so that requests sent together are seen together.
            setTimeout(() => {
              if (isBatchGet) inFlight -= 1;
              outgoing.writeHead(answer.statusCode ?? 500, headers);
              outgoing.end(body);
            }, 20);
          });
        },
      );
      forwarded.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    batchGets: () => batchGets,
    mostBatchGetsAtOnce: () => mostAtOnce,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const clientAt = (endpoint: string) =>
  ledgerDynamoDbClient({ endpoint, region: DYNAMODB_EMULATOR_REGION, credentials: DYNAMODB_EMULATOR_CREDENTIALS });
const synced = (startedAt: number) => ({
  kind: 'synced' as const,
  startedAt,
  finishedAt: startedAt + 100,
  httpStatus: 200,
});

describe('DynamoDB ledger store: UnprocessedKeys', () => {
  const emulator = useDynamoDbEmulator();
  const ids = ['A-S1', 'A-S2', 'A-S3', 'A-S4'];
  let table = 0;
  async function seeded(): Promise<string> {
    const tableName = `ledger-unprocessed-${++table}`;
    await createOnDemandTable(emulator.dynamodb, { tableName, partitionKey: LEDGER_PARTITION_KEY });
    const direct = new DynamoDbLedgerStore(emulator.dynamodb, tableName);
    for (const id of ids) await direct.recordOutcome(id, synced(1_000));
    return tableName;
  }

  it('asks again for unprocessed keys until every entry is read', async () => {
    const tableName = await seeded();
    const proxy = await startThrottlingProxy(emulator.endpoint, 2);
    const client = clientAt(proxy.url);
    try {
      const read = await new DynamoDbLedgerStore(client, tableName, { unprocessedRetryDelayMs: 1 }).readMany(ids);
      expect([...read.entries.keys()].sort()).toEqual(ids);
      expect(read.unread).toEqual([]);
      expect(proxy.batchGets()).toBe(3);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });

  it('reads a thousand subscriptions with at most four BatchGetItem requests at once', async () => {
    const tableName = await seeded();
    const proxy = await startThrottlingProxy(emulator.endpoint, 0);
    const client = clientAt(proxy.url);
    try {
      const many = [...ids, ...Array.from({ length: 996 }, (_, i) => `C-S${i}`)];
      const read = await new DynamoDbLedgerStore(client, tableName).readMany(many);
      expect([...read.entries.keys()].sort()).toEqual(ids);
      expect(proxy.batchGets()).toBe(10);
      expect(proxy.mostBatchGetsAtOnce()).toBe(MAX_CONCURRENT_BATCH_GETS);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });

  it('gives up after its bounded retries and reports those subscriptions unread, not absent', async () => {
    const tableName = await seeded();
    const proxy = await startThrottlingProxy(emulator.endpoint, Number.POSITIVE_INFINITY);
    const client = clientAt(proxy.url);
    try {
      const read = await new DynamoDbLedgerStore(client, tableName, {
        maxUnprocessedRetries: 2,
        unprocessedRetryDelayMs: 1,
      }).readMany(ids);
      // One entry per round: the first answer and two retries.
      expect(read.entries.size).toBe(3);
      expect(read.unread).toHaveLength(1);
      expect([...read.entries.keys(), ...read.unread].sort()).toEqual(ids);
      expect(proxy.batchGets()).toBe(3);
    } finally {
      client.destroy();
      await proxy.stop();
    }
  });
});

describe('DynamoDB ledger store: a table that never answers', () => {
  let stalled: Awaited<ReturnType<typeof startStalledServer>>;
  beforeEach(async () => {
    stalled = await startStalledServer();
  });
  afterEach(async () => {
    await stalled.stop();
  });

  // Without the client's request timeout (and throwOnRequestTimeout) each call here would wait until jest gives up.
  it.each([
    ['readMany', (store: DynamoDbLedgerStore) => store.readMany(['A-S1'])],
    [
      'claimSync',
      (store: DynamoDbLedgerStore) =>
        store.claimSync('A-S1', { startedAt: 1_000, leaseMs: 30_000, expectedLastSuccessStartedAt: undefined }),
    ],
    ['recordOutcome', (store: DynamoDbLedgerStore) => store.recordOutcome('A-S1', synced(1_000))],
  ])(
    '%s fails within two request timeouts',
    async (_name, call) => {
      const client = clientAt(stalled.url);
      const started = Date.now();
      try {
        await expect(call(new DynamoDbLedgerStore(client, 'zls-ledger'))).rejects.toThrow();
      } finally {
        client.destroy();
      }
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(3_500);
      expect(elapsed).toBeLessThan(7_000);
      expect(stalled.requests()).toBe(2);
    },
    15_000,
  );
});
