/**
 * What `npm start` does once it runs outside tsx's signal relay (see main.ts): the whole pipeline on this machine.
 * Human output by default; `--json` prints the handlers' structured logs instead (and the runtime's own lines as
 * JSON), run as `npm start --silent -- --json`: without --silent npm's own banner comes first on stdout. Exit codes:
 * 0 after Ctrl-C/SIGTERM, 2 for a configuration the user must change (malformed variable, port in use, unreachable
 * Limio tenant), 1 otherwise, an emulator's process that ended under the runtime included (it stops at once, as on
 * Ctrl-C: the queues or tables it held are gone, and every receive would fail for ever).
 */
import { readFileSync } from 'node:fs';
import type { BreakerPhase } from '../functions/breaker/breaker-state';
import type { Announcement } from '../functions/breaker/probe-handler';
import { ConfigError } from '../functions/shared/config-error';
import { loadRuntimeConfig, type RuntimeConfig } from './config';
import { PortInUseError } from './listen';
import { queueDepth } from './queue-depth';
import {
  breakerLine,
  calloutAcceptedLine,
  calloutRefusedLine,
  countSweep,
  countArrivals,
  countSync,
  describeStart,
  emptyTally,
  limioCapacityLine,
  limioFaultsLine,
  limioLimitLine,
  readyLine,
  sampleCurl,
  summaryLine,
  sweepLine,
  syncLine,
  zuoraTouchedLine,
  fanOutLine,
  zuoraAccountsTouchedLine,
  type Tally,
} from './output';
import { EmulatorExitedError, LimioUnreachableError, startRuntime, type Runtime } from './runtime';
import { LIFELINE_VARIABLE } from './outside-tsx-relay';
import { throttleLimitChanges } from './limit-change-lines';
import { recordOf, removeRuntimeRecord, runtimeRecordPath, writeRuntimeRecord } from './runtime-record';
import { findNpmLaunchers, watchStopRequests } from './stop-request';

const USAGE = `usage: npm start                      human output
       npm start --silent -- --json  JSON lines only (--silent keeps npm's own "> zuora-limio-sync@... start"
                                     banner off stdout; node --import tsx local/main.ts --json does the same)

Runs the callout endpoint, an SQS emulator with the DLQ, a DynamoDB emulator with the sync ledger and the
breaker, the sync worker, the reconciliation sweep and (unless LIMIO_BASE_URL / ZUORA_BASE_URL are set) a Limio
sandbox and a Zuora sandbox on 127.0.0.1. Configuration is by environment variable; see docs/running-locally.md
and docs/configuration.md.`;

interface Output {
  info(line: string, fields?: Record<string, unknown>): void;
  error(line: string, fields?: Record<string, unknown>): void;
}

function humanOutput(): Output {
  return {
    info: (line) => process.stdout.write(`${line}\n`),
    error: (line) => process.stderr.write(`${line}\n`),
  };
}

/** The runtime's own lines in the shape of the handlers' structured logs, so one parser reads both. */
function jsonOutput(): Output {
  const write = (level: string, message: string, fields: Record<string, unknown> = {}) =>
    process.stdout.write(
      `${JSON.stringify({ level, message, service: 'local-runtime', timestamp: new Date().toISOString(), ...fields })}\n`,
    );
  return { info: (line, fields) => write('INFO', line, fields), error: (line, fields) => write('ERROR', line, fields) };
}

/**
 * Writes where the runtime listens, and its generated callout credential, for the CLI's --local
 * (local/runtime-record.ts); removed on a clean stop, and on any exit of this process that Node sees. A record that
 * cannot be written is reported, and the runtime runs on: --local then needs the ports as variables.
 */
function recordRuntime(runtime: Runtime, out: Output): { file: string; remove(): void } | undefined {
  const file = runtimeRecordPath(process.env);
  const record = recordOf(runtime, process.pid, new Date());
  const replaced = runningRecordedPid(file);
  if (replaced !== undefined)
    out.info(
      `Runtime record ${file} named another runtime, still running (pid ${replaced}): --local now finds this one`,
    );
  try {
    writeRuntimeRecord(file, record);
  } catch (error) {
    out.error(
      `Runtime record not written (${(error as Error).message}): the CLI's --local needs PORT, SQS_PORT, DYNAMODB_PORT and ZUORA_SANDBOX_PORT as printed above`,
    );
    return undefined;
  }
  const remove = () => removeRuntimeRecord(file, record);
  process.once('exit', remove);
  return {
    file,
    remove() {
      remove();
      process.removeListener('exit', remove);
    },
  };
}

