import { ConfigError } from '../shared/config-error';
import { integer, optionalString, type Env } from '../shared/env';
import type { LedgerTiming } from './ledger-fate';

export const LEDGER_DEFAULTS = {
  /**
   * A few seconds: a burst of changes costs about two Limio calls (the first at once, the rest together after
   * the cooldown) and the last change waits at most about this long plus a poll.
   */
  cooldownSeconds: 5,
  /** Lambda clocks are kept by NTP to well within a second of each other; a second of margin costs nothing. */
  clockMarginSeconds: 1,
} as const;

export interface LedgerConfig {
  /** LEDGER_TABLE_NAME; without it the sync Lambda runs without a ledger, as before. */
  readonly tableName?: string;
  readonly timing: LedgerTiming;
}

/** SYNC_COOLDOWN_SECONDS, SYNC_CLOCK_MARGIN_SECONDS and LEDGER_TABLE_NAME, checked at cold start. */
export function loadLedgerConfig(env: Env): LedgerConfig {
  const clockMarginSeconds = integer(env, 'SYNC_CLOCK_MARGIN_SECONDS', LEDGER_DEFAULTS.clockMarginSeconds, {
    min: 0,
    max: 60,
  });
  const cooldownSeconds = integer(env, 'SYNC_COOLDOWN_SECONDS', LEDGER_DEFAULTS.cooldownSeconds, { min: 0, max: 300 });
  // Changes received within cooldown minus margin of a sync's start are folded into the next call; with no
  // window left, messages would be held only to be synced one by one afterwards.
  if (cooldownSeconds !== 0 && cooldownSeconds <= clockMarginSeconds) {
    throw new ConfigError(
      'SYNC_COOLDOWN_SECONDS',
      `must be 0 (off) or more than SYNC_CLOCK_MARGIN_SECONDS (${clockMarginSeconds}), got ${cooldownSeconds}`,
    );
  }
  const tableName = optionalString(env, 'LEDGER_TABLE_NAME');
  return { ...(tableName !== undefined && { tableName }), timing: { cooldownSeconds, clockMarginSeconds } };
}
