import type { SyncResult } from '../../limio';
import type { FailureClass } from '../../shared/dead-letter';
import type { QueuedMessage } from '../batch-messages';
import type { SyncObserver, SyncOutcomeEvent } from '../outcome-event';

/** Gathers the messages of one sync by what became of them, for one observer event per fate. */
export class OutcomeReport {
  private readonly groups = new Map<
    string,
    {
      outcome: SyncOutcomeEvent['outcome'];
      failureClass?: FailureClass;
      messageIds: string[];
      attempt: number;
      visibilitySeconds?: number;
    }
  >();

  constructor(
    private readonly subscriptionId: string,
    private readonly result: SyncResult,
  ) {}

  add(
    outcome: SyncOutcomeEvent['outcome'],
    message: QueuedMessage,
    failureClass?: FailureClass,
    visibilitySeconds?: number,
  ): void {
    const key = `${outcome}/${failureClass ?? ''}`;
    const group = this.groups.get(key) ?? { outcome, failureClass, messageIds: [], attempt: 0 };
    group.messageIds.push(message.record.messageId);
    group.attempt = Math.max(group.attempt, message.receiveCount);
    if (visibilitySeconds !== undefined)
      group.visibilitySeconds = Math.max(group.visibilitySeconds ?? 0, visibilitySeconds);
    this.groups.set(key, group);
  }

  emit(observer: SyncObserver | undefined): void {
    if (!observer) return;
    const { outcome, latencyMs } = this.result;
    for (const group of this.groups.values()) {
      observer.onSyncOutcome({
        subscriptionId: this.subscriptionId,
        messageIds: group.messageIds,
        outcome: group.outcome,
        ...(group.failureClass !== undefined && { failureClass: group.failureClass }),
        ...(outcome.httpStatus !== undefined && { httpStatus: outcome.httpStatus }),
        ...(outcome.class === 'synced' && outcome.limioId !== undefined && { limioId: outcome.limioId }),
        ...(outcome.class === 'synced' && outcome.owner !== undefined && { owner: outcome.owner }),
        ...(outcome.class !== 'synced' && { error: outcome.error }),
        latencyMs,
        attempt: group.attempt,
        ...(group.visibilitySeconds !== undefined && { visibilitySeconds: group.visibilitySeconds }),
      });
    }
  }
}
