import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { isConnectionError } from '../../local/npm-start';
import { EmulatorExitedError } from '../../local/runtime';
import { recorder, start } from './runtime-harness';
import { descendantsOf, isAlive, onlyDescendantRunning, type ProcessRow } from './process-tree';

// An emulator's process killed under a running runtime (kill -9, a crash, the OOM killer): its queues or tables,
// held in its memory, are gone, and nothing brings them back. npm start says so once and stops (exit 1) instead
// of printing "worker error: connect ECONNREFUSED" for ever; a program running startRuntime itself is told, and
// decides.

const ROOT = path.join(__dirname, '..', '..');

/** The processes still alive once all have gone or the deadline passed. */
async function survivors(processes: readonly ProcessRow[], deadlineMs: number): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const alive = processes.filter((p) => isAlive(p.pid));
    if (alive.length === 0 || Date.now() > until) return alive.map((p) => `${p.pid} ${p.args}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

jest.setTimeout(90_000);

describe('npm start when the SQS emulator is killed under it', () => {
  let dir: string;
  let left: ProcessRow[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zls-emu-exit-'));
  });
  afterEach(() => {
    // Whatever a failed test left behind.
    for (const p of left) if (isAlive(p.pid)) process.kill(p.pid, 'SIGKILL');
    left = [];
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one line naming the emulator and its signal, stops as on Ctrl-C, removes the runtime record and exits 1', async () => {
    const recordFile = path.join(dir, 'runtime.json');
    const npm = spawn('npm', ['start'], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: '0',
        SQS_PORT: '0',
        LIMIO_SANDBOX_PORT: '0',
        DYNAMODB_PORT: '0',
        ZUORA_SANDBOX_PORT: '0',
        ZLS_RUNTIME_RECORD: recordFile,
      },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(npm, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    const stdout: string[] = [];
    let stderr = '';
    npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: npm.stdout! });
    const outputClosed = once(lines, 'close');
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        stdout.push(line);
        if (line.startsWith('Ready: ')) resolve();
      });
      void exited.then(() =>
        reject(new Error(`npm start ended before it was ready:\n${stdout.join('\n')}\n${stderr}`)),
      );
    });
    left = await descendantsOf(npm.pid!);
    expect(existsSync(recordFile)).toBe(true);

    const sqsEmulator = await onlyDescendantRunning(npm.pid!, 'sqs-emulator-server.mjs');
    process.kill(sqsEmulator.pid, 'SIGKILL');
    const [code] = await exited;
    await outputClosed;

    expect(code).toBe(1);
    const errorLines = stderr.split('\n');
    expect(errorLines.filter((line) => line.includes('emulator exited'))).toEqual([
      'SQS emulator exited unexpectedly (killed by SIGKILL). What it held in memory is gone: stopping the runtime.',
    ]);
    // The receives that failed before the exit was heard, at most; none after.
    expect(errorLines.filter((line) => line.startsWith('worker error')).length).toBeLessThanOrEqual(2);
    // Stopped as on Ctrl-C: the summary (without the queue counts: the queues are gone), the record removed,
    // every process of the runtime gone.
    expect(stdout.filter((line) => line.startsWith('Stopped.'))).toEqual([
      expect.not.stringContaining('left on the main queue'),
    ]);
    expect(existsSync(recordFile)).toBe(false);
    // (tsx's esbuild service ends once its pipe closes, a moment after.)
    expect(await survivors(left, 10_000)).toEqual([]);
  });
});

describe('startRuntime when the DynamoDB emulator is killed under it', () => {
  it('resolves emulatorExited with the emulator and the signal, leaves this process running, and still stops', async () => {
    const rec = recorder();
    const runtime = await start({}, rec);
    try {
      const dynamodb = await onlyDescendantRunning(process.pid, 'dynamodb-emulator-server.js');
      process.kill(dynamodb.pid, 'SIGKILL');
      const exit = await runtime.emulatorExited;
      expect(exit).toBeInstanceOf(EmulatorExitedError);
      expect(exit).toMatchObject({ emulator: 'DynamoDB emulator', signal: 'SIGKILL', code: null });
    } finally {
      await runtime.stop();
    }
    // stop() ends the SQS emulator too: an exit it asked for, not another report.
    expect((await descendantsOf(process.pid)).filter((p) => p.args.includes('emulator-server'))).toEqual([]);
  });
});

describe('isConnectionError: the worker errors npm start holds a moment, in case an emulator exit explains them', () => {
  it('is true for refused, reset and hung-up connections, false for anything else', () => {
    const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(isConnectionError(withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9324'))).toBe(true);
    expect(isConnectionError(withCode('ECONNRESET', 'socket hang up'))).toBe(true);
    expect(isConnectionError(new Error('socket hang up'))).toBe(true);
    expect(isConnectionError(withCode('EPIPE'))).toBe(true);
    expect(isConnectionError(new Error('the handler answered an invalid batchItemFailures list'))).toBe(false);
    expect(isConnectionError(withCode('ThrottlingException'))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});
