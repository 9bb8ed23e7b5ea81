import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import { optionalString, type Env } from '../shared/env';
import { INITIAL_BREAKER_STATE, type BreakerState } from './breaker-state';
import type { BreakerStore } from './breaker-store';
import { DynamoDbBreakerStore } from './dynamodb-store';
import { loadBreakerSettings, loadRetrySettings, type BreakerSettings, type RetrySettings } from './settings';
import { createBreakerGate, type BreakerGate, type BreakerGateOptions } from './sync-gate';

/** Everything the sync Lambda needs from outage mode, built once per container from its environment. */
export interface SyncBreaker {
  readonly gate: BreakerGate;
  readonly retry: RetrySettings;
  readonly settings: BreakerSettings;
  /** False without BREAKER_TABLE_NAME: the gate then always says closed and records nothing. */
  readonly shared: boolean;
}

export interface SyncBreakerDependencies {
  /** The local runtime passes its in-memory store; otherwise BREAKER_TABLE_NAME names the DynamoDB table. */
  readonly store?: BreakerStore;
  readonly dynamo?: DynamoDBClient;
  readonly now?: () => number;
  readonly onError?: BreakerGateOptions['onError'];
  readonly onTransition?: BreakerGateOptions['onTransition'];
}

/** The sync Lambda's outage-mode settings; read by loadSyncConfig (phase 2) into `SyncConfig.breaker`. */
export interface SyncBreakerConfig {
  /** BREAKER_TABLE_NAME; absent, the breaker is off. */
  readonly tableName?: string;
  readonly settings: BreakerSettings;
  readonly retry: RetrySettings;
}

export function loadSyncBreakerConfig(env: Env): SyncBreakerConfig {
  const tableName = optionalString(env, 'BREAKER_TABLE_NAME');
  return {
    ...(tableName !== undefined && { tableName }),
    settings: loadBreakerSettings(env),
    retry: loadRetrySettings(env),
  };
}

/**
 * Once per container. Without a store or table (a sync Lambda deployed without the breaker, unit tests of the
 * sync handler) syncing works exactly as before, with the time budget and no open intervals: the breaker is an
 * addition, never a new way to fail.
 */
export function createSyncBreaker(config: SyncBreakerConfig, dependencies: SyncBreakerDependencies = {}): SyncBreaker {
  const { settings, retry, tableName } = config;
  const store =
    dependencies.store ??
    (tableName
      ? new DynamoDbBreakerStore(dependencies.dynamo ?? new DynamoDBClient(BATCH_AWS_CLIENT_OPTIONS), tableName)
      : undefined);
  if (!store) return { gate: alwaysClosed, retry, settings, shared: false };
  return {
    gate: createBreakerGate({
      store,
      settings,
      ...(dependencies.now && { now: dependencies.now }),
      ...(dependencies.onError && { onError: dependencies.onError }),
      ...(dependencies.onTransition && { onTransition: dependencies.onTransition }),
    }),
    retry,
    settings,
    shared: true,
  };
}

export function loadSyncBreaker(env: Env, dependencies: SyncBreakerDependencies = {}): SyncBreaker {
  return createSyncBreaker(loadSyncBreakerConfig(env), dependencies);
}

const alwaysClosed: BreakerGate = {
  current: async (): Promise<BreakerState> => INITIAL_BREAKER_STATE,
  record: async (): Promise<BreakerState> => INITIAL_BREAKER_STATE,
};
