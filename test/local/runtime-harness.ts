import type { SQSRecord } from 'aws-lambda';
import type { AcceptedCallout, RefusedCallout } from '../../functions/callout/callout-handler';
import type { FanOutEvent } from '../../functions/fanout/fanout-handler';
import type { LimitChange } from '../../functions/sync/adaptive-limit';
import type { SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { loadRuntimeConfig, type CalloutCredentials } from '../../local/config';
import type { LimioServiceModel } from '../../local/limio-sandbox';
import { startRuntime, type Runtime } from '../../local/runtime';

// The whole pipeline in this process, on ephemeral ports: production handlers, SQS emulator, poller, sandbox.
// What the local runtime's tests share: how they start it, what they record, how they send a callout.

export const EPHEMERAL = {
  PORT: '0',
  SQS_PORT: '0',
  LIMIO_SANDBOX_PORT: '0',
  DYNAMODB_PORT: '0',
  ZUORA_SANDBOX_PORT: '0',
};

export interface Recorder {
  readonly syncs: SyncOutcomeEvent[];
  readonly accepted: AcceptedCallout[];
  readonly refused: RefusedCallout[];
  readonly errors: unknown[];
  /** Each change of the Limio sandbox's capacity model through the control endpoint. */
  readonly limioCapacityChanges: LimioServiceModel[];
  /** Each account message the fan-out handler finished with. */
  readonly fanOuts: FanOutEvent[];
  /** Each marked change of the sync handler's adaptive limit on Limio calls. */
  readonly limitChanges: LimitChange[];
  /** Every record the pollers handed their handlers (npm start counts what the CLI queued from them). */
  readonly records: SQSRecord[];
  /** Resolves with the first sync event for this subscription with this outcome, past or future. */
  waitFor(subscriptionId: string, outcome: SyncOutcomeEvent['outcome']): Promise<SyncOutcomeEvent>;
  notify(event: SyncOutcomeEvent): void;
}

export function recorder(): Recorder {
  const waiting: Array<{ id: string; outcome: string; resolve: (e: SyncOutcomeEvent) => void }> = [];
  const syncs: SyncOutcomeEvent[] = [];
  return {
    syncs,
    accepted: [],
    refused: [],
    errors: [],
    limioCapacityChanges: [],
    fanOuts: [],
    limitChanges: [],
    records: [],
    waitFor(subscriptionId, outcome) {
      const seen = syncs.find((e) => e.subscriptionId === subscriptionId && e.outcome === outcome);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiting.push({ id: subscriptionId, outcome, resolve }));
    },
    notify(event) {
      syncs.push(event);
      for (const waiter of waiting.splice(0)) {
        if (waiter.id === event.subscriptionId && waiter.outcome === event.outcome) waiter.resolve(event);
        else waiting.push(waiter);
      }
    },
  };
}

export async function start(env: Record<string, string>, rec: Recorder): Promise<Runtime> {
  return startRuntime({
    config: loadRuntimeConfig({ ...EPHEMERAL, ...env }),
    quiet: true,
    observers: {
      sync: { onSyncOutcome: (event) => rec.notify(event) },
      callout: { onAccepted: (c) => rec.accepted.push(c), onRefused: (r) => rec.refused.push(r) },
      onError: (error) => rec.errors.push(error),
      onLimioCapacityChanged: (model) => rec.limioCapacityChanges.push(model),
      onFanOut: (event) => rec.fanOuts.push(event),
      onLimitChange: (change) => rec.limitChanges.push(change),
      onRecords: (records) => rec.records.push(...records),
    },
  });
}

export function basicHeader(credentials: CalloutCredentials): string {
  if (credentials.mode !== 'basic') throw new Error('expected Basic credentials');
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
  return { status: response.status, body: await response.text(), headers: response.headers };
}
