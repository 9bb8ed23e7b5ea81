import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { loadProbeConfig } from '../../functions/breaker/probe-config';
import { createProbeLambda, limioProbeFor } from '../../functions/breaker/probe-lambda';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import { captureOutput } from '../support/capture-output';

let sandbox: LimioSandbox;

beforeAll(async () => {
  sandbox = await startLimioSandbox();
});
afterAll(async () => {
  await sandbox.stop();
});

function probeConfig(overrides: Record<string, string> = {}) {
  return loadProbeConfig({
    BREAKER_TABLE_NAME: 'zls-breaker',
    SYNC_EVENT_SOURCE_MAPPING_ID: '14e0db71-5d35-4eb5-b481-8945cf9d10c2',
    SYNC_MAX_CONCURRENCY: '20',
    LIMIO_BASE_URL: sandbox.baseUrl,
    LIMIO_CLIENT_ID: sandbox.clientId,
    LIMIO_CLIENT_SECRET: sandbox.clientSecret,
    LIMIO_TIMEOUT_MS: '2000',
    ...overrides,
  });
}

describe('the Limio probe on the sync Lambda token client, against the Limio sandbox', () => {
  it('asks the token endpoint at every probe (no cached token hides an outage)', async () => {
    const probe = limioProbeFor(probeConfig());
    const before = sandbox.stats.tokenRequests;
    expect((await probe()).result).toBe('healthy');
    expect((await probe()).result).toBe('healthy');
    expect(sandbox.stats.tokenRequests - before).toBe(2);
  });

  it('syncs the probe subscription when configured: healthy unless Limio fails it', async () => {
    sandbox.respondWith('A-S00000901', 502);
    sandbox.respondWith('A-S00000902', 404);
    const failing = await limioProbeFor(probeConfig({ PROBE_SUBSCRIPTION_ID: 'A-S00000901' }))();
    expect(failing.result).toBe('unhealthy');
    const refused = await limioProbeFor(probeConfig({ PROBE_SUBSCRIPTION_ID: 'A-S00000902' }))();
    expect(refused).toMatchObject({ result: 'healthy' });
    expect(refused.detail).toMatch(/probe subscription refused$/);
    const synced = await limioProbeFor(probeConfig({ PROBE_SUBSCRIPTION_ID: 'A-S00000903' }))();
    expect(synced.detail).toMatch(/probe subscription synced$/);
    expect(sandbox.stats.synced.has('A-S00000903')).toBe(true);
  });

  it('is unhealthy when the credentials are refused, without quoting them', async () => {
    const outcome = await limioProbeFor(probeConfig({ LIMIO_CLIENT_SECRET: 'wrong-secret-value' }))();
    expect(outcome).toEqual({
      result: 'unhealthy',
      detail: 'token endpoint refused the client credentials (401): check the Limio secret',
    });
  });

  it('is unhealthy when Limio cannot be reached', async () => {
    const outcome = await limioProbeFor(probeConfig({ LIMIO_BASE_URL: 'http://127.0.0.1:1' }))();
    expect(outcome.result).toBe('unhealthy');
    expect(outcome.detail).toMatch(/^token request failed: /);
  });
});

describe('createProbeLambda: the deployed wiring (DynamoDB and Lambda mocked, Limio sandbox real)', () => {
  const dynamo = mockClient(DynamoDBClient);
  const lambda = mockClient(LambdaClient);
  afterAll(() => {
    dynamo.restore();
    lambda.restore();
  });

  it('moves an open breaker to half-open and lets the sync event source poll at a concurrency of 2', async () => {
    const T0 = Date.parse('2026-11-24T10:00:00.000Z');
    dynamo.on(GetItemCommand).resolves({
      Item: {
        pk: { S: 'state' },
        phase: { S: 'open' },
        since: { N: String(T0) },
        reason: { S: 'token endpoint failed 3 times in the window' },
        openedBy: { S: 'auto' },
        openIntervals: { L: [{ M: { from: { N: String(T0) } } }] },
        healthyProbes: { N: '0' },
        version: { N: '5' },
        announcedState: { S: 'open' },
        announcedSince: { N: String(T0) },
      },
    });
    dynamo.on(UpdateItemCommand).resolves({});
    lambda.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled', ScalingConfig: { MaximumConcurrency: 20 } });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const output = captureOutput();
    try {
      const run = createProbeLambda(probeConfig(), {
        dynamo: new DynamoDBClient({ region: 'eu-west-1' }),
        lambda: new LambdaClient({ region: 'eu-west-1' }),
        now: () => T0 + 120_000,
        logger: new Logger({ serviceName: 'breaker-test' }),
        metrics: new Metrics({ namespace: 'ZuoraLimioSyncTest', serviceName: 'breaker-test' }),
      });
      const report = await run();
      expect(report).toMatchObject({
        after: { state: 'half-open', version: 6 },
        polling: 'changed',
        announced: ['half-open'],
      });
    } finally {
      output.restore();
    }
    const write = dynamo
      .commandCalls(UpdateItemCommand)
      .map((call) => call.args[0].input)
      .find((input) => input.ConditionExpression === '#version = :expected');
    expect(write?.ExpressionAttributeValues).toMatchObject({
      ':phase': { S: 'half-open' },
      ':expected': { N: '5' },
      ':version': { N: '6' },
    });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)[0]!.args[0].input).toEqual({
      UUID: '14e0db71-5d35-4eb5-b481-8945cf9d10c2',
      Enabled: true,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const logged = output.text();
    for (const token of sandbox.issuedTokens()) expect(logged).not.toContain(token);
    expect(logged).not.toContain(sandbox.clientSecret);
  });
});
