import type { FailureClass } from '../../functions/shared/dead-letter';
import type { SubscriptionIdRule } from '../../functions/shared/subscription-id';
import type { ReplayFilter } from './replay-filter';

/** What `dlq replay` is asked to do and what it answers: shared by the replay's scan, send, watch and native move. */

export interface ReplayOptions {
  readonly mainQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Where account letters go back (the fan-out queue); without it they are skipped, saying why (accountQueueUnknown). */
  readonly accountQueueUrl?: string;
  readonly accountQueueUnknown?: string;
  /** The target is known to have no fan-out queue, so no account letters (Targets.accountQueueAbsent): --native may move everything. */
  readonly accountQueueAbsent?: boolean;
  readonly filter?: ReplayFilter;
  readonly dryRun?: boolean;
  /** Messages per second sent to the main queue (so a replay cannot stampede Limio right after an outage). */
  readonly ratePerSecond?: number;
  /** Replay at most this many messages. */
  readonly limit?: number;
  /**
   * Use SQS's native redrive (StartMessageMoveTask) for an unfiltered replay of everything. Faster on a huge DLQ,
   * but it moves bodies untouched (no replayCount), so the sync Lambda grants the moved messages no fresh retry
   * budget. Falls back to receive -> send -> delete where unsupported, and where the DLQ may hold account letters
   * (nativeMoveRefusal).
   */
  readonly native?: boolean;
  readonly rule?: SubscriptionIdRule;
  readonly waitTimeSeconds?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Letters sent of those selected. */
  readonly onProgress?: (done: number, total?: number) => void;
  /** Letters read of the DLQ's depth, while the run reads the whole DLQ before sending anything. */
  readonly onScanProgress?: (read: number, depth?: number) => void;
  /** How often to poll a native move task's progress. */
  readonly movePollIntervalMs?: number;
  /** Stamped on every body this run sends; a fresh one (newReplayRunId) by default. */
  readonly runId?: string;
  /**
   * After sending, watch the DLQ this long for the letters this run sent that fail again, and report them
   * (ends early once every letter sent is back, or once nothing is left to watch: the queues they went to read
   * empty twice in a row). 0 (default): do not wait.
   */
  readonly watchSeconds?: number;
  /** Default MAX_HELD_LETTERS; smaller in tests. */
  readonly maxHeldLetters?: number;
}

/** A letter this run sent that failed again and is back in the DLQ (seen while watching). */
export interface FailedAgain {
  /** The new DLQ message. */
  readonly messageId: string;
  readonly subscriptionId: string;
  /** Counting this run's replay. */
  readonly replayCount: number;
  readonly failureClass: FailureClass | 'unknown';
  readonly httpStatus?: number;
  readonly error?: string;
}

export interface ReplayedMessage {
  readonly messageId: string;
  /** A subscription letter's, sent to the main queue. */
  readonly subscriptionId?: string;
  /** An account letter's, sent to the fan-out queue. */
  readonly accountKey?: string;
  /** replayCount of the copy put back on its queue. */
  readonly replayCount: number;
}

export interface ReplayFailure {
  readonly messageId: string;
  readonly subscriptionId?: string;
  readonly accountKey?: string;
  /** `send`: nothing happened, the message is still in the DLQ. `delete`: sent, but also still in the DLQ. */
  readonly stage: 'send' | 'delete';
  readonly error: string;
}

export interface ReplayResult {
  readonly mode: 'receive-send-delete' | 'message-move-task';
  readonly dryRun: boolean;
  /** Stamped on every body sent (replayRunId); a letter carrying it failed again after this run. */
  readonly runId?: string;
  /** Replayed (or, in a dry run, would be). */
  readonly replayed: ReplayedMessage[];
  /** Matched the filter but cannot be replayed (unreadable body): left in the DLQ. */
  readonly skipped: { messageId: string; reason: string }[];
  readonly notMatched: number;
  readonly failed: ReplayFailure[];
  /** Letters this run sent that were back in the DLQ before it ended (with --watch); they stay there. */
  readonly failedAgain: FailedAgain[];
  /** How long it watched for letters failing again. */
  readonly watchedSeconds?: number;
  /**
   * Letters hidden (in flight) when the run began: held by another replay, a listing or another reader. This
   * run could not see them, so they were not replayed.
   */
  readonly hiddenAtStart?: number;
  /** Why the replay stopped before the DLQ was exhausted, if it did. */
  readonly stoppedEarly?: string;
  /**
   * How the message-by-message scan ended. Only `dlq-exhausted` (an empty receive) means every message was seen;
   * `only-seen-messages` means pages kept returning messages already seen, so matching ones may remain.
   */
  readonly scanEnded?: ScanEnd;
  /** Why native redrive was not used although asked for. */
  readonly fallbackReason?: string;
  /** Messages moved by a native move task. */
  readonly moved?: number;
  readonly notRestored: number;
}

export type ScanEnd = 'dlq-exhausted' | 'limit-reached' | 'only-seen-messages' | 'held-limit' | 'send-failed';
