import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../shared/config-error';
import { parseCalloutAuthSecret, type CalloutAuth } from './auth-config';
import type { AuthSource } from './config';

/** How long a read of the auth secret is trusted; a rotated secret is picked up within this time. */
const AUTH_SECRET_CACHE_SECONDS = 300;

/**
 * `staleAfterRotation`: the caller just saw credentials that did not match. If the cached copy is older than
 * REFRESH_AFTER_FAILURE_SECONDS it is read again, so a rotated secret is picked up at the first callout that
 * uses it, not after the cache period; a flood of bad callouts still causes at most one read per that time.
 */
export type AuthProvider = (options?: { staleAfterRotation?: boolean }) => Promise<CalloutAuth>;

const REFRESH_AFTER_FAILURE_SECONDS = 30;

export interface AuthProviderDeps {
  /** Needed only for a secret source. */
  readonly secretsManager?: Pick<SecretsManagerClient, 'send'>;
  readonly now: () => Date;
  readonly cacheSeconds?: number;
}

/**
 * Callout credentials, read from Secrets Manager at most once per cache period however many callouts arrive
 * (concurrent first callouts share one read). A failed read is not cached, so the next callout tries again.
 */
export function createAuthProvider(source: AuthSource, deps: AuthProviderDeps): AuthProvider {
  if (source.kind === 'static') {
    const auth = source.auth;
    return async () => auth;
  }
  const secretsManager = deps.secretsManager;
  if (secretsManager === undefined) throw new Error('a Secrets Manager client is required for CALLOUT_AUTH_SECRET_ID');
  const cacheMs = (deps.cacheSeconds ?? AUTH_SECRET_CACHE_SECONDS) * 1000;
  let cached: { auth: CalloutAuth; readAt: number } | undefined;
  let inFlight: Promise<CalloutAuth> | undefined;

  const read = async (): Promise<CalloutAuth> => {
    const output = await secretsManager.send(new GetSecretValueCommand({ SecretId: source.secretId }));
    if (output.SecretString === undefined) {
      throw new ConfigError(
        'CALLOUT_AUTH_SECRET_ID',
        `secret ${source.secretId} has no string value (binary secrets are not supported)`,
      );
    }
    const auth = parseCalloutAuthSecret(output.SecretString, source.secretId);
    cached = { auth, readAt: deps.now().getTime() };
    return auth;
  };

  return (options = {}) => {
    const age = cached === undefined ? Infinity : deps.now().getTime() - cached.readAt;
    const maxAge = options.staleAfterRotation ? Math.min(cacheMs, REFRESH_AFTER_FAILURE_SECONDS * 1000) : cacheMs;
    if (cached !== undefined && age < maxAge) return Promise.resolve(cached.auth);
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
