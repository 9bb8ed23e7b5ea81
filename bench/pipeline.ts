import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { readDeadLetterReason, type DeadLetterReason } from '../functions/shared/dead-letter';
import { parseSyncRequest } from '../functions/shared/queue-message';
import type { CalloutCredentials } from '../local/config';
import type { LimioSandbox } from '../local/limio-sandbox';
import { forEachLimited, sleep } from './figures';

/** What the bench and the chaos runs do to a running pipeline from the outside: send callouts, read queues. */

/** Every port the local runtime opens, chosen by the system: benches run beside other servers and each other. */
export const EPHEMERAL_PORTS = {
  PORT: '0',
  SQS_PORT: '0',
  LIMIO_SANDBOX_PORT: '0',
  DYNAMODB_PORT: '0',
  ZUORA_SANDBOX_PORT: '0',
} as const;

/** When each subscription was last synced successfully by the Limio sandbox (performance.now()), from now on. */
export function lastSuccessfulSyncs(limio: Pick<LimioSandbox, 'onSync'>): Map<string, number> {
  const lastSyncAt = new Map<string, number>();
  limio.onSync = ({ subscriptionId, status }) => {
    if (status === 200) lastSyncAt.set(subscriptionId, performance.now());
  };
  return lastSyncAt;
}

export interface SentCallout {
  readonly subscriptionId: string;
  /** performance.now() just before the request went out. */
  readonly sentAt: number;
  /** performance.now() when the answer arrived. */
  readonly answeredAt: number;
  readonly status: number;
}

export function authorizationFor(credentials: CalloutCredentials): Record<string, string> {
  if (credentials.mode === 'basic') {
    return {
      authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`,
    };
  }
  if (credentials.mode === 'header') return { [credentials.headerName]: credentials.value };
  throw new Error('the bench signs no HMAC callouts; run it with the default Basic auth');
}

/** A deterministic order (mulberry32), so two runs send the same burst. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function subscriptionNumbers(count: number, prefix = 'A-S'): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${String(index + 1).padStart(8, '0')}`);
}

/** `perSubscription` callouts for each subscription, shuffled: a burst as Zuora sends it, updates interleaved. */
export function burstOf(subscriptions: readonly string[], perSubscription: number, seed = 7): string[] {
  const burst = subscriptions.flatMap((id) => Array.from({ length: perSubscription }, () => id));
  const random = seededRandom(seed);
  for (let index = burst.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [burst[index], burst[other]] = [burst[other]!, burst[index]!];
  }
  return burst;
}

/**
 * Posts one JSON subscription callout per id, `parallel` at a time, as Zuora's notification workers would. It
 * names no account: since issue #22 an account key in a callout queues that account's fan-out too, a different
 * workload (and, for an account the Zuora sandbox lacks, a terminal dead letter per callout).
 */
export async function sendCallouts(
  calloutUrl: string,
  headers: Record<string, string>,
  ids: readonly string[],
  options: {
    parallel: number;
    onAnswer?: (callout: SentCallout) => void;
    /**
     * The subscription's UpdatedDate to name in its callout, as the documented template does
     * (docs/connecting-zuora.md): it lets the sweep prove the change read without a second Limio call.
     */
    updatedDateOf?: (subscriptionId: string) => string | undefined;
  },
): Promise<SentCallout[]> {
  const sent: SentCallout[] = new Array(ids.length);
  await forEachLimited(ids, options.parallel, async (subscriptionId, index) => {
    const sentAt = performance.now();
    const updatedDate = options.updatedDateOf?.(subscriptionId);
    let status = 0;
    try {
      const response = await fetch(calloutUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'zuora-request-id': `bench-${index}`, ...headers },
        body: JSON.stringify({
          eventType: 'SubscriptionUpdated',
          subscriptionNumber: subscriptionId,
          ...(updatedDate !== undefined && { UpdatedDate: updatedDate }),
        }),
      });
      status = response.status;
      await response.arrayBuffer();
    } catch {
      status = 0;
    }
    const callout = { subscriptionId, sentAt, answeredAt: performance.now(), status };
    sent[index] = callout;
    options.onAnswer?.(callout);
  });
  return sent;
}

export interface DeadLetter {
  /** Undefined when the body names no valid subscription. */
  readonly subscriptionId?: string;
  readonly reason: Partial<DeadLetterReason>;
}

/**
 * Reads every message on the DLQ (they stay there: the visibility timeout set here is long, and the run ends
 * before it runs out).
 */
export async function readDeadLetters(sqs: SQSClient, deadLetterQueueUrl: string): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  let emptyAnswers = 0;
  while (emptyAnswers < 2) {
    const answer = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = answer.Messages ?? [];
    if (messages.length === 0) {
      emptyAnswers++;
      continue;
    }
    for (const message of messages) {
      const parsed = parseSyncRequest(message.Body ?? '');
      letters.push({
        ...(parsed.ok && { subscriptionId: parsed.request.subscriptionId }),
        reason: readDeadLetterReason(message.MessageAttributes),
      });
    }
  }
  return letters;
}

/** Polls until `done()` holds or the time is up; true when it held. */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(intervalMs);
  }
  return done();
}
