import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { BATCH_AWS_CLIENT_OPTIONS } from './aws-client-options';
import type { ClientCredentialsConfig } from './client-credentials';

/** An OAuth client id and secret (Limio's or Zuora's). */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Where a token client gets its client credentials. `read()` is cheap after the first call (cached for the
 * container's life); `read({ refresh: true })` goes back to the source, which a token client does only when
 * the token endpoint refuses the credentials it has (the secret was rotated).
 */
export interface CredentialsSource {
  read(options?: { refresh?: boolean }): Promise<ClientCredentials>;
  /** False when a re-read cannot give anything new (plain environment variables). */
  readonly canRefresh: boolean;
}

/** The credentials could not be read or are not the documented JSON shape; the message names no secret value. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/** Whose client credentials a secret holds: named in every error, so an operator fixes the right secret. */
export type CredentialsOwner = 'Limio' | 'Zuora';

/**
 * Powertools' SecretsProvider caches values for `maxAge` seconds; a container's life is far shorter than a
 * year, so in practice the secret is read once and again only on `refresh` (forceFetch).
 */
const CACHE_FOR_CONTAINER_LIFETIME_SECONDS = 365 * 24 * 60 * 60;

export function credentialsFromSecretsManager(
  secretId: string,
  owner: CredentialsOwner,
  client?: SecretsManagerClient,
): CredentialsSource {
  // Its own client gets the project's timeouts: the SDK sets none, and a stalled read would hold a sync batch or
  // a sweep run until the Lambda timeout.
  const provider = client
    ? new SecretsProvider({ awsSdkV3Client: client })
    : new SecretsProvider({ clientConfig: BATCH_AWS_CLIENT_OPTIONS });
  return {
    canRefresh: true,
    async read(options = {}) {
      let value: unknown;
      try {
        value = await provider.get(secretId, {
          transform: 'json',
          maxAge: CACHE_FOR_CONTAINER_LIFETIME_SECONDS,
          forceFetch: options.refresh === true,
        });
      } catch (error) {
        // The SDK's message names the secret and the cause, never its value; a JSON parse error would quote
        // the value, so it is replaced.
        const cause =
          (error as Error).name === 'TransformParameterError' ? 'its value is not JSON' : (error as Error).message;
        throw new CredentialsError(`cannot read the ${owner} credentials secret ${secretId}: ${cause}`);
      }
      return credentialsFromSecret(value, secretId, owner);
    },
  };
}

export function credentialsFromEnvironment(clientId: string, clientSecret: string): CredentialsSource {
  const credentials = { clientId, clientSecret };
  return { canRefresh: false, read: async () => credentials };
}

/** The source a loaded configuration names (loadClientCredentials): Secrets Manager in AWS, variables locally. */
export function credentialsSourceOf(
  config: ClientCredentialsConfig,
  owner: CredentialsOwner,
  secretsManager?: SecretsManagerClient,
): CredentialsSource {
  return config.source === 'secrets-manager'
    ? credentialsFromSecretsManager(config.secretId, owner, secretsManager)
    : credentialsFromEnvironment(config.clientId, config.clientSecret);
}

function credentialsFromSecret(value: unknown, secretId: string, owner: CredentialsOwner): ClientCredentials {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const { clientId, clientSecret } = record;
  if (typeof clientId !== 'string' || clientId === '' || typeof clientSecret !== 'string' || clientSecret === '') {
    throw new CredentialsError(
      `the ${owner} credentials secret ${secretId} must be JSON {"clientId": "…", "clientSecret": "…"}`,
    );
  }
  return { clientId, clientSecret };
}
