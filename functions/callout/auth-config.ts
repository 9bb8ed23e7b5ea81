import { ConfigError } from '../shared/config-error';
import { integer, optionalString, type Env } from '../shared/env';
import {
  checkSignedDataCoversIds,
  DEFAULT_HMAC_ALGORITHM,
  DEFAULT_HMAC_HEADER,
  DEFAULT_SIGNED_DATA,
  DEFAULT_TOLERANCE_SECONDS,
  HMAC_ALGORITHMS,
  normaliseHmacAlgorithm,
  parseSignedDataTemplate,
  SignedDataError,
  type HmacSettings,
} from './hmac';

/**
 * How Zuora proves a callout is its own. Read from the Secrets Manager secret CALLOUT_AUTH_SECRET_ID in AWS,
 * or from CALLOUT_* environment variables for local use. There is deliberately no "none" mode.
 *
 * Secret JSON: {"mode":"basic","username","password"} | {"mode":"header","headerName","value"} |
 *              {"mode":"hmac","key","headerName","algorithm","prefix"?,"signedData","toleranceSeconds"?}
 *
 * Rotation without a flag day: while Zuora may still send the old credential, the secret also holds it as
 * "previousPassword" (and "previousUsername" if that changes too), "previousValue" or "previousKey"
 * (locally CALLOUT_PREVIOUS_PASSWORD, CALLOUT_PREVIOUS_USERNAME, CALLOUT_PREVIOUS_HEADER_VALUE,
 * CALLOUT_PREVIOUS_HMAC_KEY). Both are accepted; the handler counts callouts that used the previous one.
 */
const CALLOUT_AUTH_MODES = ['basic', 'header', 'hmac'] as const;
type CalloutAuthMode = (typeof CALLOUT_AUTH_MODES)[number];

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

interface BasicAuthSettings extends BasicCredentials {
  readonly mode: 'basic';
  /** During a rotation, the credentials Zuora may still send. */
  readonly previous?: BasicCredentials;
}

interface HeaderAuthSettings {
  readonly mode: 'header';
  readonly headerName: string;
  readonly value: string;
  /** During a rotation, the value Zuora may still send. */
  readonly previousValue?: string;
}

interface HmacAuthSettings extends HmacSettings {
  readonly mode: 'hmac';
}

export type CalloutAuth = BasicAuthSettings | HeaderAuthSettings | HmacAuthSettings;

/** Where each setting comes from, so a ConfigError names what the operator must fix. */
interface SettingNames {
  readonly mode: string;
  readonly username: string;
  readonly password: string;
  readonly headerName: string;
  readonly value: string;
  readonly key: string;
  readonly hmacHeader: string;
  readonly algorithm: string;
  readonly prefix: string;
  readonly signedData: string;
  readonly toleranceSeconds: string;
  readonly previousUsername: string;
  readonly previousPassword: string;
  readonly previousValue: string;
  readonly previousKey: string;
}

const ENV_NAMES: SettingNames = {
  mode: 'CALLOUT_AUTH_MODE',
  username: 'CALLOUT_USERNAME',
  password: 'CALLOUT_PASSWORD',
  headerName: 'CALLOUT_HEADER_NAME',
  value: 'CALLOUT_HEADER_VALUE',
  key: 'CALLOUT_HMAC_KEY',
  hmacHeader: 'CALLOUT_HMAC_HEADER',
  algorithm: 'CALLOUT_HMAC_ALGORITHM',
  prefix: 'CALLOUT_HMAC_PREFIX',
  signedData: 'CALLOUT_HMAC_SIGNED_DATA',
  toleranceSeconds: 'CALLOUT_HMAC_TOLERANCE_SECONDS',
  previousUsername: 'CALLOUT_PREVIOUS_USERNAME',
  previousPassword: 'CALLOUT_PREVIOUS_PASSWORD',
  previousValue: 'CALLOUT_PREVIOUS_HEADER_VALUE',
  previousKey: 'CALLOUT_PREVIOUS_HMAC_KEY',
};

function secretNames(secretId: string): SettingNames {
  const field = (name: string) => `CALLOUT_AUTH_SECRET_ID (secret ${secretId}, field "${name}")`;
  return {
    mode: field('mode'),
    username: field('username'),
    password: field('password'),
    headerName: field('headerName'),
    value: field('value'),
    key: field('key'),
    hmacHeader: field('headerName'),
    algorithm: field('algorithm'),
    prefix: field('prefix'),
    signedData: field('signedData'),
    toleranceSeconds: field('toleranceSeconds'),
    previousUsername: field('previousUsername'),
    previousPassword: field('previousPassword'),
    previousValue: field('previousValue'),
    previousKey: field('previousKey'),
  };
}

interface RawSettings {
  mode?: string;
  username?: string;
  password?: string;
  headerName?: string;
  value?: string;
  key?: string;
  hmacHeader?: string;
  algorithm?: string;
  prefix?: string;
  signedData?: string;
  toleranceSeconds?: string;
  previousUsername?: string;
  previousPassword?: string;
  previousValue?: string;
  previousKey?: string;
}

/** True when the environment names any local auth setting (as opposed to a secret). */
export function hasEnvAuth(env: Env): boolean {
  return optionalString(env, ENV_NAMES.mode) !== undefined;
}

