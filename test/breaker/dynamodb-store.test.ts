import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { INITIAL_BREAKER_STATE, type BreakerState } from '../../functions/breaker/breaker-state';
import { DynamoDbBreakerStore } from '../../functions/breaker/dynamodb-store';

const TABLE = 'zls-breaker';
const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const dynamo = mockClient(DynamoDBClient);
const store = new DynamoDbBreakerStore(new DynamoDBClient({ region: 'eu-west-1' }), TABLE);

const open: BreakerState = {
  state: 'open',
  since: T0 + 5000,
  reason: "9 of 10 syncs failed on Limio's side, for 7 subscriptions",
  openedBy: 'auto',
  openIntervals: [{ from: T0 - 90_000, to: T0 - 30_000 }, { from: T0 + 5000 }],
  healthyProbes: 0,
  version: 4,
};

beforeEach(() => dynamo.reset());
afterAll(() => dynamo.restore());

describe('DynamoDbBreakerStore.read', () => {
  it('reads the state item consistently and maps every attribute', async () => {
    dynamo.on(GetItemCommand).resolves({
      Item: {
        pk: { S: 'state' },
        phase: { S: 'open' },
        since: { N: String(T0 + 5000) },
        reason: { S: open.reason },
        openedBy: { S: 'auto' },
        openIntervals: {
          L: [
            { M: { from: { N: String(T0 - 90_000) }, to: { N: String(T0 - 30_000) } } },
            { M: { from: { N: String(T0 + 5000) } } },
          ],
        },
        healthyProbes: { N: '0' },
        version: { N: '4' },
        announcedState: { S: 'closed' },
        announcedSince: { N: String(T0 - 30_000) },
      },
    });
    await expect(store.read()).resolves.toEqual({ breaker: open, announced: { state: 'closed', since: T0 - 30_000 } });
    expect(dynamo.commandCalls(GetItemCommand)[0]!.args[0].input).toEqual({
      TableName: TABLE,
      Key: { pk: { S: 'state' } },
      ConsistentRead: true,
    });
  });

  it('is the initial closed state when the item was never written', async () => {
    dynamo.on(GetItemCommand).resolves({});
    await expect(store.read()).resolves.toEqual({ breaker: INITIAL_BREAKER_STATE });
  });

  it('does not trust an unknown phase', async () => {
    dynamo.on(GetItemCommand).resolves({ Item: { pk: { S: 'state' }, phase: { S: 'ajar' }, version: { N: '2' } } });
    const { breaker } = await store.read();
    expect(breaker).toMatchObject({ state: 'closed', version: 2 });
  });
});

describe('DynamoDbBreakerStore.write', () => {
  it('writes every field conditionally on the version it read', async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    await expect(store.write(open, 3)).resolves.toBe(true);
    const input = dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.TableName).toBe(TABLE);
    expect(input.Key).toEqual({ pk: { S: 'state' } });
    expect(input.ConditionExpression).toBe('#version = :expected');
    expect(input.ExpressionAttributeValues).toMatchObject({
      ':phase': { S: 'open' },
      ':since': { N: String(T0 + 5000) },
      ':reason': { S: open.reason },
      ':openedBy': { S: 'auto' },
      ':openIntervals': {
        L: [
          { M: { from: { N: String(T0 - 90_000) }, to: { N: String(T0 - 30_000) } } },
          { M: { from: { N: String(T0 + 5000) } } },
        ],
      },
      ':healthyProbes': { N: '0' },
      ':version': { N: '4' },
      ':expected': { N: '3' },
    });
    // Every name the expressions use is declared, and nothing the probe announced is overwritten.
    for (const name of input.UpdateExpression!.match(/#\w+/g)!)
      expect(input.ExpressionAttributeNames).toHaveProperty(name);
    expect(input.UpdateExpression).not.toMatch(/announced/);
  });

  it('accepts a missing item for the first write', async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    await store.write({ ...open, version: 1 }, 0);
    expect(dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input.ConditionExpression).toBe(
      'attribute_not_exists(#version) OR #version = :expected',
    );
  });

  it('reports a lost race as false and rethrows anything else', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(store.write(open, 3)).resolves.toBe(false);
    dynamo.reset();
    dynamo.on(UpdateItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    await expect(store.write(open, 3)).rejects.toThrow('ProvisionedThroughputExceededException');
  });
});

