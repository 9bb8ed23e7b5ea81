import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { InMemoryBreakerStore } from '../../functions/breaker/breaker-store';
import { loadSyncBreaker, loadSyncBreakerConfig } from '../../functions/breaker/sync-breaker';

const failingBatch = {
  syncs: Array.from({ length: 10 }, (_, i) => ({
    subscriptionId: `A-S0000070${i}`,
    outcome: 'limio-failure' as const,
  })),
  tokenFailures: 0,
};

describe('loadSyncBreaker', () => {
  it('without BREAKER_TABLE_NAME, always says closed and records nothing', async () => {
    const breaker = loadSyncBreaker({ RETRY_BUDGET_SECONDS: '3600' });
    expect(breaker.shared).toBe(false);
    expect(breaker.retry.retryBudgetSeconds).toBe(3600);
    expect(await breaker.gate.record(failingBatch)).toMatchObject({ state: 'closed' });
    expect((await breaker.gate.current()).state).toBe('closed');
  });

  it('with a store given (the local runtime), shares it and reports transitions', async () => {
    const store = new InMemoryBreakerStore();
    const transitions: string[] = [];
    const breaker = loadSyncBreaker(
      { BREAKER_STATE_CACHE_SECONDS: '0' },
      { store, onTransition: (before, after) => transitions.push(`${before.state}->${after.state}`) },
    );
    expect(breaker.shared).toBe(true);
    await breaker.gate.record(failingBatch);
    expect((await store.read()).breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open']);
  });

  it('with BREAKER_TABLE_NAME, uses that DynamoDB table', async () => {
    const dynamo = mockClient(DynamoDBClient);
    try {
      dynamo.on(GetItemCommand).resolves({});
      dynamo.on(UpdateItemCommand).resolves({ Attributes: { calls: { N: '1' }, successes: { N: '1' } } });
      const breaker = loadSyncBreaker(
        { BREAKER_TABLE_NAME: 'zls-breaker' },
        { dynamo: new DynamoDBClient({ region: 'eu-west-1' }) },
      );
      await breaker.gate.record({ syncs: [{ subscriptionId: 'A-S00000001', outcome: 'synced' }], tokenFailures: 0 });
      expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input.TableName).toBe('zls-breaker');
      expect(dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input.TableName).toBe('zls-breaker');
    } finally {
      dynamo.restore();
    }
  });

  it('reads its configuration once, for SyncConfig', () => {
    expect(loadSyncBreakerConfig({ BREAKER_TABLE_NAME: 'zls-breaker', MAX_ATTEMPTS: '300' })).toMatchObject({
      tableName: 'zls-breaker',
      retry: { maxAttempts: 300, retryBudgetSeconds: 86_400 },
      settings: { minCalls: 10 },
    });
    expect(loadSyncBreakerConfig({}).tableName).toBeUndefined();
  });

  it('names a bad setting', () => {
    expect(() => loadSyncBreaker({ BREAKER_MIN_CALLS: '0' })).toThrow(/BREAKER_MIN_CALLS/);
  });
});