export function calloutAuthFromEnv(env: Env): CalloutAuth {
  const raw = (name: string) => optionalString(env, name);
  return buildAuth(
    {
      mode: raw(ENV_NAMES.mode),
      username: raw(ENV_NAMES.username),
      // Passwords, header values and keys are taken verbatim: surrounding spaces may be part of the secret.
      password: nonEmpty(env[ENV_NAMES.password]),
      headerName: raw(ENV_NAMES.headerName),
      value: nonEmpty(env[ENV_NAMES.value]),
      key: nonEmpty(env[ENV_NAMES.key]),
      hmacHeader: raw(ENV_NAMES.hmacHeader),
      algorithm: raw(ENV_NAMES.algorithm),
      prefix: env[ENV_NAMES.prefix],
      signedData: nonEmpty(env[ENV_NAMES.signedData]),
      toleranceSeconds: raw(ENV_NAMES.toleranceSeconds),
      previousUsername: raw(ENV_NAMES.previousUsername),
      previousPassword: nonEmpty(env[ENV_NAMES.previousPassword]),
      previousValue: nonEmpty(env[ENV_NAMES.previousValue]),
      previousKey: nonEmpty(env[ENV_NAMES.previousKey]),
    },
    ENV_NAMES,
  );
}

/** Parses the secret's JSON. The error never repeats a value from the secret. */
export function parseCalloutAuthSecret(secretString: string, secretId: string): CalloutAuth {
  const names = secretNames(secretId);
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new ConfigError('CALLOUT_AUTH_SECRET_ID', `secret ${secretId} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('CALLOUT_AUTH_SECRET_ID', `secret ${secretId} is not a JSON object`);
  }
  const record = parsed as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const value = record[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'number') return String(value);
    if (typeof value !== 'string')
      throw new ConfigError('CALLOUT_AUTH_SECRET_ID', `secret ${secretId}: field "${field}" must be a string`);
    return value === '' ? undefined : value;
  };
  return buildAuth(
    {
      mode: text('mode')?.trim(),
      username: text('username'),
      password: text('password'),
      headerName: text('headerName')?.trim(),
      value: text('value'),
      key: text('key'),
      hmacHeader: text('headerName')?.trim(),
      algorithm: text('algorithm')?.trim(),
      prefix: text('prefix'),
      signedData: text('signedData'),
      toleranceSeconds: text('toleranceSeconds')?.trim(),
      previousUsername: text('previousUsername'),
      previousPassword: text('previousPassword'),
      previousValue: text('previousValue'),
      previousKey: text('previousKey'),
    },
    names,
  );
}

function buildAuth(raw: RawSettings, names: SettingNames): CalloutAuth {
  const required = (value: string | undefined, name: string): string => {
    if (value === undefined) throw new ConfigError(name, 'is required but not set');
    return value;
  };
  const mode = required(raw.mode, names.mode);
  if (!(CALLOUT_AUTH_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(names.mode, `must be one of ${CALLOUT_AUTH_MODES.join(', ')}, got "${mode}"`);
  }
  switch (mode as CalloutAuthMode) {
    case 'basic': {
      const username = required(raw.username, names.username);
      // RFC 7617: the user-id cannot contain a colon, the password may.
      if (username.includes(':')) throw new ConfigError(names.username, 'must not contain ":"');
      const password = required(raw.password, names.password);
      if (raw.previousUsername !== undefined && raw.previousPassword === undefined) {
        throw new ConfigError(
          names.previousPassword,
          'is required when a previous username is set (a rotation keeps the old username and password together)',
        );
      }
      if (raw.previousPassword === undefined) return { mode: 'basic', username, password };
      const previousUsername = raw.previousUsername ?? username;
      if (previousUsername.includes(':')) throw new ConfigError(names.previousUsername, 'must not contain ":"');
      return {
        mode: 'basic',
        username,
        password,
        previous: { username: previousUsername, password: raw.previousPassword },
      };
    }
    case 'header': {
      const headerName = required(raw.headerName, names.headerName);
      checkHeaderName(headerName, names.headerName);
      if (headerName.toLowerCase() === 'authorization' || headerName.toLowerCase() === 'host') {
        throw new ConfigError(names.headerName, `must be a custom header such as X-Callout-Token, not ${headerName}`);
      }
      const value = required(raw.value, names.value);
      return {
        mode: 'header',
        headerName,
        value,
        ...(raw.previousValue !== undefined && { previousValue: raw.previousValue }),
      };
    }
    case 'hmac': {
      const headerName = raw.hmacHeader ?? DEFAULT_HMAC_HEADER;
      checkHeaderName(headerName, names.hmacHeader);
      const algorithm = raw.algorithm === undefined ? DEFAULT_HMAC_ALGORITHM : normaliseHmacAlgorithm(raw.algorithm);
      if (algorithm === undefined) {
        throw new ConfigError(
          names.algorithm,
          `must be one of ${HMAC_ALGORITHMS.join(', ')} (SHA-256 style names work too), got "${raw.algorithm}"`,
        );
      }
      const signedData = raw.signedData ?? DEFAULT_SIGNED_DATA;
      try {
        parseSignedDataTemplate(signedData);
        checkSignedDataCoversIds(signedData);
      } catch (error) {
        if (error instanceof SignedDataError) throw new ConfigError(names.signedData, error.message);
        throw error;
      }
      const toleranceSeconds = integer(
        { [names.toleranceSeconds]: raw.toleranceSeconds },
        names.toleranceSeconds,
        DEFAULT_TOLERANCE_SECONDS,
        { min: 1, max: 86_400 },
      );
      return {
        mode: 'hmac',
        key: required(raw.key, names.key),
        ...(raw.previousKey !== undefined && { previousKey: raw.previousKey }),
        headerName,
        algorithm,
        prefix: raw.prefix ?? '',
        signedData,
        toleranceSeconds,
      };
    }
  }
}

function checkHeaderName(name: string, variable: string): void {
  if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name))
    throw new ConfigError(variable, `"${name}" is not a valid HTTP header name`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