describe('DynamoDbBreakerStore outcome buckets', () => {
  const key = { phaseSince: T0, bucketStart: T0 + 60_000 };

  it('adds a batch with one atomic UpdateItem and returns the totals', async () => {
    dynamo.on(UpdateItemCommand).resolves({
      Attributes: {
        pk: { S: `window#${T0}#${T0 + 60_000}` },
        calls: { N: '14' },
        successes: { N: '3' },
        limioFailures: { N: '11' },
        tokenFailures: { N: '0' },
        failingSlots: { NS: ['17', '512', '900'] },
        expiresAt: { N: '1764064800' },
      },
    });
    const totals = await store.addOutcomes(
      key,
      { calls: 4, successes: 1, limioFailures: 3, tokenFailures: 0, failingSlots: [17, 512, 17] },
      1764064800.4,
    );
    expect(totals).toEqual({
      calls: 14,
      successes: 3,
      limioFailures: 11,
      tokenFailures: 0,
      failingSlots: [17, 512, 900],
    });

    const calls = dynamo.commandCalls(UpdateItemCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: `window#${T0}#${T0 + 60_000}` } },
      ReturnValues: 'ALL_NEW',
    });
    expect(input.UpdateExpression).toBe(
      'ADD #calls :calls, #successes :successes, #limioFailures :limioFailures, #tokenFailures :tokenFailures, #failingSlots :slots SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
    );
    expect(input.ExpressionAttributeValues).toEqual({
      ':calls': { N: '4' },
      ':successes': { N: '1' },
      ':limioFailures': { N: '3' },
      ':tokenFailures': { N: '0' },
      ':expiresAt': { N: '1764064801' },
      ':slots': { NS: ['17', '512'] },
    });
    for (const name of input.UpdateExpression!.match(/#\w+/g)!)
      expect(input.ExpressionAttributeNames).toHaveProperty(name);
  });

  it('leaves the set alone when nothing failed (DynamoDB refuses an empty set)', async () => {
    dynamo.on(UpdateItemCommand).resolves({ Attributes: { calls: { N: '5' }, successes: { N: '5' } } });
    const totals = await store.addOutcomes(
      key,
      { calls: 5, successes: 5, limioFailures: 0, tokenFailures: 0, failingSlots: [] },
      1764064800,
    );
    expect(totals).toEqual({ calls: 5, successes: 5, limioFailures: 0, tokenFailures: 0, failingSlots: [] });
    const input = dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input.UpdateExpression).not.toMatch(/failingSlots/);
    expect(input.ExpressionAttributeValues).not.toHaveProperty(':slots');
    expect(input.ExpressionAttributeNames).not.toHaveProperty('#failingSlots');
  });

  it('reads a bucket, or nothing when it does not exist', async () => {
    dynamo.on(GetItemCommand).resolves({});
    dynamo
      .on(GetItemCommand, { Key: { pk: { S: `window#${T0}#${T0 + 60_000}` } } })
      .resolves({ Item: { calls: { N: '2' }, tokenFailures: { N: '2' } } });
    await expect(store.readBucket(key)).resolves.toEqual({
      calls: 2,
      successes: 0,
      limioFailures: 0,
      tokenFailures: 2,
      failingSlots: [],
    });
    await expect(store.readBucket({ phaseSince: T0, bucketStart: T0 })).resolves.toBeUndefined();
  });
});

describe('DynamoDbBreakerStore.markAnnounced', () => {
  it('records the announced phase only while it is still the current one', async () => {
    dynamo.on(UpdateItemCommand).resolves({});
    await store.markAnnounced('open', T0 + 5000);
    const input = dynamo.commandCalls(UpdateItemCommand)[0]!.args[0].input;
    expect(input).toMatchObject({
      TableName: TABLE,
      Key: { pk: { S: 'state' } },
      UpdateExpression: 'SET #announcedState = :phase, #announcedSince = :since',
      ConditionExpression: '#phase = :phase AND #since = :since',
      ExpressionAttributeValues: { ':phase': { S: 'open' }, ':since': { N: String(T0 + 5000) } },
    });
  });

  it('shrugs off a phase that moved on meanwhile', async () => {
    dynamo
      .on(UpdateItemCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    await expect(store.markAnnounced('open', T0)).resolves.toBeUndefined();
  });
});
