import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { descendantsOf, isAlive } from './process-tree';

// `npm start` stopped the ways it is stopped for real: a supervisor's `kill PID` of npm, and a terminal's Ctrl-C
// or a supervisor's signal to the whole process group. It runs as package.json says (npm, sh -c, tsx, node), so
// every process in between has its say; each stop must print the summary and leave no process and no port behind.

const ROOT = path.join(__dirname, '..', '..');
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

interface Started {
  readonly npm: ChildProcess;
  readonly stdout: string[];
  readonly stderr: () => string;
  /** Every process npm started, the detached SQS emulator included, as `ps` saw them once ready. */
  readonly processes: ReadonlyArray<{ pid: number; args: string }>;
  readonly ports: { callout: number; sqs: number; limio: number };
  /** Resolves when nothing writes to npm's stdout any more (the runtime included, whatever npm does). */
  readonly outputClosed: Promise<void>;
  readonly npmExited: Promise<unknown>;
}

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

async function startNpm(command: readonly string[] = ['npm', 'start']): Promise<Started> {
  const npm = spawn(command[0], command.slice(1), {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      SQS_PORT: '0',
      LIMIO_SANDBOX_PORT: '0',
      DYNAMODB_PORT: '0',
      ZUORA_SANDBOX_PORT: '0',
      SYNC_BATCHING_WINDOW_SECONDS: '0',
    },
    // Its own process group, as in a terminal or under a supervisor: the group can be signalled as a whole.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: npm.stdout! });
  const outputClosed = once(lines, 'close').then(() => undefined);
  const npmExited = once(npm, 'exit');
  const ready = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      stdout.push(line);
      if (line.startsWith('Ready: ')) resolve(line);
    });
    void outputClosed.then(() =>
      reject(new Error(`npm start ended before it was ready:\n${stdout.join('\n')}\n${stderr}`)),
    );
  });
  const readyLine = await ready;
  const portOf = (pattern: RegExp) => {
    const match = stdout.map((line) => pattern.exec(line)).find((m) => m !== null);
    if (!match) throw new Error(`no ${pattern} in:\n${stdout.join('\n')}`);
    return Number(match[1]);
  };
  return {
    npm,
    stdout,
    stderr: () => stderr,
    processes: await descendantsOf(npm.pid!),
    ports: {
      callout: Number(/http:\/\/127\.0\.0\.1:(\d+)\//.exec(readyLine)![1]),
      sqs: portOf(/SQS emulator http:\/\/127\.0\.0\.1:(\d+)/),
      limio: portOf(/Limio sandbox http:\/\/127\.0\.0\.1:(\d+)/),
    },
    outputClosed,
    npmExited,
  };
}

/** Waits until every process is gone, up to a deadline, and answers the ones still alive. */
async function survivors(
  processes: ReadonlyArray<{ pid: number; args: string }>,
  deadlineMs: number,
): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const alive = processes.filter((p) => isAlive(p.pid));
    if (alive.length === 0 || Date.now() > until) return alive.map((p) => `${p.pid} ${p.args}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('npm start, stopped by a signal', () => {
  let running: Started | undefined;
  afterEach(async () => {
    // Whatever a failed test left behind.
    for (const p of running?.processes ?? []) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    if (running && running.npm.exitCode === null && running.npm.signalCode === null) running.npm.kill('SIGKILL');
    running = undefined;
  });

  async function expectStoppedCleanly(started: Started): Promise<void> {
    await started.outputClosed;
    await started.npmExited;
    expect(await survivors(started.processes, 10_000)).toEqual([]);
    const summary = started.stdout.filter((line) => line.startsWith('Stopped.'));
    expect({ summary, stderr: started.stderr() }).toEqual({
      summary: [expect.stringMatching(/^Stopped\. Callouts: 0 accepted/)],
      stderr: expect.any(String),
    });
    for (const port of Object.values(started.ports)) expect(await portRefuses(port)).toBe(true);
  }

  it(
    'SIGTERM to the npm process (kill PID, as a supervisor does) stops the runtime, the emulator and every process in between',
    async () => {
      running = await startNpm();
      // The chain as run: npm, (sh -c), node running main.ts, and the detached SQS and DynamoDB emulators.
      expect(running.processes.some((p) => p.args.includes('sqs-emulator-server.mjs'))).toBe(true);
      expect(running.processes.some((p) => p.args.includes('dynamodb-emulator-server.js'))).toBe(true);
      expect(running.processes.some((p) => p.args.includes('local/main.ts'))).toBe(true);
      process.kill(running.npm.pid!, 'SIGTERM');
      await expectStoppedCleanly(running);
    },
    START_TIMEOUT_MS + STOP_TIMEOUT_MS,
  );

  it(
    'stops cleanly when tsx kills the process it relays signals to (its SIGKILL 60 ms after an unconfirmed signal)',
    async () => {
      running = await startNpm([path.join(ROOT, 'node_modules', '.bin', 'tsx'), 'local/main.ts']);
      const relayed = running.processes.filter((p) => p.args.includes('tsx/dist/preflight.cjs'));
      expect(relayed).toHaveLength(1);
      process.kill(relayed[0].pid, 'SIGKILL');
      await expectStoppedCleanly(running);
    },
    START_TIMEOUT_MS + STOP_TIMEOUT_MS,
  );

  // Every process of the group gets the signal and npm and tsx relay it again: repeated to catch the race.
  it.each(['SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    '%s to the process group stops everything and prints the summary',
    async (signal) => {
      running = await startNpm();
      process.kill(-running.npm.pid!, signal);
      await expectStoppedCleanly(running);
    },
    START_TIMEOUT_MS + STOP_TIMEOUT_MS,
  );
});
