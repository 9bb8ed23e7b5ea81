import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BREAKER_PHASES,
  INITIAL_BREAKER_STATE,
  type BreakerPhase,
  type BreakerState,
  type OpenInterval,
} from './breaker-state';
import {
  bucketId,
  type BreakerStore,
  type BucketKey,
  type BucketTotals,
  type OutcomeCounts,
  type StoredBreaker,
} from './breaker-store';

/**
 * The breaker in one small DynamoDB table (partition key `pk`, string; TTL attribute `expiresAt`):
 * - `pk = "state"`: the breaker (phase, since, reason, openedBy, openIntervals, healthyProbes, version) and what
 *   the probe last announced. Writes are conditional on `version`, so two writers cannot both move it.
 * - `pk = "window#<phaseSince>#<bucketStart>"`: one bucket of outcomes, counters raised with atomic ADD by every
 *   sync batch (one UpdateItem per batch), expired by TTL. Keying by the phase's start gives every phase a
 *   fresh window: the failures that opened the breaker cannot re-open it the moment it closes.
 */
const STATE_KEY = 'state';

export class DynamoDbBreakerStore implements BreakerStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async read(): Promise<StoredBreaker> {
    // Strongly consistent: a probe or CLI decision must not act on a state another writer has already replaced.
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: STATE_KEY } }, ConsistentRead: true }),
    );
    if (!Item) return { breaker: INITIAL_BREAKER_STATE };
    const announcedState = phaseOrUndefined(Item.announcedState?.S);
    const announcedSince = numberOrUndefined(Item.announcedSince);
    return {
      breaker: {
        state: phaseOrUndefined(Item.phase?.S) ?? 'closed',
        since: numberOrUndefined(Item.since) ?? 0,
        reason: Item.reason?.S ?? '',
        openedBy: Item.openedBy?.S === 'manual' ? 'manual' : 'auto',
        openIntervals: (Item.openIntervals?.L ?? []).flatMap(intervalFromItem),
        healthyProbes: numberOrUndefined(Item.healthyProbes) ?? 0,
        version: numberOrUndefined(Item.version) ?? 0,
      },
      ...(announcedState !== undefined &&
        announcedSince !== undefined && { announced: { state: announcedState, since: announcedSince } }),
    };
  }

  async write(next: BreakerState, expectedVersion: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: STATE_KEY } },
          UpdateExpression:
            'SET #phase = :phase, #since = :since, #reason = :reason, #openedBy = :openedBy, #openIntervals = :openIntervals, ' +
            '#healthyProbes = :healthyProbes, #version = :version, #updatedAt = :updatedAt',
          // Version 0 is "never written": the item may not exist yet.
          ConditionExpression:
            expectedVersion === 0 ? 'attribute_not_exists(#version) OR #version = :expected' : '#version = :expected',
          ExpressionAttributeNames: {
            '#phase': 'phase',
            '#since': 'since',
            '#reason': 'reason',
            '#openedBy': 'openedBy',
            '#openIntervals': 'openIntervals',
            '#healthyProbes': 'healthyProbes',
            '#version': 'version',
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: {
            ':phase': { S: next.state },
            ':since': { N: String(next.since) },
            ':reason': { S: next.reason },
            ':openedBy': { S: next.openedBy },
            ':openIntervals': { L: next.openIntervals.map(intervalToItem) },
            ':healthyProbes': { N: String(next.healthyProbes) },
            ':version': { N: String(next.version) },
            ':updatedAt': { S: new Date().toISOString() },
            ':expected': { N: String(expectedVersion) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async addOutcomes(key: BucketKey, counts: OutcomeCounts, expiresAtSeconds: number): Promise<BucketTotals> {
    const slots = [...new Set(counts.failingSlots)];
    // DynamoDB refuses an empty set, so the set is only added to when there is something to add.
    const addSlots = slots.length > 0 ? ', #failingSlots :slots' : '';
    const { Attributes } = await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { pk: { S: bucketId(key) } },
        UpdateExpression: `ADD #calls :calls, #successes :successes, #limioFailures :limioFailures, #tokenFailures :tokenFailures${addSlots} SET #expiresAt = if_not_exists(#expiresAt, :expiresAt)`,
        ExpressionAttributeNames: {
          '#calls': 'calls',
          '#successes': 'successes',
          '#limioFailures': 'limioFailures',
          '#tokenFailures': 'tokenFailures',
          '#expiresAt': 'expiresAt',
          ...(slots.length > 0 && { '#failingSlots': 'failingSlots' }),
        },
        ExpressionAttributeValues: {
          ':calls': { N: String(counts.calls) },
          ':successes': { N: String(counts.successes) },
          ':limioFailures': { N: String(counts.limioFailures) },
          ':tokenFailures': { N: String(counts.tokenFailures) },
          ':expiresAt': { N: String(Math.ceil(expiresAtSeconds)) },
          ...(slots.length > 0 && { ':slots': { NS: slots.map(String) } }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return totalsFromItem(Attributes ?? {});
  }

  async readBucket(key: BucketKey): Promise<BucketTotals | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: bucketId(key) } } }),
    );
    return Item ? totalsFromItem(Item) : undefined;
  }

  async markAnnounced(phase: BreakerPhase, since: number): Promise<void> {
    // A fresh table has no state item: the breaker is then INITIAL_BREAKER_STATE, and announcing that state
    // creates the item (initial fields included) instead of failing its condition on every probe run.
    const announcesMissingItem = phase === INITIAL_BREAKER_STATE.state && since === INITIAL_BREAKER_STATE.since;
    const initial = INITIAL_BREAKER_STATE;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: STATE_KEY } },
          UpdateExpression: announcesMissingItem
            ? 'SET #announcedState = :phase, #announcedSince = :since, #phase = if_not_exists(#phase, :phase), #since = if_not_exists(#since, :since), ' +
              '#reason = if_not_exists(#reason, :reason), #openedBy = if_not_exists(#openedBy, :openedBy), ' +
              '#openIntervals = if_not_exists(#openIntervals, :openIntervals), #healthyProbes = if_not_exists(#healthyProbes, :healthyProbes), ' +
              '#version = if_not_exists(#version, :version)'
            : 'SET #announcedState = :phase, #announcedSince = :since',
          // Only if the breaker is still in that phase: a newer phase must still be announced by the next run.
          ConditionExpression: announcesMissingItem
            ? 'attribute_not_exists(#pk) OR (#phase = :phase AND #since = :since)'
            : '#phase = :phase AND #since = :since',
          ExpressionAttributeNames: {
            '#announcedState': 'announcedState',
            '#announcedSince': 'announcedSince',
            '#phase': 'phase',
            '#since': 'since',
            ...(announcesMissingItem && {
              '#pk': 'pk',
              '#reason': 'reason',
              '#openedBy': 'openedBy',
              '#openIntervals': 'openIntervals',
              '#healthyProbes': 'healthyProbes',
              '#version': 'version',
            }),
          },
          ExpressionAttributeValues: {
            ':phase': { S: phase },
            ':since': { N: String(since) },
            ...(announcesMissingItem && {
              ':reason': { S: initial.reason },
              ':openedBy': { S: initial.openedBy },
              ':openIntervals': { L: [] },
              ':healthyProbes': { N: String(initial.healthyProbes) },
              ':version': { N: String(initial.version) },
            }),
          },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}

