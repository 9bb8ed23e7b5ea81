import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { STOP_SIGNALS } from './stop-request';

/**
 * `npm start` runs `node --import tsx local/main.ts`, which has no relay. This guards the other way in,
 * `tsx local/main.ts` (or `npx tsx …`): the tsx CLI runs main.ts in a child process it relays SIGINT and
 * SIGTERM to: when that child has not confirmed a signal within 30 ms, tsx sends it again, and 30 ms later
 * SIGKILL. On a busy machine the runtime is then killed in the middle of its stop, before its summary, with the
 * SQS emulator's counts unread. So under the tsx CLI, main.ts only waits: it runs the runtime once more in a
 * plain node process with tsx's loader (what `node --import tsx local/main.ts` does), passes on the signals it
 * gets, and exits with the runtime's code. Should tsx kill the waiter, the runtime's stdin (a pipe from the
 * waiter) closes, which the runtime takes as a stop request, and it still stops cleanly and prints its summary.
 */

/** Set for the runtime that a waiter started: its stdin is the waiter's lifeline. */
export const LIFELINE_VARIABLE = 'ZLS_LOCAL_LIFELINE';

const PREFLIGHT = /[/\\]tsx[/\\]dist[/\\]preflight\.cjs$/;

/** True in the child the tsx CLI starts (it preloads its preflight module, which relays its signals). */
export function isUnderTsxCli(execArgv: readonly string[] = process.execArgv): boolean {
  return execArgv.some((arg) => PREFLIGHT.test(arg.replace(/^--require=/, '')));
}

/** The node options without tsx's preflight: the loader (--import) stays, the signal relay goes. */
export function withoutTsxPreflight(execArgv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const arg = execArgv[i];
    if ((arg === '--require' || arg === '-r') && PREFLIGHT.test(execArgv[i + 1] ?? '')) {
      i += 1;
      continue;
    }
    if (PREFLIGHT.test(arg.replace(/^--require=/, ''))) continue;
    kept.push(arg);
  }
  return kept;
}

/** Runs this script again outside tsx's relay and resolves with its exit code. */
export async function runOutsideTsxRelay(): Promise<number> {
  const runtime = spawn(
    process.execPath,
    [...withoutTsxPreflight(process.execArgv), process.argv[1], ...process.argv.slice(2)],
    {
      stdio: ['pipe', 'inherit', 'inherit'],
      env: { ...process.env, [LIFELINE_VARIABLE]: '1' },
    },
  );
  // A signal for tsx alone (macOS, where npm's shell execs tsx) reaches only this process; one for the group
  // reaches the runtime too, which takes the copy as the same request. Listening also keeps tsx's preflight
  // from exiting this process on a signal.
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      if (runtime.exitCode === null && runtime.signalCode === null) runtime.kill(signal);
    });
  }
  const [code, signal] = (await once(runtime, 'exit')) as [number | null, NodeJS.Signals | null];
  return code ?? 128 + (signal ? constants.signals[signal] : 0);
}
