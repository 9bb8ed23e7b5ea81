import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { LimioCredentialsConfig } from './config';

export interface LimioCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * Where the token cache gets the client credentials. `read()` is cheap after the first call (cached for the
 * container's life); `read({ refresh: true })` goes back to the source, which the token cache does only when
 * the token endpoint refuses the credentials it has (the secret was rotated).
 */
export interface CredentialsSource {
  read(options?: { refresh?: boolean }): Promise<LimioCredentials>;
  /** False when a re-read cannot give anything new (plain environment variables). */
  readonly canRefresh: boolean;
}

/** The credentials could not be read or are not the documented JSON shape; the message names no secret value. */
export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/**
 * Powertools' SecretsProvider caches values for `maxAge` seconds; a container's life is far shorter than a
 * year, so in practice the secret is read once and again only on `refresh` (forceFetch).
 */
const CACHE_FOR_CONTAINER_LIFETIME_SECONDS = 365 * 24 * 60 * 60;

/** Whose client credentials a secret holds: named in every error, so an operator fixes the right secret. */
export type CredentialsOwner = 'Limio' | 'Zuora';

export function secretsManagerCredentials(secretId: string, client?: SecretsManagerClient, owner: CredentialsOwner = 'Limio'): CredentialsSource {
  const provider = client ? new SecretsProvider({ awsSdkV3Client: client }) : new SecretsProvider();
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
        const cause = (error as Error).name === 'TransformParameterError' ? 'its value is not JSON' : (error as Error).message;
        throw new CredentialsError(`cannot read the ${owner} credentials secret ${secretId}: ${cause}`);
      }
      return credentialsFromSecret(value, secretId, owner);
    },
  };
}

export function environmentCredentials(clientId: string, clientSecret: string): CredentialsSource {
  const credentials = { clientId, clientSecret };
  return { canRefresh: false, read: async () => credentials };
}

export function credentialsSourceFor(config: LimioCredentialsConfig, secretsManager?: SecretsManagerClient, owner: CredentialsOwner = 'Limio'): CredentialsSource {
  return config.source === 'secrets-manager'
    ? secretsManagerCredentials(config.secretId, secretsManager, owner)
    : environmentCredentials(config.clientId, config.clientSecret);
}

function credentialsFromSecret(value: unknown, secretId: string, owner: CredentialsOwner): LimioCredentials {
  const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  const { clientId, clientSecret } = record;
  if (typeof clientId !== 'string' || clientId === '' || typeof clientSecret !== 'string' || clientSecret === '') {
    throw new CredentialsError(`the ${owner} credentials secret ${secretId} must be JSON {"clientId": "…", "clientSecret": "…"}`);
  }
  return { clientId, clientSecret };
}
