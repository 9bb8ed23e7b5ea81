import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { BATCH_AWS_CLIENT_OPTIONS } from '../shared/aws-client-options';
import {
  boundedText,
  expiresAtFor,
  LEDGER_OUTCOMES,
  MAX_LEDGER_ERROR_LENGTH,
  MAX_LEDGER_ID_LENGTH,
  type ClaimRequest,
  type LedgerAttempt,
  type LedgerClaim,
  type LedgerEntry,
  type LedgerMark,
  type LedgerOutcome,
  type LedgerOutcomeKind,
  type LedgerSuccess,
  type RecordResult,
} from './ledger-entry';
import type { LedgerRead, LedgerStore } from './ledger-store';

/** The ledger table's key and TTL attribute, for the CDK stack and the local runtime that create it. */
export const LEDGER_PARTITION_KEY = 'subscriptionId';
export const LEDGER_TTL_ATTRIBUTE = 'expiresAt';

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;
/** BatchGetItem requests one readMany has in flight at once. */
export const MAX_CONCURRENT_BATCH_GETS = 4;

export interface DynamoDbLedgerStoreOptions {
  /** Rounds of UnprocessedKeys retried before those ids are reported unread. */
  readonly maxUnprocessedRetries?: number;
  /** Before the first retry; doubled for each further one. */
  readonly unprocessedRetryDelayMs?: number;
}

/**
 * The ledger's DynamoDB client: the sync Lambda reads and writes it inside a batch, so it gets the batch clients'
 * two tries with timeouts that throw (a stalled table costs seconds, not the invocation). Same client can be
 * shared with the breaker's store.
 */
export function ledgerDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return new DynamoDBClient({ ...BATCH_AWS_CLIENT_OPTIONS, ...config });
}

/**
 * One item per subscription (partition key `subscriptionId`; TTL `expiresAt`):
 *   lastSuccessStartedAt, lastSuccessFinishedAt, limioId, owner   the newest successful sync
 *   lastOutcome, lastAttemptStartedAt, lastAttemptFinishedAt,
 *   lastHttpStatus, lastError                                       the newest recorded attempt
 *   claimStartedAt, claimUntil                                      a sync announced by claimSync
 *   lastQueuedAt, provenThrough                                     marks raised by raiseMark (ledger-entry.ts)
 * The rules are those of ledger-entry.ts (applyOutcome, applyClaim), written as condition expressions so that
 * concurrent invocations finishing in any order cannot move a newer record backwards.
 */
