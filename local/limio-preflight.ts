import { environmentCredentials, LimioTokenCache } from '../functions/limio';
import { DEFAULTS } from '../functions/shared/defaults';

/** Before npm start runs against a real Limio tenant: can it issue a token with the credentials given? */

/** A Limio tenant that cannot issue a token: the message says what to change. */
export class LimioUnreachableError extends Error {
  constructor(baseUrl: string, cause: string) {
    super(
      `LIMIO_BASE_URL ${baseUrl}: ${cause}; check LIMIO_BASE_URL, LIMIO_CLIENT_ID and LIMIO_CLIENT_SECRET, or unset LIMIO_BASE_URL to use the local sandbox`,
    );
    this.name = 'LimioUnreachableError';
  }
}

const PREFLIGHT_TIMEOUT_MS = 5_000;

/** Asks the tenant's token endpoint for a token, with the production token client, before anything starts. */
export async function checkLimioTenant(baseUrl: string, clientId: string, clientSecret: string): Promise<void> {
  const tokens = new LimioTokenCache({
    baseUrl,
    credentials: environmentCredentials(clientId, clientSecret),
    timeoutMs: PREFLIGHT_TIMEOUT_MS,
    expiryMarginSeconds: DEFAULTS.tokenExpiryMarginSeconds,
  });
  try {
    await tokens.token();
  } catch (error) {
    throw new LimioUnreachableError(baseUrl, (error as Error).message);
  }
}