function totalsFromItem(item: Record<string, AttributeValue>): BucketTotals {
  return {
    calls: numberOrUndefined(item.calls) ?? 0,
    successes: numberOrUndefined(item.successes) ?? 0,
    limioFailures: numberOrUndefined(item.limioFailures) ?? 0,
    tokenFailures: numberOrUndefined(item.tokenFailures) ?? 0,
    failingSlots: (item.failingSlots?.NS ?? []).map(Number).filter(Number.isInteger),
  };
}

function intervalToItem(interval: OpenInterval): AttributeValue {
  return {
    M: { from: { N: String(interval.from) }, ...(interval.to !== undefined && { to: { N: String(interval.to) } }) },
  };
}

function intervalFromItem(value: AttributeValue): OpenInterval[] {
  const from = numberOrUndefined(value.M?.from);
  const to = numberOrUndefined(value.M?.to);
  if (from === undefined) return [];
  return [to === undefined ? { from } : { from, to }];
}

function numberOrUndefined(value: AttributeValue | undefined): number | undefined {
  if (value?.N === undefined) return undefined;
  const number = Number(value.N);
  return Number.isFinite(number) ? number : undefined;
}

function phaseOrUndefined(value: string | undefined): BreakerPhase | undefined {
  return (BREAKER_PHASES as readonly string[]).includes(value ?? '') ? (value as BreakerPhase) : undefined;
}
