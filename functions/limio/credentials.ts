import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadClientCredentials, type ClientCredentialsConfig } from '../shared/client-credentials';
import {
  credentialsFromEnvironment,
  credentialsFromSecretsManager,
  credentialsSourceOf,
  type CredentialsSource,
} from '../shared/credentials-source';
import type { Env } from '../shared/env';

/** Where the Limio client id and secret come from: Secrets Manager in AWS, plain variables only locally. */
export type LimioCredentialsConfig = ClientCredentialsConfig;

/**
 * LIMIO_SECRET_ID (Secrets Manager, in AWS) or, for local use only, LIMIO_CLIENT_ID + LIMIO_CLIENT_SECRET; never
 * both. The sync Lambda and the breaker probe read their Limio credentials by this one rule.
 */
export function loadLimioCredentials(env: Env): LimioCredentialsConfig {
  return loadClientCredentials(env, 'LIMIO');
}

/** The Limio credentials source a loaded configuration names; its errors name the Limio secret. */
export function credentialsSourceFor(
  config: LimioCredentialsConfig,
  secretsManager?: SecretsManagerClient,
): CredentialsSource {
  return credentialsSourceOf(config, 'Limio', secretsManager);
}

/** The Limio client credentials in a Secrets Manager secret, JSON {"clientId": "…", "clientSecret": "…"}. */
export function secretsManagerCredentials(secretId: string, client?: SecretsManagerClient): CredentialsSource {
  return credentialsFromSecretsManager(secretId, 'Limio', client);
}

/** Plain values, for local use only: a re-read cannot give anything new. */
export function environmentCredentials(clientId: string, clientSecret: string): CredentialsSource {
  return credentialsFromEnvironment(clientId, clientSecret);
}
