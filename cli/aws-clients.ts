import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Env } from './target-types';

/**
 * A client for real SQS, or whatever AWS_ENDPOINT_URL_SQS points at. The endpoint is passed explicitly because
 * without a configured endpoint the SQS client sends each call to the host named in the queue URL. Without AWS_REGION, the region is read from
 * the queue URL (https://sqs.eu-west-1.amazonaws.com/...), so a copied URL is all an operator needs.
 */
export function awsSqsClient(env: Env, queueUrl: string | undefined): SQSClient {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfQueueUrl(queueUrl);
  return new SQSClient({ ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/** A client for the breaker's table in real DynamoDB, or whatever AWS_ENDPOINT_URL_DYNAMODB points at. */
export function awsDynamoClient(env: Env, queueUrl: string | undefined, config: DynamoDBClientConfig = {}): DynamoDBClient {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? regionOfQueueUrl(queueUrl);
  return new DynamoDBClient({ ...config, ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/** A client for the Zuora secret in real Secrets Manager (region from AWS_REGION or the secret's ARN). */
export function awsSecretsManagerClient(env: Env, secretId: string, queueUrl: string | undefined): SecretsManagerClient {
  const endpoint = env.AWS_ENDPOINT_URL_SECRETS_MANAGER ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):/.exec(secretId)?.[1] ?? regionOfQueueUrl(queueUrl);
  return new SecretsManagerClient({ ...(endpoint && { endpoint }), ...(region && { region }), ...credentialsFrom(env) });
}

/**
 * Keys given in the CLI's environment are used as given; otherwise the SDK's default chain (profiles, SSO,
 * instance roles) applies.
 */
export function credentialsFrom(env: Env) {
  if (!env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) return {};
  return {
    credentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
    },
  };
}

export function regionOfQueueUrl(queueUrl: string | undefined): string | undefined {
  return queueUrl ? /^https:\/\/sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1] : undefined;
}
