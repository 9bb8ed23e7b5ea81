import { DEFAULTS } from '../../functions/shared/defaults';
import { ConfigError } from '../../functions/shared/config-error';
import { wholeNumber } from './rules';
import { INFRA_DEFAULTS, type BridgeSettings, type BridgeSettingsInput } from './types';

/**
 * How many Limio calls the sync Lambdas may have in flight (issue #21). With the adaptive limit on, the event
 * source's maxConcurrency x SYNC_CONCURRENCY is only a ceiling: each invocation's controller finds Limio's
 * capacity below it, starting the whole fleet at `syncAdaptiveInitialFleetLimit` calls. With it off, that
 * product is what Limio gets, as before.
 */

/**
 * The sync Lambda's smallest limit per invocation when SYNC_ADAPTIVE_MIN_LIMIT is unset (issue #21's design: 50
 * invocations at the floor are 2.5 calls in flight). The construct leaves that variable unset, so a fleet cannot
 * start below this x syncInvocationConcurrency.
 */
const SYNC_ADAPTIVE_MIN_LIMIT_DEFAULT = DEFAULTS.syncAdaptiveMinLimit;

/** SYNC_ADAPTIVE_INITIAL_LIMIT is written with this many decimals, rounded down so the fleet never starts above its limit. */
const INITIAL_LIMIT_DECIMALS = 4;

export type SyncConcurrencySettings = Pick<
  BridgeSettings,
  'syncAdaptive' | 'syncConcurrency' | 'syncInvocationConcurrency' | 'syncAdaptiveInitialFleetLimit'
>;

export function syncConcurrencySettings(input: BridgeSettingsInput): SyncConcurrencySettings {
  const syncAdaptive = input.syncAdaptive ?? INFRA_DEFAULTS.syncAdaptive;
  if (typeof syncAdaptive !== 'boolean')
    throw new ConfigError('syncAdaptive', `must be true or false, got ${JSON.stringify(syncAdaptive)}`);
  // Without the controller the ceiling is the load Limio gets: the raised defaults would be 200 calls at once.
  const defaults = syncAdaptive ? INFRA_DEFAULTS.adaptiveCeiling : INFRA_DEFAULTS.fixedCap;
  const syncConcurrency = wholeNumber('syncConcurrency', input.syncConcurrency, defaults.syncConcurrency, 1, 100);
  const syncInvocationConcurrency = wholeNumber(
    'syncInvocationConcurrency',
    input.syncInvocationConcurrency,
    defaults.syncInvocationConcurrency,
    2,
    1000,
  );
  if (!syncAdaptive) {
    if (input.syncAdaptiveInitialFleetLimit !== undefined) {
      // Silently ignored it would suggest a protection the fixed cap does not give.
      throw new ConfigError(
        'syncAdaptiveInitialFleetLimit',
        'applies only with syncAdaptive true: without the adaptive limit Limio gets syncInvocationConcurrency x syncConcurrency calls at once',
      );
    }
    return { syncAdaptive, syncConcurrency, syncInvocationConcurrency };
  }
  const ceiling = syncInvocationConcurrency * syncConcurrency;
  // A ceiling set below the default start is a start at the ceiling, not an error to fix by hand.
  const defaultFleetLimit = Math.min(INFRA_DEFAULTS.syncAdaptiveInitialFleetLimit, ceiling);
  const syncAdaptiveInitialFleetLimit = wholeNumber(
    'syncAdaptiveInitialFleetLimit',
    input.syncAdaptiveInitialFleetLimit,
    defaultFleetLimit,
    1,
    100_000,
  );
  if (syncAdaptiveInitialFleetLimit > ceiling) {
    throw new ConfigError(
      'syncAdaptiveInitialFleetLimit',
      `must be at most the ceiling, syncInvocationConcurrency x syncConcurrency = ${ceiling}, got ${syncAdaptiveInitialFleetLimit}`,
    );
  }
  const fleetFloor = Math.ceil(SYNC_ADAPTIVE_MIN_LIMIT_DEFAULT * syncInvocationConcurrency);
  if (syncAdaptiveInitialFleetLimit < fleetFloor) {
    throw new ConfigError(
      'syncAdaptiveInitialFleetLimit',
      `must be at least ${fleetFloor} with syncInvocationConcurrency ${syncInvocationConcurrency} ` +
        `(no invocation's limit goes below ${SYNC_ADAPTIVE_MIN_LIMIT_DEFAULT}): raise it or lower syncInvocationConcurrency, got ${syncAdaptiveInitialFleetLimit}`,
    );
  }
  return { syncAdaptive, syncConcurrency, syncInvocationConcurrency, syncAdaptiveInitialFleetLimit };
}

/** Each invocation's starting limit: the fleet's, shared evenly by the invocations the event source may run. */
export function syncAdaptiveInitialLimit(
  settings: Pick<SyncConcurrencySettings, 'syncInvocationConcurrency'> & { syncAdaptiveInitialFleetLimit: number },
): number {
  const scale = 10 ** INITIAL_LIMIT_DECIMALS;
  // The small epsilon keeps 286 / 1000 x 10^4 = 2859.9999999999995 from losing a whole step to floating point.
  return (
    Math.floor((settings.syncAdaptiveInitialFleetLimit / settings.syncInvocationConcurrency) * scale + 1e-9) / scale
  );
}

/** The sync Lambda's concurrency variables for these settings. */
export function syncConcurrencyEnvironment(settings: SyncConcurrencySettings): Record<string, string> {
  const { syncAdaptiveInitialFleetLimit } = settings;
  return {
    SYNC_CONCURRENCY: String(settings.syncConcurrency),
    SYNC_ADAPTIVE: String(settings.syncAdaptive),
    ...(settings.syncAdaptive &&
      syncAdaptiveInitialFleetLimit !== undefined && {
        SYNC_ADAPTIVE_INITIAL_LIMIT: String(
          syncAdaptiveInitialLimit({
            syncInvocationConcurrency: settings.syncInvocationConcurrency,
            syncAdaptiveInitialFleetLimit,
          }),
        ),
      }),
  };
}
