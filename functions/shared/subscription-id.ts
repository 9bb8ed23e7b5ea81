import { anchoredPattern } from './anchored-pattern';

/**
 * One rule, used by the callout Lambda, the sync Lambda and the CLI, for what may be sent to Limio as a
 * subscription identifier. The identifier becomes a path segment of the Limio URL, so whatever the
 * configured pattern says, only a safe character set is ever accepted.
 */

/** Zuora subscription numbers: a letter prefix, optional dash-separated letter parts, then digits (A-S00000271). */
const DEFAULT_SUBSCRIPTION_NUMBER_PATTERN = '^[A-Za-z]{1,10}(?:-[A-Za-z]{1,10}){0,3}-?[0-9]{1,20}$';

/** Zuora object IDs: 32 lowercase hexadecimal characters. */
const ZUORA_OBJECT_ID = /^[0-9a-f]{32}$/;

/** No slash, percent, dot-dot, whitespace or control character can pass this, whatever the pattern allows. */
const PATH_SAFE = /^[A-Za-z0-9_-]+$/;

const MAX_SUBSCRIPTION_ID_LENGTH = 64;

export interface SubscriptionIdRule {
  readonly numberPattern: RegExp;
}

export const DEFAULT_SUBSCRIPTION_ID_RULE: SubscriptionIdRule = {
  numberPattern: new RegExp(DEFAULT_SUBSCRIPTION_NUMBER_PATTERN),
};

/** Builds the rule from `SUBSCRIPTION_ID_PATTERN` (a regular expression, anchored if it is not already). */
export function subscriptionIdRuleFrom(
  pattern: string | undefined,
  variable = 'SUBSCRIPTION_ID_PATTERN',
): SubscriptionIdRule {
  const numberPattern = anchoredPattern(pattern, variable);
  return numberPattern === undefined ? DEFAULT_SUBSCRIPTION_ID_RULE : { numberPattern };
}

export type SubscriptionIdCheck = { ok: true; id: string } | { ok: false; reason: string };

export function checkSubscriptionId(
  value: unknown,
  rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE,
): SubscriptionIdCheck {
  if (typeof value !== 'string')
    return { ok: false, reason: `expected a string, got ${value === null ? 'null' : typeof value}` };
  if (value.length === 0) return { ok: false, reason: 'empty subscription id' };
  if (value.length > MAX_SUBSCRIPTION_ID_LENGTH) {
    return { ok: false, reason: `subscription id longer than ${MAX_SUBSCRIPTION_ID_LENGTH} characters` };
  }
  if (!PATH_SAFE.test(value)) {
    return {
      ok: false,
      reason: `subscription id "${printable(value)}" has characters other than letters, digits, "-" and "_"`,
    };
  }
  if (ZUORA_OBJECT_ID.test(value) || rule.numberPattern.test(value)) return { ok: true, id: value };
  return {
    ok: false,
    reason: `"${printable(value)}" is neither a subscription number matching ${rule.numberPattern.source} nor a 32-hex Zuora id`,
  };
}

export function isValidSubscriptionId(
  value: unknown,
  rule: SubscriptionIdRule = DEFAULT_SUBSCRIPTION_ID_RULE,
): value is string {
  return checkSubscriptionId(value, rule).ok;
}

/** Keeps refusal messages one short printable line, whatever the input was. */
function printable(value: string): string {
  const clipped = value.length > 80 ? `${value.slice(0, 80)}…` : value;
  return JSON.stringify(clipped).slice(1, -1);
}
