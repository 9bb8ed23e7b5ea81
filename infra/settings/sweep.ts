import { ConfigError } from '../../functions/shared/config-error';
import { loadSweepConfig, SWEEP_DEFAULTS } from '../../functions/sweep/config';
import { sweepWatermarkKey } from '../../functions/sweep/dynamodb-watermark-store';
import { checkedByLambdaRules, optionalText, wholeNumber } from './rules';
import type { BridgeSettingsInput, SweepSettingName, SweepSettings } from './types';

/** Missing callouts in this many sweeps in a row raise MissingCalloutsAlarm (one bad sweep is not a trend). */
export const MISSING_CALLOUTS_SWEEPS = 3;
/** Failed sweeps in a row that raise SweepFailedAlarm. */
export const FAILED_SWEEPS = 2;
/** The sweep Lambda's timeout: a run reads what fits, the next one goes on from the watermark. */
export const SWEEP_TIMEOUT_SECONDS = 300;

/**
 * A complete sweep leaves its watermark the settle time (plus the run) behind now. A sweep that keeps stopping at
 * its deadline ends every run "out of time", which is no failure, yet falls further behind each interval: beyond
 * two intervals more than that, SweepFailedAlarm counts it as failing.
 */
export function sweepFallingBehindSeconds(sweep: Pick<SweepSettings, 'settleSeconds' | 'intervalSeconds'>): number {
  return sweep.settleSeconds + SWEEP_TIMEOUT_SECONDS + 2 * sweep.intervalSeconds;
}

const SWEEP_VARIABLE_PROPS: Record<string, string> = {
  ZUORA_BASE_URL: 'zuoraBaseUrl',
  ZUORA_ENTITY_ID: 'zuoraEntityId',
  SWEEP_INTERVAL_SECONDS: 'sweepIntervalSeconds',
  SWEEP_SETTLE_SECONDS: 'sweepSettleSeconds',
  SWEEP_OVERLAP_SECONDS: 'sweepOverlapSeconds',
  SWEEP_INITIAL_LOOKBACK_SECONDS: 'sweepInitialLookbackSeconds',
  SWEEP_SLICE_SECONDS: 'sweepSliceSeconds',
  SWEEP_COMMIT_LAG_SECONDS: 'sweepCommitLagSeconds',
};

const SWEEP_ONLY_PROPS = [
  'zuoraEntityId',
  'sweepIntervalSeconds',
  'sweepSettleSeconds',
  'sweepOverlapSeconds',
  'sweepInitialLookbackSeconds',
  'sweepSliceSeconds',
  'sweepCommitLagSeconds',
  'missingCalloutsAlarmThreshold',
] as const satisfies readonly SweepSettingName[];

/**
 * The stack's one Zuora connection as the sweep reads it (the secret's ARN is the construct's): the fan-out gets
 * the very same variables, so both always read the same tenant and entity.
 */
export function zuoraConnectionEnvironment(
  sweep: Pick<SweepSettings, 'zuoraBaseUrl' | 'zuoraEntityId'>,
): Record<string, string> {
  return {
    ZUORA_BASE_URL: sweep.zuoraBaseUrl,
    ...(sweep.zuoraEntityId !== undefined && { ZUORA_ENTITY_ID: sweep.zuoraEntityId }),
  };
}

/** The sweep Lambda's environment for these settings (credentials excepted: the secret's ARN is the construct's). */
export function sweepEnvironment(sweep: SweepSettings): Record<string, string> {
  return {
    ...zuoraConnectionEnvironment(sweep),
    SWEEP_INTERVAL_SECONDS: String(sweep.intervalSeconds),
    SWEEP_SETTLE_SECONDS: String(sweep.settleSeconds),
    SWEEP_OVERLAP_SECONDS: String(sweep.overlapSeconds),
    SWEEP_INITIAL_LOOKBACK_SECONDS: String(sweep.initialLookbackSeconds),
    SWEEP_SLICE_SECONDS: String(sweep.sliceSeconds),
    SWEEP_COMMIT_LAG_SECONDS: String(sweep.commitLagSeconds),
  };
}

