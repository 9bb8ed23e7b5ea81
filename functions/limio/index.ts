/**
 * Limio, as the sync Lambda and the breaker's probe both talk to it: the client-credentials source, the
 * bearer-token cache, the sync client, and what each of Limio's answers means (the retry table). Import from
 * here, not from the files behind it. Depends on functions/shared only.
 */
export {
  credentialsSourceFor,
  environmentCredentials,
  loadLimioCredentials,
  secretsManagerCredentials,
  type LimioCredentialsConfig,
} from './credentials';
export type { CredentialsSource } from '../shared/credentials-source';
export { LimioTokenCache } from './token-cache';
export { LimioClient, SYNC_PATH, type SyncResult } from './client';
export { classifySyncOutcome, parseRetryAfter, type LimioAnswer, type SyncOutcome } from './classify-outcome';
