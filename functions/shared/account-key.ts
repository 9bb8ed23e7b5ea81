import { anchoredPattern } from './anchored-pattern';
import { describeUntrusted } from './untrusted-value';

/**
 * One rule, used by the callout Lambda, the fan-out and the CLI, for what may name a Zuora account: an account
 * number or an account id. The key becomes a path segment of Zuora's URL (GET /v1/subscriptions/accounts/{key}),
 * so whatever the configured pattern says, only a safe character set is ever accepted.
 */

/** Zuora account numbers: an optional letter prefix (with an optional dash), then digits (A00001234, 1234). */
const DEFAULT_ACCOUNT_NUMBER_PATTERN = '^(?:[A-Za-z]{1,10}-?)?[0-9]{1,20}$';

/** Zuora object IDs (an AccountId): 32 lowercase hexadecimal characters. */
const ZUORA_OBJECT_ID = /^[0-9a-f]{32}$/;

/** No slash, percent, dot, whitespace or control character can pass this, whatever the pattern allows. */
const PATH_SAFE = /^[A-Za-z0-9_-]+$/;

export const MAX_ACCOUNT_KEY_LENGTH = 64;

export interface AccountKeyRule {
  readonly numberPattern: RegExp;
}

export const DEFAULT_ACCOUNT_KEY_RULE: AccountKeyRule = { numberPattern: new RegExp(DEFAULT_ACCOUNT_NUMBER_PATTERN) };

/** Builds the rule from `ACCOUNT_NUMBER_PATTERN` (a regular expression, anchored if it is not already). */
export function accountKeyRuleFrom(pattern: string | undefined, variable = 'ACCOUNT_NUMBER_PATTERN'): AccountKeyRule {
  const numberPattern = anchoredPattern(pattern, variable);
  return numberPattern === undefined ? DEFAULT_ACCOUNT_KEY_RULE : { numberPattern };
}

export type AccountKeyCheck = { ok: true; key: string } | { ok: false; reason: string };

export function checkAccountKey(value: unknown, rule: AccountKeyRule = DEFAULT_ACCOUNT_KEY_RULE): AccountKeyCheck {
  if (typeof value !== 'string') return { ok: false, reason: `expected a string, got ${describeUntrusted(value)}` };
  if (value.length === 0) return { ok: false, reason: 'empty account key' };
  if (value.length > MAX_ACCOUNT_KEY_LENGTH)
    return { ok: false, reason: `account key longer than ${MAX_ACCOUNT_KEY_LENGTH} characters` };
  if (!PATH_SAFE.test(value)) {
    return {
      ok: false,
      reason: `account key ${describeUntrusted(value)} has characters other than letters, digits, "-" and "_"`,
    };
  }
  if (ZUORA_OBJECT_ID.test(value) || rule.numberPattern.test(value)) return { ok: true, key: value };
  return {
    ok: false,
    reason: `account key ${describeUntrusted(value)} is neither an account number matching ${clipped(rule.numberPattern.source)} nor a 32-hex Zuora account id`,
  };
}

export function isValidAccountKey(value: unknown, rule: AccountKeyRule = DEFAULT_ACCOUNT_KEY_RULE): value is string {
  return checkAccountKey(value, rule).ok;
}

/** A configured pattern is the operator's, but can be long: the reason must stay one short line. */
function clipped(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
