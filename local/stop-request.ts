import { execFile } from 'node:child_process';

/**
 * When `npm start` should stop, whoever is asked. `npm start` is a chain of processes (npm, on Debian a `sh -c`,
 * the tsx CLI, then the node process that runs main.ts), and a stop request can reach any of them:
 *
 * - Ctrl-C or a supervisor signalling the process group reaches every one of them, and npm and tsx each relay
 *   it once more: main.ts gets the same signal two or three times within milliseconds. tsx re-sends it when
 *   main.ts has not confirmed it within 30 ms, and once more as SIGKILL; a repeat that finds no listener (tsx
 *   then exits the process) or one that means "stop now" ends the runtime before its summary.
 * - `kill PID` of npm (what a supervisor does) reaches npm, which relays it to its `sh -c`, which dies of it
 *   without passing it on: tsx and main.ts never hear of it and keep running, orphaned.
 *
 * So the runtime listens for SIGINT, SIGTERM and SIGHUP for as long as it lives, takes the first as the stop
 * request and repeats within REPEAT_WINDOW_MS as the same request, and watches the processes that launched it:
 * when one of them is gone, that is a stop request too.
 */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** Copies of one Ctrl-C or SIGTERM relayed by npm and tsx arrive within this; a person's second Ctrl-C later. */
export const REPEAT_WINDOW_MS = 1_000;

/** How often the launching processes are checked. */
const LAUNCHER_POLL_MS = 250;

export type StopRequest = { readonly signal: StopSignal } | { readonly launcherGone: number };

export type SignalDecision = 'stop' | 'same-request' | 'stop-now';

/**
 * What a signal means given when the first stop request came (undefined: none yet). Only a SIGINT well after the
 * first means "now": a person pressing Ctrl-C again. A supervisor's repeated SIGTERM waits for the clean stop.
 */
export function decideSignal(signal: StopSignal, firstRequestAtMs: number | undefined, nowMs: number): SignalDecision {
  if (firstRequestAtMs === undefined) return 'stop';
  return signal === 'SIGINT' && nowMs - firstRequestAtMs >= REPEAT_WINDOW_MS ? 'stop-now' : 'same-request';
}

export interface ProcessInfo {
  readonly ppid: number;
  readonly args: string;
}

/** npm as `ps` shows it: it titles itself "npm start" / "npm run start"; some systems show its script path. */
export function isNpmProcess(args: string): boolean {
  return /^npm(?:\s|$)/.test(args) || /[/\\]npm-cli\.js(?:\s|$)/.test(args) || /[/\\]bin[/\\]npm(?:\s|$)/.test(args);
}

/** Parent pid and command line of a process, from `ps` (macOS and Linux alike); undefined if it is gone. */
function readProcess(pid: number): Promise<ProcessInfo | undefined> {
  return new Promise((resolve) => {
    execFile('ps', ['-o', 'ppid=', '-o', 'args=', '-p', String(pid)], { timeout: 2_000 }, (error, stdout) => {
      const match = error ? null : /^\s*(\d+)\s+(.*)$/.exec(stdout.trim());
      resolve(match ? { ppid: Number(match[1]), args: match[2] } : undefined);
    });
  });
}

/**
 * The processes from our parent up to and including npm, when npm launched us within `maxDepth` steps (npm, sh,
 * tsx); empty otherwise (run by hand, by a test, or by another launcher: signals alone then apply).
 */
export async function findNpmLaunchers(
  parentPid: number,
  read: (pid: number) => Promise<ProcessInfo | undefined> = readProcess,
  // npm, sh -c, tsx, and the waiter of outside-tsx-relay.ts.
  maxDepth = 5,
): Promise<number[]> {
  const chain: number[] = [];
  let pid = parentPid;
  for (let depth = 0; depth < maxDepth && pid > 1; depth++) {
    const info = await read(pid);
    if (info === undefined) return [];
    chain.push(pid);
    if (isNpmProcess(info.args)) return chain;
    pid = info.ppid;
  }
  return [];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StopRequestOptions {
  /** The processes whose end means "stop" (findNpmLaunchers); they may still be being looked up. */
  readonly launchers?: readonly number[] | Promise<readonly number[]>;
  /** A second Ctrl-C, well after the first. */
  readonly onStopNow: () => void;
  /**
   * A stream whose end means "stop": the runtime's stdin when a waiter started it (outside-tsx-relay.ts), which
   * ends when the waiter does, however it ends.
   */
  readonly lifeline?: {
    once(event: 'end' | 'close', listener: () => void): unknown;
    resume(): unknown;
    destroy(): unknown;
  };
  /** The pid named when the lifeline ends. */
  readonly lifelinePid?: number;
  /** Where signals are heard: the process, or a stand-in in tests. */
  readonly signals?: { on(signal: StopSignal, listener: () => void): unknown };
  readonly now?: () => number;
  readonly alive?: (pid: number) => boolean;
  readonly pollMs?: number;
}

export interface StopRequests {
  /** The first stop request. */
  readonly requested: Promise<StopRequest>;
  /**
   * Stops watching the launchers and reading the lifeline, which would keep the process alive: for a runtime that
   * ends without a stop request (it could not start). Signal listeners stay, as after a request.
   */
  release(): void;
}

/**
 * Watches for the first stop request. The signal listeners stay until the process exits, so that a relayed copy
 * of the signal is never met by the default action.
 */
export function watchStopRequests(options: StopRequestOptions): StopRequests {
  const now = options.now ?? Date.now;
  const alive = options.alive ?? isAlive;
  const signals = options.signals ?? process;
  let firstRequestAtMs: number | undefined;
  let released = false;
  let poll: NodeJS.Timeout | undefined;
  const release = () => {
    released = true;
    clearInterval(poll);
    options.lifeline?.destroy();
  };
  const requested = new Promise<StopRequest>((resolve) => {
    const request = (stop: StopRequest) => {
      firstRequestAtMs = now();
      release();
      resolve(stop);
    };
    for (const signal of STOP_SIGNALS) {
      signals.on(signal, () => {
        const decision = decideSignal(signal, firstRequestAtMs, now());
        if (decision === 'stop') request({ signal });
        else if (decision === 'stop-now') options.onStopNow();
      });
    }
    if (options.lifeline) {
      const ended = () => {
        if (!released) request({ launcherGone: options.lifelinePid ?? 0 });
      };
      options.lifeline.once('end', ended);
      options.lifeline.once('close', ended);
      options.lifeline.resume();
    }
    void Promise.resolve(options.launchers ?? []).then((launchers) => {
      if (launchers.length === 0 || released) return;
      poll = setInterval(() => {
        const gone = launchers.find((pid) => !alive(pid));
        if (gone !== undefined && !released) request({ launcherGone: gone });
      }, options.pollMs ?? LAUNCHER_POLL_MS);
      // The poll alone never keeps the runtime alive.
      poll.unref();
    });
  });
  return { requested, release };
}
