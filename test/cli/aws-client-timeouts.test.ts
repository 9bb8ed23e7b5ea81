import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  awsCloudWatchClient,
  awsDynamoClient,
  awsSecretsManagerClient,
  awsSqsClient,
  CLI_AWS_CLIENT_OPTIONS,
} from '../../cli/aws-clients';
import { receivePage } from '../../cli/commands/dead-letters';
import { resolveTargets } from '../../cli/targets';
import { createQueuePair } from '../../local/sqs-emulator';
import { useSqsEmulator } from '../support/sqs-emulator';
import { startStalledServer, type StalledServer } from '../support/stalled-server';

// The CLI's own AWS clients against a server that accepts connections and never answers: without request
// timeouts the operator's command would wait for ever (each test here would hang until jest gives up). The tests
// run side by side, each with its own stalled server, so the file takes one client's worst case, not six.

const AWS_ENV = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
const { maxAttempts } = CLI_AWS_CLIENT_OPTIONS;
const { requestTimeout } = CLI_AWS_CLIENT_OPTIONS.requestHandler;
/** Every try waits out its request timeout; the SDK's backoff between tries adds well under a second each. */
const WORST_CASE_MS = maxAttempts * requestTimeout + 3_000;
const JEST_TIMEOUT_MS = WORST_CASE_MS + 10_000;

async function onStalledServer(
  call: (stalled: StalledServer) => Promise<unknown>,
): Promise<{ error: unknown; elapsedMs: number; requests: number }> {
  const stalled = await startStalledServer();
  const started = Date.now();
  try {
    await call(stalled);
    throw new Error('the call to a server that never answers succeeded');
  } catch (error) {
    return { error, elapsedMs: Date.now() - started, requests: stalled.requests() };
  } finally {
    await stalled.stop();
  }
}

function expectTimedOut(
  outcome: { error: unknown; elapsedMs: number; requests: number },
  message: RegExp = /requestTimeout/,
) {
  expect(String((outcome.error as Error).message)).toMatch(message);
  expect(outcome.requests).toBe(maxAttempts);
  expect(outcome.elapsedMs).toBeGreaterThanOrEqual(maxAttempts * requestTimeout - 100);
  expect(outcome.elapsedMs).toBeLessThan(WORST_CASE_MS);
}

describe("the CLI's AWS clients time out on an endpoint that never answers", () => {
  const emulator = useSqsEmulator();

  it.concurrent(
    'SQS (--stack, --queue-url): a depth read fails after its tries instead of hanging',
    async () => {
      const outcome = await onStalledServer(async (stalled) => {
        const sqs = awsSqsClient({ ...AWS_ENV, AWS_ENDPOINT_URL_SQS: stalled.url }, undefined);
        try {
          await sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: `${stalled.url}/000000000000/main`, AttributeNames: ['All'] }),
          );
        } finally {
          sqs.destroy();
        }
      });
      expectTimedOut(outcome);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    'SQS (--local): a runtime whose emulator port never answers is reported, not waited on',
    async () => {
      const outcome = await onStalledServer((stalled) =>
        resolveTargets({ local: true }, { SQS_PORT: new URL(stalled.url).port }, { mainQueue: true }),
      );
      expectTimedOut(outcome, /cannot reach the local runtime's SQS emulator .*requestTimeout/);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    'DynamoDB (the breaker and the ledger): a read fails after its tries',
    async () => {
      const outcome = await onStalledServer(async (stalled) => {
        const dynamo = awsDynamoClient({ ...AWS_ENV, AWS_ENDPOINT_URL_DYNAMODB: stalled.url }, undefined);
        try {
          await dynamo.send(new GetItemCommand({ TableName: 'zls-breaker', Key: { pk: { S: 'breaker' } } }));
        } finally {
          dynamo.destroy();
        }
      });
      expectTimedOut(outcome);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    "Secrets Manager (sweep's Zuora secret): a read fails after its tries",
    async () => {
      const outcome = await onStalledServer(async (stalled) => {
        const secrets = awsSecretsManagerClient(
          { ...AWS_ENV, AWS_ENDPOINT_URL_SECRETS_MANAGER: stalled.url },
          'zuora-client',
          undefined,
        );
        try {
          await secrets.send(new GetSecretValueCommand({ SecretId: 'zuora-client' }));
        } finally {
          secrets.destroy();
        }
      });
      expectTimedOut(outcome);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    'CloudFormation (--stack): reading the outputs fails after its tries, naming the stack',
    async () => {
      const outcome = await onStalledServer((stalled) =>
        resolveTargets(
          { stack: 'ZuoraLimioSync' },
          { ...AWS_ENV, AWS_ENDPOINT_URL_CLOUDFORMATION: stalled.url },
          { mainQueue: true },
        ),
      );
      expectTimedOut(outcome, /cannot read the outputs of stack "ZuoraLimioSync": .*requestTimeout/);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    "CloudWatch (status's drain rate): a metrics read fails after its tries",
    async () => {
      const outcome = await onStalledServer(async (stalled) => {
        const cloudWatch = awsCloudWatchClient({ ...AWS_ENV, AWS_ENDPOINT_URL_CLOUDWATCH: stalled.url }, undefined);
        try {
          await cloudWatch.send(
            new GetMetricDataCommand({
              StartTime: new Date(Date.now() - 600_000),
              EndTime: new Date(),
              MetricDataQueries: [],
            }),
          );
        } finally {
          cloudWatch.destroy();
        }
      });
      expectTimedOut(outcome);
    },
    JEST_TIMEOUT_MS,
  );

  it.concurrent(
    'a long-poll receive waiting longer than the request timeout is not cut short by it',
    async () => {
      const queues = await createQueuePair(emulator.sqs, {
        mainQueueName: 'cli-timeouts-long-poll',
        deadLetterQueueName: 'cli-timeouts-long-poll-dlq',
      });
      const sqs = awsSqsClient({ ...AWS_ENV, AWS_ENDPOINT_URL_SQS: emulator.endpoint }, undefined);
      const waitTimeSeconds = requestTimeout / 1000 + 1;
      const started = Date.now();
      try {
        expect(
          await receivePage(sqs, {
            queueUrl: queues.deadLetterQueueUrl,
            visibilityTimeoutSeconds: 30,
            waitTimeSeconds,
          }),
        ).toEqual([]);
      } finally {
        sqs.destroy();
      }
      expect(Date.now() - started).toBeGreaterThanOrEqual(waitTimeSeconds * 1000 - 500);
    },
    JEST_TIMEOUT_MS,
  );
});
