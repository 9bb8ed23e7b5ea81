import { ConfigError } from './config-error';

export type Env = Readonly<Record<string, string | undefined>>;

function present(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function requiredString(env: Env, name: string): string {
  const value = present(env, name);
  if (value === undefined) throw new ConfigError(name, 'is required but not set');
  return value;
}

export function optionalString(env: Env, name: string): string | undefined {
  return present(env, name);
}

export function integer(env: Env, name: string, fallback: number, bounds: { min: number; max: number }): number {
  const raw = present(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max) {
    throw new ConfigError(name, `must be between ${bounds.min} and ${bounds.max}, got ${value}`);
  }
  return value;
}

export function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback?: T): T {
  const raw = present(env, name);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new ConfigError(name, `is required; one of ${allowed.join(', ')}`);
  }
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/**
 * A base URL without a trailing slash. Plain http is accepted only for loopback hosts (the local sandbox):
 * a bearer token must never cross a network in clear text.
 */
export function baseUrl(env: Env, name: string): string {
  const raw = requiredString(env, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL such as https://acme.prod.limio.com, got "${raw}"`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ConfigError(name, `must use https:// (http:// only for 127.0.0.1/localhost), got "${raw}"`);
  }
  if (url.search || url.hash) throw new ConfigError(name, `must not carry a query or fragment, got "${raw}"`);
  return url.toString().replace(/\/+$/, '');
}