/** The pid of a runtime the record names that still runs (two npm starts at once: the last one is found). */
function runningRecordedPid(file: string): number | undefined {
  try {
    const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid?: unknown };
    if (typeof pid !== 'number' || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function queueDepths(runtime: Runtime): Promise<{ waiting: number; deadLetters: number } | undefined> {
  try {
    const depth = (queueUrl: string) => queueDepth(runtime.sqs, queueUrl);
    return {
      waiting: await depth(runtime.queues.mainQueueUrl),
      deadLetters: await depth(runtime.queues.deadLetterQueueUrl),
    };
  } catch {
    return undefined;
  }
}

function phaseOf(announcement: Announcement): BreakerPhase {
  return announcement === 'opened' ? 'open' : announcement;
}

/**
 * A dropped or refused connection is held this long before it is printed: when an emulator's process is killed, the
 * receives under way fail a moment before its exit is heard, and that exit, said once, explains them all.
 */
const CONNECTION_ERROR_HOLD_MS = 250;

export function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'EPIPE' ||
    (error instanceof Error && error.message === 'socket hang up')
  );
}

function isUserFixable(error: unknown): error is Error {
  return error instanceof ConfigError || error instanceof PortInUseError || error instanceof LimioUnreachableError;
}

export async function main(argv: readonly string[]): Promise<number> {
  const unknown = argv.filter((arg) => arg !== '--json');
  if (unknown.length > 0) {
    process.stderr.write(
      `${unknown.includes('--help') || unknown.includes('-h') ? '' : `unknown argument ${unknown[0]}\n`}${USAGE}\n`,
    );
    return unknown.includes('--help') || unknown.includes('-h') ? 0 : 2;
  }
  const json = argv.includes('--json');
  const out = json ? jsonOutput() : humanOutput();
  // npm writes its banner to stdout before running the script, and only --silent stops it: say so where it is read.
  if (json && process.env.npm_lifecycle_event !== undefined && process.env.npm_config_loglevel !== 'silent') {
    process.stderr.write(
      `npm printed its "> ${process.env.npm_package_name ?? 'zuora-limio-sync'}@... ${process.env.npm_lifecycle_event}" banner on stdout before the JSON lines: \`npm start --silent -- --json\` keeps stdout to JSON only\n`,
    );
  }

  let config: RuntimeConfig;
  try {
    config = loadRuntimeConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      out.error(`Configuration error: ${error.message}`, { variable: error.variable });
      return 2;
    }
    throw error;
  }

  const tally: Tally = emptyTally();
  // Listening from here on: a stop requested while the runtime starts stops it as soon as it has started.
  const stopRequests = watchStopRequests({
    launchers: process.env.npm_lifecycle_event !== undefined ? findNpmLaunchers(process.ppid).catch(() => []) : [],
    ...(process.env[LIFELINE_VARIABLE] === '1' && { lifeline: process.stdin, lifelinePid: process.ppid }),
    // A second Ctrl-C, well after the first, means "now": the emulator stops when our end of its stdin closes.
    onStopNow: () => process.exit(130),
  });
  // Errors once a stop is requested are the shutdown itself (a terminal's Ctrl-C reaches every process of the
  // group), not news.
  let stopping = false;
  void stopRequests.requested.then(() => (stopping = true));
  // In --json mode the sync handler logs each change itself ('Limio call limit changed').
  const limitLines = throttleLimitChanges((change) => {
    if (!json) out.info(limioLimitLine(change));
  });
  let runtime: Runtime;
  try {
    runtime = await startRuntime({
      config,
      quiet: !json,
      observers: {
        sync: {
          onSyncOutcome(event) {
            countSync(tally, event);
            if (!json) out.info(syncLine(event));
          },
        },
        callout: {
          onAccepted(callout) {
            tally.calloutsAccepted += 1;
            tally.idsQueued += callout.ids.length;
            if (!json) out.info(calloutAcceptedLine(callout));
          },
          onRefused(callout) {
            tally.calloutsRefused += 1;
            if (!json) out.info(calloutRefusedLine(callout));
          },
        },
        onError(error) {
          const report = () => {
            if (!stopping) out.error(`worker error: ${(error as Error).message ?? String(error)}`);
          };
          if (isConnectionError(error)) setTimeout(report, CONNECTION_ERROR_HOLD_MS).unref();
          else report();
        },
        onRecords: (records) => countArrivals(tally, records),
        onSweep(report) {
          countSweep(tally, report);
          // In --json mode the sweep Lambda logs its own line (window, counts, outcome), as in CloudWatch.
          if (!json) out.info(sweepLine(report));
        },
        onSweepFailed(error) {
          // A run cut short by the stop (the sandbox refuses it) is the shutdown, not a failed sweep.
          if (stopping) return;
          countSweep(tally, 'failed');
          if (!json) out.error(error.message);
        },
        onZuoraAccountsTouched(changes) {
          if (json) out.info('zuora sandbox accounts changed without a callout', { changes });
          else out.info(zuoraAccountsTouchedLine(changes));
        },
        onFanOut(event) {
          if (!json) out.info(fanOutLine(event));
        },
        onZuoraTouched(names) {
          if (json) out.info('zuora sandbox changed without a callout', { subscriptions: names });
          else out.info(zuoraTouchedLine(names));
        },
        onLimitChange: limitLines.onLimitChange,
        onLimioFaultsChanged(view) {
          if (json) out.info('limio sandbox faults changed', { ...view });
          else out.info(limioFaultsLine(view));
        },
        onLimioCapacityChanged(model) {
          if (json)
            out.info('limio sandbox capacity changed', {
              capacity: model.capacity ?? null,
              latencyMs: model.latencyMs,
            });
          else out.info(limioCapacityLine(model));
        },
        onProbe(report) {
          for (const announcement of report.announced) {
            // A run may announce the phase it found (entered by a sync instance) and then the one it moved to.
            const state = phaseOf(announcement) === report.after.state ? report.after : report.before;
            if (json)
              out.info(`breaker ${announcement}`, {
                breaker: state.state,
                reason: state.reason,
                since: new Date(state.since).toISOString(),
              });
            else out.info(breakerLine(announcement, state));
          }
        },
      },
    });
  } catch (error) {
    stopRequests.release();
    if (isUserFixable(error)) {
      out.error(`${error instanceof ConfigError ? 'Configuration error' : 'Cannot start'}: ${error.message}`);
      return 2;
    }
    throw error;
  }

  // Errors from the moment an emulator is gone are its consequence (every receive refused), not news.
  void runtime.emulatorExited.then(() => (stopping = true));

  const curl = sampleCurl(runtime.calloutUrl, config.callout);
  // Written before "ready" is printed: whoever waits for that line may run a --local command at once.
  const record = stopping ? undefined : recordRuntime(runtime, out);
  if (stopping) {
    // Stopped while starting: no "Ready" for a runtime that is about to go.
  } else if (json) {
    out.info('ready', {
      calloutUrl: runtime.calloutUrl,
      sqsEndpoint: runtime.sqsEndpoint,
      dynamoDbEndpoint: runtime.dynamoDbEndpoint,
      limioBaseUrl: runtime.limioBaseUrl,
      zuoraBaseUrl: runtime.zuoraBaseUrl,
      sweepIntervalSeconds: config.sweepIntervalSeconds,
      curl,
      ...(record && { runtimeRecord: record.file }),
    });
  } else {
    const banner = {
      calloutUrl: runtime.calloutUrl,
      sqsEndpoint: runtime.sqsEndpoint,
      dynamoDbEndpoint: runtime.dynamoDbEndpoint,
      limioBaseUrl: runtime.limioBaseUrl,
      zuoraBaseUrl: runtime.zuoraBaseUrl,
      config,
    };
    for (const line of describeStart(banner)) {
      out.info(line);
    }
    if (record)
      out.info(`Runtime record ${record.file} (owner-only): zuora-limio-sync --local commands find this runtime by it`);
    out.info(readyLine(runtime.calloutUrl));
  }

  const request = await Promise.race([stopRequests.requested, runtime.emulatorExited]);
  // Stopping: from now on the CLI is told no runtime runs, rather than finding one going away.
  record?.remove();
  let cause: Record<string, unknown>;
  if (request instanceof EmulatorExitedError) {
    // Not a stop request: the launchers and the lifeline no longer matter (and the lifeline would keep us alive).
    stopRequests.release();
    cause = { emulatorExited: request.emulator };
    const what = {
      emulator: request.emulator,
      code: request.code,
      signal: request.signal,
      ...(request.lastStderr && { lastStderr: request.lastStderr }),
    };
    out.error(
      json
        ? 'emulator exited unexpectedly; stopping'
        : `${request.message}. What it held in memory is gone: stopping the runtime.`,
      what,
    );
  } else {
    cause = 'signal' in request ? { signal: request.signal } : { launcherGone: request.launcherGone };
    if (!json) {
      process.stdout.write('\n');
      if ('launcherGone' in request)
        out.info(`The process that started this runtime (pid ${request.launcherGone}) has gone; stopping.`);
    }
  }
  // Invocations under way finish first, so their messages are not counted as left on the queue.
  await runtime.stopWorkers();
  limitLines.stop();
  const depths = await queueDepths(runtime);
  await runtime.stop();
  if (json)
    out.info('stopped', {
      ...cause,
      ...tally,
      ...(depths && { mainQueueMessages: depths.waiting, deadLetters: depths.deadLetters }),
    });
  else out.info(summaryLine(tally, depths));
  return request instanceof EmulatorExitedError ? 1 : 0;
}
