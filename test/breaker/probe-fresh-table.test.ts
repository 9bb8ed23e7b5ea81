import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { INITIAL_BREAKER_STATE, type BreakerState } from '../../functions/breaker/breaker-state';
import { DynamoDbBreakerStore } from '../../functions/breaker/dynamodb-store';
import type { PollingChange, SyncPollingController } from '../../functions/breaker/polling-controller';
import { createProbeHandler } from '../../functions/breaker/probe-handler';
import { DEFAULT_BREAKER_SETTINGS } from '../../functions/breaker/settings';
import {
  createOnDemandTable,
  DYNAMODB_EMULATOR_CREDENTIALS,
  DYNAMODB_EMULATOR_REGION,
} from '../../local/dynamodb-emulator';
import { captureOutput, type CapturedOutput } from '../support/capture-output';
import { useDynamoDbEmulator } from '../support/dynamodb-emulator';

/**
 * The probe against a breaker table as a fresh stack deploys it (no state item yet), on a DynamoDB stand-in
 * that evaluates condition expressions as DynamoDB does (dynalite): the first run must create the state it
 * needs, not fail a conditional write every minute until something else writes the item.
 */
const emulator = useDynamoDbEmulator();
const T0 = Date.parse('2026-11-30T05:00:00.000Z');

class SteadyController implements SyncPollingController {
  async setSyncPolling(): Promise<PollingChange> {
    return 'unchanged';
  }
}

/** A client of its own per table, counting the UpdateItem calls it sends and the conditional checks that fail. */
async function freshBreakerTable(name: string) {
  const client = new DynamoDBClient({
    endpoint: emulator.endpoint,
    region: DYNAMODB_EMULATOR_REGION,
    credentials: DYNAMODB_EMULATOR_CREDENTIALS,
  });
  const counts = { updates: 0, failedConditions: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') counts.updates++;
      try {
        return await next(args);
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') counts.failedConditions++;
        throw error;
      }
    },
    { step: 'initialize', name: 'countBreakerWrites' },
  );
  await createOnDemandTable(client, { tableName: name, partitionKey: 'pk' });
  return { client, counts, store: new DynamoDbBreakerStore(client, name) };
}

function probeHandlerOn(store: DynamoDbBreakerStore) {
  return createProbeHandler({
    store,
    controller: new SteadyController(),
    settings: DEFAULT_BREAKER_SETTINGS,
    now: () => T0,
    logger: new Logger({ serviceName: 'breaker-test' }),
    metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'breaker-test' }),
    probe: async () => {
      throw new Error('a closed breaker is never probed');
    },
  });
}

const tripped: BreakerState = {
  ...INITIAL_BREAKER_STATE,
  state: 'open',
  since: T0,
  reason: 'token endpoint failed 3 times in the window',
  openIntervals: [{ from: T0 }],
  version: 1,
};

let output: CapturedOutput;
beforeEach(() => {
  output = captureOutput();
});
afterEach(() => output.restore());

describe('the probe on a fresh breaker table', () => {
  it('creates the state item on its first run and fails no conditional write, run after run', async () => {
    const { client, counts, store } = await freshBreakerTable('breaker-fresh');
    try {
      const runProbe = probeHandlerOn(store);
      for (let run = 0; run < 3; run++) {
        const report = await runProbe();
        expect(report.after).toEqual(INITIAL_BREAKER_STATE);
        expect(report.announced).toEqual([]);
      }
      expect(counts).toEqual({ updates: 1, failedConditions: 0 });
      await expect(store.read()).resolves.toEqual({
        breaker: INITIAL_BREAKER_STATE,
        announced: { state: 'closed', since: 0 },
      });
    } finally {
      client.destroy();
    }
  });

  it('leaves the created item to the first trip of a sync instance, which a late announcement of the initial state cannot undo', async () => {
    const { client, store } = await freshBreakerTable('breaker-seeded-then-tripped');
    try {
      await probeHandlerOn(store)();
      await expect(store.write(tripped, 0)).resolves.toBe(true);
      await store.markAnnounced('closed', 0);
      await expect(store.read()).resolves.toEqual({ breaker: tripped, announced: { state: 'closed', since: 0 } });
    } finally {
      client.destroy();
    }
  });

  it('does not announce the initial state over a breaker a sync instance tripped before the first probe run', async () => {
    const { client, store } = await freshBreakerTable('breaker-tripped-first');
    try {
      await expect(store.write(tripped, 0)).resolves.toBe(true);
      await store.markAnnounced('closed', 0);
      await expect(store.read()).resolves.toEqual({ breaker: tripped });
    } finally {
      client.destroy();
    }
  });
});