export class DynamoDbLedgerStore implements LedgerStore {
  readonly #maxUnprocessedRetries: number;
  readonly #unprocessedRetryDelayMs: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    options: DynamoDbLedgerStoreOptions = {},
  ) {
    this.#maxUnprocessedRetries = options.maxUnprocessedRetries ?? 3;
    this.#unprocessedRetryDelayMs = options.unprocessedRetryDelayMs ?? 50;
  }

  async readMany(subscriptionIds: readonly string[]): Promise<LedgerRead> {
    const unique = [...new Set(subscriptionIds)];
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) chunks.push(unique.slice(i, i + BATCH_GET_LIMIT));
    // A few chunks at a time: a caller with thousands of ids must not open a connection per hundred of them.
    const reads: LedgerRead[] = [];
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const index = next++;
        reads[index] = await this.readChunk(chunks[index]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_CONCURRENT_BATCH_GETS, chunks.length) }, worker));
    const entries = new Map<string, LedgerEntry>();
    const unread: string[] = [];
    for (const read of reads) {
      read.entries.forEach((entry, id) => entries.set(id, entry));
      unread.push(...read.unread);
    }
    return { entries, unread };
  }

  private async readChunk(ids: readonly string[]): Promise<LedgerRead> {
    const entries = new Map<string, LedgerEntry>();
    let keys: Record<string, AttributeValue>[] = ids.map((id) => ({ [LEDGER_PARTITION_KEY]: { S: id } }));
    for (let round = 0; keys.length > 0; round++) {
      if (round > 0) {
        if (round > this.#maxUnprocessedRetries) break;
        await sleep(this.#unprocessedRetryDelayMs * 2 ** (round - 1));
      }
      const { Responses, UnprocessedKeys } = await this.client.send(
        // Strongly consistent: a success another invocation has just recorded must be seen, or its cooldown is missed.
        new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of Responses?.[this.tableName] ?? []) {
        const entry = entryFromItem(item);
        if (entry !== undefined) entries.set(entry.subscriptionId, entry);
      }
      keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
    }
    const unread = keys.flatMap((key) =>
      key[LEDGER_PARTITION_KEY]?.S === undefined ? [] : [key[LEDGER_PARTITION_KEY].S],
    );
    return { entries, unread };
  }

  async claimSync(subscriptionId: string, request: ClaimRequest): Promise<boolean> {
    const expected = request.expectedLastSuccessStartedAt;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_PARTITION_KEY]: { S: subscriptionId } },
          UpdateExpression: 'SET #claimStartedAt = :startedAt, #claimUntil = :until, #expiresAt = :expiresAt',
          // No live claim (none, run out, or its attempt recorded) and no success since the caller's read.
          ConditionExpression:
            '(attribute_not_exists(#claimUntil) OR #claimUntil <= :startedAt OR #claimStartedAt <= #lastAttemptStartedAt) AND ' +
            (expected === undefined
              ? 'attribute_not_exists(#lastSuccessStartedAt)'
              : '#lastSuccessStartedAt = :expected'),
          ExpressionAttributeNames: {
            '#claimStartedAt': 'claimStartedAt',
            '#claimUntil': 'claimUntil',
            '#lastAttemptStartedAt': 'lastAttemptStartedAt',
            '#lastSuccessStartedAt': 'lastSuccessStartedAt',
            '#expiresAt': LEDGER_TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ':startedAt': number(request.startedAt),
            ':until': number(request.startedAt + request.leaseMs),
            ':expiresAt': number(expiresAtFor(request.startedAt)),
            ...(expected !== undefined && { ':expected': number(expected) }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async raiseMark(subscriptionId: string, mark: LedgerMark, valueMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_PARTITION_KEY]: { S: subscriptionId } },
          // An item the mark creates expires like any other write; an existing item keeps its TTL.
          UpdateExpression: 'SET #mark = :value, #expiresAt = if_not_exists(#expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#mark) OR #mark < :value',
          ExpressionAttributeNames: { '#mark': mark, '#expiresAt': LEDGER_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':value': number(valueMs), ':expiresAt': number(expiresAtFor(valueMs)) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async recordOutcome(subscriptionId: string, outcome: LedgerOutcome): Promise<RecordResult> {
    const synced = outcome.kind === 'synced';
    const success = synced ? successUpdate(outcome) : undefined;
    const attempt = attemptUpdate(outcome);
    const expiresAt = {
      set: { '#expiresAt': ['expiresAt', number(expiresAtFor(outcome.finishedAt))] },
      remove: [],
    } satisfies Update;
    const newerSuccess = '(attribute_not_exists(#lastSuccessStartedAt) OR #lastSuccessStartedAt < :startedAt)';
    const newestAttempt = '(attribute_not_exists(#lastAttemptStartedAt) OR #lastAttemptStartedAt < :startedAt)';
    const startedAt = { ':startedAt': number(outcome.startedAt) };
    if (
      await this.conditionalUpdate(
        subscriptionId,
        [attempt, expiresAt, ...(success ? [success] : [])],
        synced ? `${newestAttempt} AND ${newerSuccess}` : newestAttempt,
        startedAt,
      )
    ) {
      return 'recorded';
    }
    // An attempt that started later is already recorded (concurrent invocations finish in any order), but this
    // success may still be newer than the recorded success: keep its start, the fact cooldowns and coverage use.
    if (success && (await this.conditionalUpdate(subscriptionId, [success, expiresAt], newerSuccess, startedAt))) {
      return 'success-only';
    }
    return 'superseded';
  }

  private async conditionalUpdate(
    subscriptionId: string,
    updates: readonly Update[],
    condition: string,
    conditionValues: Record<string, AttributeValue>,
  ): Promise<boolean> {
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = { ...conditionValues };
    const sets: string[] = [];
    const removes: string[] = [];
    for (const update of updates) {
      for (const [placeholder, [attribute, value]] of Object.entries(update.set)) {
        names[placeholder] = attribute;
        const valueName = `:${placeholder.slice(1)}`;
        values[valueName] = value;
        sets.push(`${placeholder} = ${valueName}`);
      }
      for (const [placeholder, attribute] of update.remove) {
        names[placeholder] = attribute;
        removes.push(placeholder);
      }
    }
    // DynamoDB refuses a name it is given but not asked to use, so the condition's names are exactly its own.
    for (const placeholder of condition.match(/#\w+/g) ?? []) names[placeholder] = placeholder.slice(1);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [LEDGER_PARTITION_KEY]: { S: subscriptionId } },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** Attributes to SET (placeholder -> [attribute, value]) and to REMOVE (placeholder, attribute). */
interface Update {
  readonly set: Record<string, readonly [string, AttributeValue]>;
  readonly remove: readonly (readonly [string, string])[];
}

function successUpdate(outcome: Extract<LedgerOutcome, { kind: 'synced' }>): Update {
  return {
    set: {
      '#lastSuccessStartedAt': ['lastSuccessStartedAt', number(outcome.startedAt)],
      '#lastSuccessFinishedAt': ['lastSuccessFinishedAt', number(outcome.finishedAt)],
      ...(outcome.limioId !== undefined && {
        '#limioId': ['limioId', { S: boundedText(outcome.limioId, MAX_LEDGER_ID_LENGTH) }] as const,
      }),
      ...(outcome.owner !== undefined && {
        '#owner': ['owner', { S: boundedText(outcome.owner, MAX_LEDGER_ID_LENGTH) }] as const,
      }),
    },
    // The id and owner belong to the success they came with: an older success's must not stay beside a newer start.
    remove: [
      ...(outcome.limioId === undefined ? [['#limioId', 'limioId'] as const] : []),
      ...(outcome.owner === undefined ? [['#owner', 'owner'] as const] : []),
    ],
  };
}

function attemptUpdate(outcome: LedgerOutcome): Update {
  const error = outcome.kind === 'synced' ? undefined : boundedText(outcome.error, MAX_LEDGER_ERROR_LENGTH);
  return {
    set: {
      '#lastOutcome': ['lastOutcome', { S: outcome.kind }],
      '#lastAttemptStartedAt': ['lastAttemptStartedAt', number(outcome.startedAt)],
      '#lastAttemptFinishedAt': ['lastAttemptFinishedAt', number(outcome.finishedAt)],
      ...(outcome.httpStatus !== undefined && {
        '#lastHttpStatus': ['lastHttpStatus', number(outcome.httpStatus)] as const,
      }),
      ...(error !== undefined && { '#lastError': ['lastError', { S: error }] as const }),
    },
    remove: [
      ...(outcome.httpStatus === undefined ? [['#lastHttpStatus', 'lastHttpStatus'] as const] : []),
      ...(error === undefined ? [['#lastError', 'lastError'] as const] : []),
    ],
  };
}

/** An item as a ledger entry; undefined for an item without its key. Unreadable attributes are left out. */
function entryFromItem(item: Record<string, AttributeValue>): LedgerEntry | undefined {
  const subscriptionId = item[LEDGER_PARTITION_KEY]?.S;
  if (subscriptionId === undefined) return undefined;
  const successStartedAt = numberOf(item.lastSuccessStartedAt);
  const lastSuccess: LedgerSuccess | undefined =
    successStartedAt === undefined
      ? undefined
      : {
          startedAt: successStartedAt,
          finishedAt: numberOf(item.lastSuccessFinishedAt) ?? successStartedAt,
          ...(item.limioId?.S !== undefined && { limioId: item.limioId.S }),
          ...(item.owner?.S !== undefined && { owner: item.owner.S }),
        };
  const attemptStartedAt = numberOf(item.lastAttemptStartedAt);
  const outcome = item.lastOutcome?.S;
  const lastAttempt: LedgerAttempt | undefined =
    attemptStartedAt === undefined || !(LEDGER_OUTCOMES as readonly string[]).includes(outcome ?? '')
      ? undefined
      : {
          outcome: outcome as LedgerOutcomeKind,
          startedAt: attemptStartedAt,
          finishedAt: numberOf(item.lastAttemptFinishedAt) ?? attemptStartedAt,
          ...(numberOf(item.lastHttpStatus) !== undefined && { httpStatus: numberOf(item.lastHttpStatus) }),
          ...(item.lastError?.S !== undefined && { error: item.lastError.S }),
        };
  const claimStartedAt = numberOf(item.claimStartedAt);
  const claimUntil = numberOf(item.claimUntil);
  const claim: LedgerClaim | undefined =
    claimStartedAt === undefined || claimUntil === undefined
      ? undefined
      : { startedAt: claimStartedAt, until: claimUntil };
  const lastQueuedAt = numberOf(item.lastQueuedAt);
  const provenThrough = numberOf(item.provenThrough);
  return {
    subscriptionId,
    expiresAt: numberOf(item[LEDGER_TTL_ATTRIBUTE]) ?? 0,
    ...(lastSuccess !== undefined && { lastSuccess }),
    ...(lastAttempt !== undefined && { lastAttempt }),
    ...(claim !== undefined && { claim }),
    ...(lastQueuedAt !== undefined && { lastQueuedAt }),
    ...(provenThrough !== undefined && { provenThrough }),
  };
}

function number(value: number): AttributeValue {
  return { N: String(value) };
}

function numberOf(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const parsed = Number(value.N);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
