import type { SQSRecord } from 'aws-lambda';
import {
  parseSyncRequest,
  unreadableBodyReason,
  type ParsedSyncRequest,
  type SyncRequest,
} from '../shared/queue-message';
import type { SyncOutcome } from '../limio';
import type { SyncConfig } from './config';

/** A message's fate after this invocation: handled (deleted by Lambda) or reported as a batch item failure. */
export type Verdict =
  | { readonly handled: true }
  /** `visibilitySeconds`: the backoff set before the message comes back, when one could be set. */
  | { readonly handled: false; readonly reason: string; readonly visibilitySeconds?: number };

/** Each message of one subscription's share of the batch, by message id. */
export type Verdicts = Map<string, Verdict>;

/** A record of this batch, with when it was received at the latest (the invocation's start). */
export interface ReceivedMessage {
  readonly record: SQSRecord;
  readonly receiveCount: number;
  /** SQS's 12-hour visibility limit counts from the receive, which happened no later than this (epoch ms). */
  readonly receivedAtMs: number;
}

export interface QueuedMessage extends ReceivedMessage {
  readonly request: SyncRequest;
}

/**
 * One invocation's Limio calls, reported to the breaker once the batch is done, with the ledger's record of each
 * (never rejects), which the batch awaits before it returns.
 */
export type MadeSyncs = Array<{
  readonly subscriptionId: string;
  readonly outcome: SyncOutcome;
  readonly recorded: Promise<void>;
}>;

/** Splits a batch into poison messages and, per subscription, the messages that ask for it. */
export function splitBatch(records: readonly SQSRecord[], config: SyncConfig, receivedAtMs: number) {
  const poison = new Map<string, string>();
  const bySubscription = new Map<string, QueuedMessage[]>();
  const subscriptionByMessage = new Map<string, string>();
  for (const record of records) {
    const parsed = readRecord(record, config);
    if (!parsed.ok) {
      poison.set(record.messageId, parsed.reason);
      continue;
    }
    const message: QueuedMessage = {
      record,
      receiveCount: receiveCountOf(record),
      receivedAtMs,
      request: parsed.request,
    };
    subscriptionByMessage.set(record.messageId, parsed.request.subscriptionId);
    const group = bySubscription.get(parsed.request.subscriptionId);
    if (group) group.push(message);
    else bySubscription.set(parsed.request.subscriptionId, [message]);
  }
  return { poison, bySubscription, subscriptionByMessage };
}

/**
 * Each record on its own: its body is anyone's with sqs:SendMessage, and whatever reading it throws makes that one
 * record poison instead of failing the whole batch again on every receive.
 */
function readRecord(record: SQSRecord, config: SyncConfig): ParsedSyncRequest {
  try {
    return parseSyncRequest(record.body, config.subscriptionIdRule);
  } catch (error) {
    return { ok: false, reason: unreadableBodyReason(error) };
  }
}

/**
 * Message attribute of a copy the sync Lambda queued in place of a message that kept waiting for a Limio slot
 * (fates/waited-for-slot.ts): the SentTimestamp (epoch ms) of the first message of the chain, so that the queue's
 * retention and a replayed message's budget go on counting from it.
 */
export const FIRST_SENT_AT_ATTRIBUTE = 'firstSentAt';

/** SQS SentTimestamp (epoch ms), when the record carries a readable one. */
export function sentTimestampOf(record: Pick<SQSRecord, 'attributes'>): number | undefined {
  const sentAt = Number(record.attributes?.SentTimestamp);
  return Number.isFinite(sentAt) && sentAt > 0 ? sentAt : undefined;
}

/**
 * When the message's chain was first sent (epoch ms): SentTimestamp, or the earlier FIRST_SENT_AT_ATTRIBUTE of a
 * slot-wait copy. What the queue's retention and a replayed message's budget count from. Only ever earlier than
 * SentTimestamp: a forged attribute can make a message older (dead-lettered sooner), never younger. The ledger
 * keeps judging by SentTimestamp, where older would mean "covered" and a sync skipped.
 */
export function firstSentTimestampOf(record: Pick<SQSRecord, 'attributes' | 'messageAttributes'>): number | undefined {
  const sentAt = sentTimestampOf(record);
  if (sentAt === undefined) return undefined;
  const firstSentAt = Number(record.messageAttributes?.[FIRST_SENT_AT_ATTRIBUTE]?.stringValue);
  return Number.isFinite(firstSentAt) && firstSentAt > 0 ? Math.min(firstSentAt, sentAt) : sentAt;
}

export function visibilityOf(verdict: Verdict): number | undefined {
  return verdict.handled ? undefined : verdict.visibilitySeconds;
}

export function receiveCountOf(record: SQSRecord): number {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return Number.isInteger(count) && count >= 1 ? count : 1;
}

export function logKeys(message: QueuedMessage) {
  return {
    subscriptionId: message.request.subscriptionId,
    messageId: message.record.messageId,
    attempt: message.receiveCount,
    ...(message.request.zuoraRequestId !== undefined && { zuoraRequestId: message.request.zuoraRequestId }),
    ...(message.request.zuoraNotificationId !== undefined && {
      zuoraNotificationId: message.request.zuoraNotificationId,
    }),
  };
}

/** For the log and the observer only: whatever subscriptionId a poison message claims, if it is a string. */
export function looseSubscriptionId(body: string): string | undefined {
  try {
    const value = (JSON.parse(body) as { subscriptionId?: unknown }).subscriptionId;
    return typeof value === 'string' ? value.slice(0, 80) : undefined;
  } catch {
    return undefined;
  }
}

/** The highest ApproximateReceiveCount among these messages, as the observer reports it. */
export function attemptOf(messages: readonly ReceivedMessage[]): number {
  return Math.max(...messages.map((message) => message.receiveCount));
}
