import { ConfigError } from './config-error';
import { optionalString, requiredString, type Env } from './env';

/** Where an OAuth client id and secret come from: Secrets Manager in AWS, plain variables only locally. */
export type ClientCredentialsConfig =
  | { readonly source: 'secrets-manager'; readonly secretId: string }
  | { readonly source: 'environment'; readonly clientId: string; readonly clientSecret: string };

/**
 * {PREFIX}_SECRET_ID (Secrets Manager, in AWS) or, for local use only, {PREFIX}_CLIENT_ID + {PREFIX}_CLIENT_SECRET;
 * never both: two sources would leave it to chance which one is used after a rotation. Limio's and Zuora's
 * OAuth client credentials follow the same rule.
 */
export function loadClientCredentials(env: Env, prefix: 'LIMIO' | 'ZUORA'): ClientCredentialsConfig {
  const names = {
    secretId: `${prefix}_SECRET_ID`,
    clientId: `${prefix}_CLIENT_ID`,
    clientSecret: `${prefix}_CLIENT_SECRET`,
  };
  const secretId = optionalString(env, names.secretId);
  const clientId = optionalString(env, names.clientId);
  const clientSecret = optionalString(env, names.clientSecret);
  if (secretId !== undefined) {
    if (clientId !== undefined || clientSecret !== undefined) {
      throw new ConfigError(
        names.secretId,
        `is set together with ${names.clientId}/${names.clientSecret}; set only one of the two`,
      );
    }
    return { source: 'secrets-manager', secretId };
  }
  if (clientId === undefined && clientSecret === undefined) {
    throw new ConfigError(
      names.secretId,
      `is required (or, for local use only, ${names.clientId} and ${names.clientSecret})`,
    );
  }
  return {
    source: 'environment',
    clientId: requiredString(env, names.clientId),
    clientSecret: requiredString(env, names.clientSecret),
  };
}
