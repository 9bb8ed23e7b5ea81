import { ConfigError } from '../../functions/shared/config-error';
import type { Env } from '../../functions/shared/env';

/** The checks every setting goes through: whole numbers in range, one of a list, optional text, URLs, ARNs. */

/** CloudWatch Logs accepts only these retention periods. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

export function wholeNumber(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const resolved = value ?? fallback;
  if (!Number.isInteger(resolved)) throw new ConfigError(name, `must be a whole number, got ${resolved}`);
  if (resolved < min || resolved > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${resolved}`);
  }
  return resolved;
}

export function chosen<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  const resolved = value ?? fallback;
  if (!allowed.includes(resolved)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${String(resolved)}"`);
  }
  return resolved;
}

export function limioUrl(raw: string | undefined): string {
  if (raw === undefined || raw.trim() === '') {
    throw new ConfigError('limioBaseUrl', 'is required, e.g. https://acme.prod.limio.com');
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError('limioBaseUrl', `must be an absolute URL such as https://acme.prod.limio.com, got "${raw}"`);
  }
  // A deployed bridge sends a bearer token to this host: never in clear text, never to a loopback address.
  if (url.protocol !== 'https:') throw new ConfigError('limioBaseUrl', `must use https://, got "${raw}"`);
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError('limioBaseUrl', `must not carry credentials, a query or a fragment, got "${raw}"`);
  }
  return url.toString().replace(/\/+$/, '');
}

export function kmsKeyArn(value: string | undefined): string | undefined {
  const arn = optionalText(value);
  if (arn === undefined) return undefined;
  // IAM matches a grant against the key's own ARN: an alias ARN would deploy and then be denied at run time.
  if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(arn)) {
    throw new ConfigError(
      'secretsKmsKeyArn',
      `must be a KMS key's ARN (arn:aws:kms:<region>:<account>:key/<key id>, not an alias), got "${arn}"`,
    );
  }
  return arn;
}

export function optionalText(value: string | undefined, check?: (text: string) => void): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  check?.(value.trim());
  return value.trim();
}

/**
 * Runs a Lambda's own configuration loader over the environment the construct will give it, so a prop is refused
 * at synth by the very rule that would stop the Lambda's cold start; the error names the prop, not the variable.
 */
export function checkedByLambdaRules<T>(
  load: (env: Env) => T,
  env: Record<string, string | undefined>,
  propOf: Record<string, string>,
): T {
  try {
    return load(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    let problem = error.message.slice(error.variable.length + 2);
    for (const [variable, prop] of Object.entries(propOf)) problem = problem.replaceAll(variable, prop);
    throw new ConfigError(propOf[error.variable] ?? error.variable, problem);
  }
}
