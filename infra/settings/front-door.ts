import { ConfigError } from '../../functions/shared/config-error';
import { wholeNumber } from './rules';
import { INFRA_DEFAULTS, WAF_MIN_RATE_LIMIT_PER_IP, type CalloutApiKind } from './types';

/** The front door's settings: IP allowlist, WAF rate limit, TLS security policy. */

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(\/(3[0-2]|[12]?\d))?$/;
const IPV6_CIDR = /^[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(\/(12[0-8]|1[01]\d|[1-9]?\d))?$/;

export function ipRanges(name: string, ranges: readonly string[] | undefined, apiKind: CalloutApiKind): string[] {
  const list = (ranges ?? []).map((range) => range.trim()).filter((range) => range !== '');
  for (const range of list) {
    if (!IPV4_CIDR.test(range) && !IPV6_CIDR.test(range)) {
      throw new ConfigError(name, `"${range}" is not an IPv4/IPv6 address or CIDR`);
    }
  }
  // HTTP APIs have no resource policy (and no WAF): an allowlist there would silently do nothing.
  if (list.length > 0 && apiKind !== 'rest') {
    throw new ConfigError(name, 'needs apiKind "rest" (HTTP APIs have no resource policy)');
  }
  return list;
}

export function isIpv6Range(range: string): boolean {
  return range.includes(':');
}

/** A WAF IP set takes CIDRs only: a lone address becomes its /32 (or /128). */
export function asCidr(range: string): string {
  if (range.includes('/')) return range;
  return `${range}/${isIpv6Range(range) ? 128 : 32}`;
}

export function wafRateLimit(
  value: number | undefined,
  apiKind: CalloutApiKind,
  exempt: readonly string[],
): number | undefined {
  if (value === undefined) return undefined;
  // WAF cannot be associated with an HTTP API: refusing beats a synth that silently protects nothing.
  if (apiKind !== 'rest')
    throw new ConfigError('wafRateLimitPerIp', 'needs apiKind "rest" (WAF cannot be associated with an HTTP API)');
  const limit = wholeNumber('wafRateLimitPerIp', value, value, WAF_MIN_RATE_LIMIT_PER_IP, 2_000_000_000);
  if (exempt.length === 0) {
    throw new ConfigError(
      'wafRateLimitPerIp',
      "needs Zuora's addresses exempt (wafExemptIpRanges or allowedIpRanges): a bill run comes from a few Zuora addresses and would be blocked",
    );
  }
  return limit;
}

export function apiSecurityPolicy(value: string | undefined): string {
  const policy = value?.trim() || INFRA_DEFAULTS.apiSecurityPolicy;
  // TLS_1_2 (legacy) or an enhanced policy of a regional endpoint; never TLS_1_0, never an edge-only policy.
  if ((policy !== 'TLS_1_2' && !/^SecurityPolicy_TLS13_[A-Z0-9_]+$/.test(policy)) || policy.endsWith('_EDGE')) {
    throw new ConfigError(
      'apiSecurityPolicy',
      `must be TLS_1_2 or a regional SecurityPolicy_TLS13_… policy, got "${policy}"`,
    );
  }
  return policy;
}

export function isEnhancedSecurityPolicy(policy: string): boolean {
  return policy.startsWith('SecurityPolicy_');
}
