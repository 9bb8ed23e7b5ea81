import {
  applyClaim,
  applyMark,
  applyOutcome,
  type ClaimRequest,
  type LedgerEntry,
  type LedgerMark,
  type LedgerOutcome,
  type RecordResult,
} from './ledger-entry';

/**
 * Where the sync ledger lives: DynamoDB in AWS and under `npm start` (dynamodb-ledger-store.ts), memory in tests
 * and models (this file). Both keep the rules of ledger-entry.ts.
 *
 * Fail open: a caller treats any error or timeout of these calls as "unknown" (logs it, counts it, and syncs as
 * it would without a ledger): the ledger can cost an extra Limio call, never a change.
 */
export interface LedgerStore {
  /** The entries of these subscriptions (duplicates allowed), read strongly consistent. */
  readMany(subscriptionIds: readonly string[]): Promise<LedgerRead>;
  /**
   * Announces a sync about to start, so concurrent invocations hold their messages instead of calling Limio for
   * the same subscription at the same time. False when another sync is in flight, or when a sync succeeded since
   * the entry the caller decided from was read (`expectedLastSuccessStartedAt`).
   */
  claimSync(subscriptionId: string, request: ClaimRequest): Promise<boolean>;
  /** Records one Limio answer. Never moves the last success backwards, whatever order answers arrive in. */
  recordOutcome(subscriptionId: string, outcome: LedgerOutcome): Promise<RecordResult>;
  /**
   * Raises one mark (lastQueuedAt, provenThrough) to `valueMs` if it is later than the mark's value: one write,
   * max(old, new). False when the mark already held as much.
   */
  raiseMark(subscriptionId: string, mark: LedgerMark, valueMs: number): Promise<boolean>;
}

export interface LedgerRead {
  /** Entries found; a subscription with none has never been recorded (or its entry expired). */
  readonly entries: ReadonlyMap<string, LedgerEntry>;
  /** Subscriptions DynamoDB did not answer for (UnprocessedKeys after the bounded retries): unknown, not absent. */
  readonly unread: readonly string[];
}

/** The tests' and the models' store: the same contract in one process, applied atomically. */
export class InMemoryLedgerStore implements LedgerStore {
  readonly #entries = new Map<string, LedgerEntry>();

  async readMany(subscriptionIds: readonly string[]): Promise<LedgerRead> {
    return this.readNow(subscriptionIds);
  }

  async claimSync(subscriptionId: string, request: ClaimRequest): Promise<boolean> {
    return this.claimNow(subscriptionId, request);
  }

  async recordOutcome(subscriptionId: string, outcome: LedgerOutcome): Promise<RecordResult> {
    return this.recordNow(subscriptionId, outcome);
  }

  async raiseMark(subscriptionId: string, mark: LedgerMark, valueMs: number): Promise<boolean> {
    return this.raiseMarkNow(subscriptionId, mark, valueMs);
  }

  /** The synchronous forms, for models that interleave calls at chosen instants. */
  readNow(subscriptionIds: readonly string[]): LedgerRead {
    const entries = new Map<string, LedgerEntry>();
    for (const id of subscriptionIds) {
      const entry = this.#entries.get(id);
      if (entry !== undefined) entries.set(id, entry);
    }
    return { entries, unread: [] };
  }

  claimNow(subscriptionId: string, request: ClaimRequest): boolean {
    const { entry, claimed } = applyClaim(subscriptionId, this.#entries.get(subscriptionId), request);
    if (claimed && entry !== undefined) this.#entries.set(subscriptionId, entry);
    return claimed;
  }

  raiseMarkNow(subscriptionId: string, mark: LedgerMark, valueMs: number): boolean {
    const { entry, raised } = applyMark(subscriptionId, this.#entries.get(subscriptionId), mark, valueMs);
    if (raised && entry !== undefined) this.#entries.set(subscriptionId, entry);
    return raised;
  }

  recordNow(subscriptionId: string, outcome: LedgerOutcome): RecordResult {
    const { entry, result } = applyOutcome(subscriptionId, this.#entries.get(subscriptionId), outcome);
    if (result !== 'superseded') this.#entries.set(subscriptionId, entry);
    return result;
  }
}
