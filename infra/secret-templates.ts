import type { CalloutAuthMode } from './settings';

/**
 * What the construct writes into the secrets it creates. Plain data, so tests can check it against the very
 * parsers the Lambdas use (functions/callout/auth-config.ts, functions/limio/credentials.ts).
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
 * The Zuora OAuth client the sweep uses is created in Zuora (Settings > Administration > Manage Users > OAuth
 * Clients) by the operator, so, as for Limio, only placeholders the operator replaces.
 */
export const ZUORA_SECRET_PLACEHOLDER = {
  clientId: 'REPLACE_WITH_ZUORA_CLIENT_ID',
} as const;

/**
 * The callout secret per mode: the fixed fields, and the one field Secrets Manager generates at deploy time
 * (the shared secret the operator copies into Zuora). HMAC defaults are the callout handler's own (hmac.ts).
 *
 * `previousField` is not written at deploy time: during a rotation the operator copies the generated field's
 * old value into it and puts the new value in the generated field, so callouts with either are accepted until
 * Zuora has switched (docs/connecting-zuora.md, rotating the callout credential). It is listed here, not in `fields`, because a
 * changed template would make CloudFormation generate a new secret.
 */
export const CALLOUT_AUTH_SECRET_TEMPLATES: Record<
  CalloutAuthMode,
  { readonly fields: Record<string, string>; readonly generatedField: string; readonly previousField: string }
> = {
  basic: {
    fields: { mode: 'basic', username: 'zuora' },
    generatedField: 'password',
    previousField: 'previousPassword',
  },
  header: {
    fields: { mode: 'header', headerName: 'X-Callout-Token' },
    generatedField: 'value',
    previousField: 'previousValue',
  },
  hmac: {
    fields: { mode: 'hmac', headerName: 'X-Zuora-Signature', algorithm: 'sha256', signedData: '{body}\\n' },
    generatedField: 'key',
    previousField: 'previousKey',
  },
};

/** Length of the generated shared secret (letters and digits only). */
export const GENERATED_SECRET_LENGTH = 48;
