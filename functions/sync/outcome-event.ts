import type { Logger } from '@aws-lambda-powertools/logger';
import type { FailureClass } from '../shared/dead-letter';

/** What became of the messages of one subscription in one batch (or of one poison message). */
export interface SyncOutcomeEvent {
  /** Absent only for a message so broken that it names no subscription. */
  readonly subscriptionId?: string;
  readonly messageIds: readonly string[];
  readonly outcome: 'synced' | 'retry' | 'dead-lettered';
  readonly failureClass?: FailureClass;
  readonly httpStatus?: number;
  readonly limioId?: string;
  readonly owner?: string;
  readonly error?: string;
  /**
   * For `synced` without a Limio call: when the recorded successful sync that covers these messages started
   * (ISO-8601); they arrived before it, so Limio already has their change.
   */
  readonly coveredBySyncStartedAt?: string;
  /** Duration of the Limio sync (0 for poison, and for messages the ledger covered or held, which never reach Limio). */
  readonly latencyMs: number;
  /** Highest ApproximateReceiveCount among these messages. */
  readonly attempt: number;
  /** For `retry`: seconds until the messages come back, when the backoff could be set. */
  readonly visibilitySeconds?: number;
  /**
   * For `retry` of messages put back without a Limio call: by the sync ledger (a sync of the subscription started
   * within SYNC_COOLDOWN_SECONDS, or is in flight) or by the open breaker. Not a failure and not a retry: the
   * retry budget is not touched, and the local runtime prints them as `held`.
   */
  readonly heldBy?: 'ledger' | 'breaker';
}

/** Lets the local runtime print one line per sync; the deployed handler has none. */
export interface SyncObserver {
  onSyncOutcome(event: SyncOutcomeEvent): void;
}

/** The observer is a convenience for the local runtime: its failure must not change any message's fate. */
export function guarded(observer: SyncObserver, logger: Logger): SyncObserver {
  return {
    onSyncOutcome(event) {
      try {
        observer.onSyncOutcome(event);
      } catch (error) {
        logger.warn('sync observer failed', { error: (error as Error).message });
      }
    },
  };
}
