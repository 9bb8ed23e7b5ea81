import type { SQSEvent } from 'aws-lambda';
import type { SyncHandlerDependencies, SyncOutcomeEvent } from '../../functions/sync/sync-handler';
import { createSyncHandler } from '../../functions/sync/sync-handler';
import { startLimioSandbox, type LimioSandbox } from '../../local/limio-sandbox';
import type { QueuePair } from '../../local/sqs-emulator';
import { captureOutput } from '../support/capture-output';
import { useSqsEmulator } from '../support/sqs-emulator';
import { mockLimioSecret, newQueuePair, syncConfig } from './harness';

/**
 * What the sync handler's end-to-end tests share, fresh for each test: the Limio sandbox over HTTP, a queue pair
 * on the SQS emulator, Secrets Manager mocked, the log captured and the observer's events. A test may replace
 * `queues` (a queue with another visibility timeout); handlerWith builds on whatever is there when it is called.
 */
export interface HandlerParts {
  readonly emulator: ReturnType<typeof useSqsEmulator>;
  sandbox: LimioSandbox;
  queues: QueuePair;
  secret: ReturnType<typeof mockLimioSecret>;
  output: ReturnType<typeof captureOutput>;
  events: SyncOutcomeEvent[];
  handlerWith(
    env?: Record<string, string>,
    extra?: {
      now?: () => number;
      random?: () => number;
      dlqUrl?: string;
      onLimitChange?: SyncHandlerDependencies['onLimitChange'];
      breakerStore?: SyncHandlerDependencies['breakerStore'];
    },
  ): ReturnType<typeof createSyncHandler>;
}

/** Call inside a describe: registers the setup and teardown, and returns the parts the current test uses. */
export function useHandlerParts(): HandlerParts {
  const emulator = useSqsEmulator();
  const parts = {
    emulator,
    events: [] as SyncOutcomeEvent[],
    handlerWith(
      env: Record<string, string> = {},
      extra: {
        now?: () => number;
        random?: () => number;
        dlqUrl?: string;
        onLimitChange?: SyncHandlerDependencies['onLimitChange'];
        breakerStore?: SyncHandlerDependencies['breakerStore'];
      } = {},
    ) {
      const config = syncConfig(parts.sandbox, parts.queues, env);
      return createSyncHandler(extra.dlqUrl ? { ...config, deadLetterQueueUrl: extra.dlqUrl } : config, {
        sqs: emulator.sqs,
        secretsManager: parts.secret.client,
        now: extra.now,
        random: extra.random ?? (() => 0.5),
        observer: { onSyncOutcome: (event) => parts.events.push(event) },
        ...(extra.onLimitChange && { onLimitChange: extra.onLimitChange }),
        ...(extra.breakerStore && { breakerStore: extra.breakerStore }),
      });
    },
  } as HandlerParts;

  beforeEach(async () => {
    parts.output = captureOutput();
    parts.sandbox = await startLimioSandbox();
    parts.queues = await newQueuePair(emulator.sqs);
    parts.secret = mockLimioSecret(parts.sandbox);
    parts.events = [];
  });
  afterEach(async () => {
    parts.output.restore();
    parts.secret.mock.restore();
    await parts.sandbox.stop();
  });
  return parts;
}

export const failedIds = (response: { batchItemFailures: Array<{ itemIdentifier: string }> }) =>
  response.batchItemFailures.map((failure) => failure.itemIdentifier).sort();

export const ids = (event: SQSEvent, indexes: number[]) =>
  indexes.map((index) => event.Records[index].messageId).sort();
