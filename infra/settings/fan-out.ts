import { ConfigError } from '../../functions/shared/config-error';
import { accountKeyRuleFrom } from '../../functions/shared/account-key';
import { wholeNumber } from './rules';
import type { BridgeSettingsInput, FanOutSettingName, FanOutSettings } from './types';

/** The account fan-out's settings: present with a Zuora connection, as the sweep is. */

/** The fan-out Lambda's timeout, the sweep's: one account's pages fit, a bigger one goes on as a continuation. */
export const FAN_OUT_TIMEOUT_SECONDS = 300;

/**
 * Zuora allows 40 concurrent requests per tenant, shared with every integration of the tenant (bill runs, the
 * UI, other syncs): the fan-out takes a small share by default and never more than half.
 */
export const FAN_OUT_DEFAULTS = {
  /** One account per invocation: its paging gets the whole timeout, and Zuora sees one request per invocation at a time. */
  batchSize: 1,
  /** SQS event sources run at least 2 invocations at once. */
  maxConcurrency: 2,
} as const;
const FAN_OUT_MAX_CONCURRENCY = 20;

const FAN_OUT_ONLY_PROPS = ['fanOutBatchSize', 'fanOutMaxConcurrency'] as const satisfies readonly FanOutSettingName[];

/** Checked with the rule the callout Lambda and the fan-out build from ACCOUNT_NUMBER_PATTERN, naming the prop. */
export function accountNumberPattern(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  accountKeyRuleFrom(value, 'accountNumberPattern');
  return value.trim();
}

export function fanOutSettings(input: BridgeSettingsInput, zuoraConnected: boolean): FanOutSettings | undefined {
  if (!zuoraConnected) {
    const orphan = FAN_OUT_ONLY_PROPS.find((prop) => input[prop] !== undefined);
    // A fan-out setting without the tenant would silently deploy no fan-out at all.
    if (orphan !== undefined)
      throw new ConfigError('zuoraBaseUrl', `is required for ${orphan}: the account fan-out is off without it`);
    return undefined;
  }
  return {
    // The contract's range: an SQS event source takes up to 10 without a batching window.
    batchSize: wholeNumber('fanOutBatchSize', input.fanOutBatchSize, FAN_OUT_DEFAULTS.batchSize, 1, 10),
    maxConcurrency: wholeNumber(
      'fanOutMaxConcurrency',
      input.fanOutMaxConcurrency,
      FAN_OUT_DEFAULTS.maxConcurrency,
      2,
      FAN_OUT_MAX_CONCURRENCY,
    ),
  };
}
