import type { CalloutAuthMode } from './settings';

/**
 * What the construct writes into the secrets it creates. Plain data, so tests can check it against the very
 * parsers the Lambdas use (functions/callout/auth-config.ts, functions/sync/credentials.ts).
 *
 * Keep these stable: a changed Limio placeholder would overwrite filled-in credentials on the next deploy, and a
 * changed callout template regenerates the callout secret, breaking the copy in Zuora.
 */

/** Limio issues the client credentials, so nothing can be generated: placeholders the operator replaces. */
export const LIMIO_SECRET_PLACEHOLDER = {
  clientId: 'REPLACE_WITH_LIMIO_CLIENT_ID',
  clientSecret: 'REPLACE_WITH_LIMIO_CLIENT_SECRET',
} as const;

/**
 * The callout secret per mode: the fixed fields, and the one field Secrets Manager generates at deploy time
 * (the shared secret the operator copies into Zuora). HMAC defaults are the callout handler's own (hmac.ts).
 */
export const CALLOUT_AUTH_SECRET_TEMPLATES: Record<CalloutAuthMode, { readonly fields: Record<string, string>; readonly generatedField: string }> = {
  basic: { fields: { mode: 'basic', username: 'zuora' }, generatedField: 'password' },
  header: { fields: { mode: 'header', headerName: 'X-Callout-Token' }, generatedField: 'value' },
  hmac: {
    fields: { mode: 'hmac', headerName: 'X-Zuora-Signature', algorithm: 'sha256', signedData: '{body}\\n' },
    generatedField: 'key',
  },
};

/** Length of the generated shared secret (letters and digits only). */
export const GENERATED_SECRET_LENGTH = 48;
