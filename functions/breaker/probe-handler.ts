import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { applyBreakerEvent } from './apply-event';
import { breakerGauge, pollingFor, type BreakerState, type ProbeResult } from './breaker-state';
import type { BreakerStore, StoredBreaker } from './breaker-store';
import type { PollingChange, SyncPollingController } from './polling-controller';
import { METRICS_NAMESPACE } from '../shared/metrics';
import type { BreakerSettings } from './settings';

/** One cheap question to Limio: can we get a token (and, if configured, sync one known subscription)? */
export type LimioProbe = () => Promise<ProbeOutcome>;
export interface ProbeOutcome {
  readonly result: ProbeResult;
  /** One line for the log and the breaker's reason; never a token or secret. */
  readonly detail?: string;
}

export interface ProbeHandlerDependencies {
  readonly store: BreakerStore;
  readonly controller: SyncPollingController;
  readonly probe: LimioProbe;
  readonly settings: BreakerSettings;
  /** The sync event source's MaximumConcurrency at full speed (the closed state). */
  readonly fullConcurrency?: number;
  readonly now?: () => number;
  readonly logger?: Logger;
  readonly metrics?: Metrics;
}

export interface ProbeRunReport {
  readonly before: BreakerState;
  readonly after: BreakerState;
  /** Absent when no probe was made (closed, or held open by hand). */
  readonly probe?: ProbeOutcome;
  readonly polling: PollingChange;
  /** The phases this run announced (logged and counted), oldest first. */
  readonly announced: readonly Announcement[];
}

export type Announcement = 'opened' | 'half-open' | 'closed';

/**
 * The scheduled probe (EventBridge, every minute; a timer locally). Each run:
 * 1. reads the breaker; when it is open or half-open (and not held open by hand) probes Limio and moves it;
 * 2. announces every phase it has not announced yet (log line, BreakerOpened / BreakerClosed), whoever
 *    entered it: sync instances trip the breaker themselves, but only this Lambda may touch the event source;
 * 3. makes the sync event source match the state (disabled / small cap / full cap), which also repairs drift;
 * 4. publishes the BreakerState gauge (0 closed, 1 half-open, 2 open) every run, for the alarm.
 */
export function createProbeHandler(dependencies: ProbeHandlerDependencies): () => Promise<ProbeRunReport> {
  const { store, controller, probe, settings, fullConcurrency, now = Date.now } = dependencies;
  const logger = dependencies.logger ?? new Logger({ serviceName: 'breaker' });
  const metrics = dependencies.metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'breaker' });

  async function probeSafely(): Promise<ProbeOutcome> {
    try {
      return await probe();
    } catch (error) {
      return { result: 'unhealthy', detail: `probe failed: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  return async function runProbe(): Promise<ProbeRunReport> {
    const stored: StoredBreaker = await store.read();
    const before = stored.breaker;
    const announced: Announcement[] = [];
    // A phase another writer entered (a sync instance tripping it) is announced before this run moves on.
    let lastAnnounced = await announce(stored.announced, before, announced);
    let after = before;
    let probeOutcome: ProbeOutcome | undefined;

    if (before.state !== 'closed' && before.openedBy === 'auto') {
      probeOutcome = await probeSafely();
      logger.info('Limio probed', { breaker: before.state, probe: probeOutcome.result, detail: probeOutcome.detail });
      const event = {
        type: 'probe',
        result: probeOutcome.result,
        ...(probeOutcome.detail !== undefined && { detail: probeOutcome.detail }),
      } as const;
      after = (await applyBreakerEvent(store, event, now(), settings, before)).after;
      lastAnnounced = await announce(lastAnnounced, after, announced);
    } else if (before.openedBy === 'manual' && before.state !== 'closed') {
      logger.info('breaker held open by hand; not probing', {
        reason: before.reason,
        since: new Date(before.since).toISOString(),
      });
    }

    const wish = pollingFor(after, settings, fullConcurrency);
    let polling: PollingChange;
    try {
      polling = await controller.setSyncPolling(
        wish.enabled,
        wish.enabled && wish.maxConcurrency !== undefined ? { maxConcurrency: wish.maxConcurrency } : {},
      );
    } catch (error) {
      logger.error('could not set the sync event source; the next run tries again', {
        breaker: after.state,
        error: errorText(error),
      });
      publishGauge(after);
      throw error;
    }
    if (polling !== 'unchanged')
      logger.info('sync event source set', { breaker: after.state, ...wish, result: polling });
    publishGauge(after);
    return { before, after, polling, announced, ...(probeOutcome && { probe: probeOutcome }) };
  };

  /** Logs and counts a phase not announced yet; returns what is announced now. */
  async function announce(
    last: StoredBreaker['announced'],
    current: BreakerState,
    into: Announcement[],
  ): Promise<StoredBreaker['announced']> {
    if (last && last.state === current.state && last.since === current.since) return last;
    // The very first run of a fresh deployment has nothing to announce.
    if (last || current.state !== 'closed') {
      const context = {
        reason: current.reason,
        openedBy: current.openedBy,
        since: new Date(current.since).toISOString(),
      };
      if (current.state === 'open') {
        into.push('opened');
        metrics.addMetric('BreakerOpened', MetricUnit.Count, 1);
        logger.warn('breaker OPEN: Limio judged down; sync polling stopped, messages wait in the queue', context);
      } else if (current.state === 'closed') {
        into.push('closed');
        metrics.addMetric('BreakerClosed', MetricUnit.Count, 1);
        logger.info('breaker CLOSED: syncing at full speed', { ...context, openForSeconds: lastOpenSeconds(current) });
      } else {
        into.push('half-open');
        logger.info('breaker HALF-OPEN: a small batch is let through', context);
      }
    }
    await store.markAnnounced(current.state, current.since);
    return { state: current.state, since: current.since };
  }

  function publishGauge(state: BreakerState): void {
    metrics.addMetric('BreakerState', MetricUnit.NoUnit, breakerGauge(state.state));
    metrics.publishStoredMetrics();
  }
}

function lastOpenSeconds(state: BreakerState): number | undefined {
  const last = state.openIntervals[state.openIntervals.length - 1];
  return last?.to === undefined ? undefined : Math.round((last.to - last.from) / 1000);
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