export function sweepSettings(
  input: BridgeSettingsInput,
  subscriptionIdPattern: string | undefined,
): SweepSettings | undefined {
  // A 2 s margin read as a commit lag would quietly weaken coverage: say what replaced it instead.
  if (input.sweepCoverageMarginSeconds !== undefined) {
    throw new ConfigError(
      'sweepCoverageMarginSeconds',
      'was replaced by sweepCommitLagSeconds (how long after its UpdatedDate a change is visible to every reader of Zuora, default 60): remove it, and set sweepCommitLagSeconds if 60 does not suit',
    );
  }
  const zuoraBaseUrl = optionalText(input.zuoraBaseUrl);
  if (zuoraBaseUrl === undefined) {
    const orphan = SWEEP_ONLY_PROPS.find((prop) => input[prop] !== undefined);
    // A sweep setting without the tenant would silently deploy no sweep at all.
    if (orphan !== undefined)
      throw new ConfigError('zuoraBaseUrl', `is required for ${orphan}: the sweep is off without it`);
    return undefined;
  }
  // The deployed Lambda reaches no loopback sandbox, and sends Zuora a bearer token: https only.
  const url = (() => {
    try {
      return new URL(zuoraBaseUrl);
    } catch {
      throw new ConfigError(
        'zuoraBaseUrl',
        `must be an absolute URL such as https://rest.zuora.com, got "${zuoraBaseUrl}"`,
      );
    }
  })();
  if (url.protocol !== 'https:') throw new ConfigError('zuoraBaseUrl', `must use https://, got "${zuoraBaseUrl}"`);
  if (url.username || url.password)
    throw new ConfigError('zuoraBaseUrl', `must not carry credentials, got "${zuoraBaseUrl}"`);
  const intervalSeconds = input.sweepIntervalSeconds ?? SWEEP_DEFAULTS.intervalSeconds;
  // EventBridge rates are whole minutes.
  if (Number.isInteger(intervalSeconds) && intervalSeconds % 60 !== 0) {
    throw new ConfigError(
      'sweepIntervalSeconds',
      `must be whole minutes (a multiple of 60: EventBridge schedules by the minute), got ${intervalSeconds}`,
    );
  }
  const number = (value: number | undefined) => (value === undefined ? undefined : String(value));
  const config = checkedByLambdaRules(
    loadSweepConfig,
    {
      ZUORA_BASE_URL: zuoraBaseUrl,
      // Stands for the secret's ARN the construct passes; only its presence is checked.
      ZUORA_SECRET_ID: 'zuora-secret',
      ZUORA_ENTITY_ID: optionalText(input.zuoraEntityId),
      SWEEP_INTERVAL_SECONDS: number(intervalSeconds),
      SWEEP_SETTLE_SECONDS: number(input.sweepSettleSeconds),
      SWEEP_OVERLAP_SECONDS: number(input.sweepOverlapSeconds),
      SWEEP_INITIAL_LOOKBACK_SECONDS: number(input.sweepInitialLookbackSeconds),
      SWEEP_SLICE_SECONDS: number(input.sweepSliceSeconds),
      SWEEP_COMMIT_LAG_SECONDS: number(input.sweepCommitLagSeconds),
      SUBSCRIPTION_ID_PATTERN: subscriptionIdPattern,
    },
    SWEEP_VARIABLE_PROPS,
  );
  return {
    zuoraBaseUrl: config.zuoraBaseUrl,
    ...(config.entityId !== undefined && { zuoraEntityId: config.entityId }),
    intervalSeconds: config.intervalSeconds,
    settleSeconds: config.window.settleSeconds,
    overlapSeconds: config.window.overlapSeconds,
    initialLookbackSeconds: config.window.initialLookbackSeconds,
    sliceSeconds: config.window.maxSliceSeconds,
    commitLagSeconds: config.commitLagSeconds,
    missingCalloutsAlarmThreshold: wholeNumber(
      'missingCalloutsAlarmThreshold',
      input.missingCalloutsAlarmThreshold,
      1,
      1,
      1_000_000,
    ),
    watermarkKey: sweepWatermarkKey(config),
  };
}
