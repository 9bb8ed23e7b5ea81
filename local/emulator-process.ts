import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** An emulator's child process ended while it was meant to be running: killed, crashed or out of memory. */
export class EmulatorExitedError extends Error {
  constructor(
    /** "SQS emulator", "DynamoDB emulator". */
    readonly emulator: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    /** Its last line on stderr, if it wrote any. */
    readonly lastStderr: string | undefined,
  ) {
    const how = signal !== null ? `killed by ${signal}` : `exit code ${code ?? 'unknown'}`;
    super(`${emulator} exited unexpectedly (${how})${lastStderr ? `: ${lastStderr}` : ''}`);
    this.name = 'EmulatorExitedError';
  }
}

export interface EmulatorProcess {
  readonly port: number;
  /**
   * Resolves (never rejects, so that nobody listening is no unhandled rejection) when the child exits without
   * stop() having been called; never settles otherwise. What it held in memory is then gone.
   */
  readonly unexpectedExit: Promise<EmulatorExitedError>;
  /** Ends the child (stdin closed, then SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Enough of the end of its stderr for the last line: an emulator that logs all day must not grow our memory. */
const STDERR_KEPT_CHARS = 8_192;

/** The last non-empty line of what a child wrote, shortened to one readable line. */
export function lastLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .pop();
  return line === undefined ? undefined : line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * Runs an emulator's server script (plain JavaScript, so the child needs no TypeScript loader) in a child process
 * that prints one JSON line `{"port":N}` once listening on 127.0.0.1, and exits when its stdin closes or on
 * SIGTERM/SIGINT. In a process of its own the emulator neither shares the runtime's event loop nor can take it
 * down, and it stops with whoever started it, however that ends.
 */
export async function startEmulatorProcess(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C goes to the runtime, which stops the emulator last, after
    // reading what it needs from it. The child still exits when our stdin pipe closes, however we end.
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEPT_CHARS);
  });
  // Our end of its stdin may be broken when it dies; the exit says what happened, the EPIPE adds nothing.
  child.stdin!.on('error', () => undefined);
  let stopRequested = false;
  // 'close' rather than 'exit': its stderr has been read to the end by then, the line that explains a crash too.
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  const lines = createInterface({ input: child.stdout! });
  const exitedEarly = closed.then(() => {
    throw new Error(`${name} exited before it was ready: ${stderr.trim() || 'no output'}`);
  });
  const ready = (async () => {
    for await (const line of lines) return JSON.parse(line) as { port: number };
    throw new Error(`${name} closed its output: ${stderr.trim()}`);
  })();
  const { port } = await Promise.race([ready, exitedEarly]);
  exitedEarly.catch(() => undefined);
  lines.close();
  child.stdout!.resume();
  const unexpectedExit = new Promise<EmulatorExitedError>((resolve) => {
    void closed.then(([code, signal]) => {
      if (!stopRequested) resolve(new EmulatorExitedError(name, code, signal, lastLine(stderr)));
    });
  });
  return {
    port,
    unexpectedExit,
    async stop() {
      stopRequested = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.stdin!.end();
      child.kill('SIGTERM');
      await gone;
    },
  };
}
