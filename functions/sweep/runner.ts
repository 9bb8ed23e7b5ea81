import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SqsSender } from '../shared/enqueue';
import type { LedgerStore } from '../ledger/ledger-store';
import type { MessageSource } from '../shared/queue-message';
import type { SweepConfig } from './config';
import { ledgerCoverage, sqsEnqueue } from './ports';
import { runSweep, type SweepProgress, type SweepReport, type WatermarkStore } from './sweep';
import type { TimeRange } from './window';
import { zuoraAccountChangeSource, zuoraChangeSource } from './zuora-changes';
import { createZuoraClient, type ZuoraClient, type ZuoraRequestEvent } from './zuora-client';

/**
 * The sweep assembled from its configuration and the project's parts, once per process (a Lambda container, the
 * local runtime, one CLI command), so the Zuora token is reused across runs. The scheduled Lambda, `npm start` and
 * `zuora-limio-sync sweep` differ only in what they pass to run().
 */
export interface SweepRunnerParts {
  readonly config: SweepConfig;
  readonly sqs: SqsSender;
  readonly queueUrl: string;
  /** "sweep" once queue-message.ts allows it. */
  readonly source: MessageSource;
  readonly ledger: LedgerStore;
  /**
   * Mark lastQueuedAt for what is queued (default true). False when `sqs` only records what would be sent (the
   * CLI's dry run): a mark for a message never queued would let the next sweep take a change for pending.
   */
  readonly markQueued?: boolean;
  /** One ledger read (100 ids) may take this long before its batch is queued unchecked (default 3 s). */
  readonly ledgerTimeoutMs?: number;
  readonly watermarks: WatermarkStore;
  readonly secretsManager?: SecretsManagerClient;
  /** Every Zuora HTTP request (metrics: requests, retries, 429s). */
  readonly onZuoraRequest?: (event: ZuoraRequestEvent) => void;
}

interface SweepRunOptions {
  /** The invocation's deadline (ms since the epoch), e.g. Date.now() + context.getRemainingTimeInMillis(). */
  readonly deadlineMs?: number;
  /** A backfill window; the watermark is then neither read nor moved. */
  readonly window?: TimeRange;
  readonly dryRun?: boolean;
  readonly onProgress?: (event: SweepProgress) => void;
  readonly now?: () => number;
}

export interface SweepRunner {
  run(options?: SweepRunOptions): Promise<SweepReport>;
  readonly client: ZuoraClient;
}

const DEFAULT_LEDGER_TIMEOUT_MS = 3_000;

export function createSweepRunner(parts: SweepRunnerParts): SweepRunner {
  const { config } = parts;
  const client = createZuoraClient(config, {
    ...(parts.secretsManager !== undefined && { secretsManager: parts.secretsManager }),
    ...(parts.onZuoraRequest !== undefined && { onRequest: parts.onZuoraRequest }),
  });
  const source = zuoraChangeSource(client);
  const accounts = zuoraAccountChangeSource(client);
  const coverage = ledgerCoverage(parts.ledger, { timeoutMs: parts.ledgerTimeoutMs ?? DEFAULT_LEDGER_TIMEOUT_MS });
  return {
    client,
    run(options = {}) {
      const enqueue = sqsEnqueue(parts.sqs, {
        queueUrl: parts.queueUrl,
        source: parts.source,
        rule: config.subscriptionIdRule,
        ...(parts.markQueued !== false && { ledger: parts.ledger }),
        ...(options.now !== undefined && { now: options.now }),
      });
      return runSweep(
        {
          source,
          accounts,
          coverage,
          enqueue,
          watermarks: parts.watermarks,
          ...(options.onProgress !== undefined && { onProgress: options.onProgress }),
          ...(options.now !== undefined && { now: options.now }),
        },
        {
          settings: config.window,
          commitLagSeconds: config.commitLagSeconds,
          rule: config.subscriptionIdRule,
          ...(options.window !== undefined && { window: options.window }),
          ...(options.deadlineMs !== undefined && { deadlineMs: options.deadlineMs }),
          ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
        },
      );
    },
  };
}
