import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { EmulatorExitedError, lastLine, startEmulatorProcess } from '../../local/emulator-process';

// A stand-in emulator, run as a real child process: it announces a port as the real ones do, then ends the way
// EMULATOR_END says (after `delayMs`), or only when stopped.
const SCRIPT = `
process.stdout.write(JSON.stringify({ port: 4321 }) + '\\n');
const end = process.env.EMULATOR_END;
setTimeout(() => {
  if (end === 'crash') {
    process.stderr.write('starting\\nFATAL: heap out of memory\\n\\n');
    process.exit(3);
  }
  if (end === 'sigkill') process.kill(process.pid, 'SIGKILL');
}, Number(process.env.EMULATOR_DELAY_MS ?? 0));
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  return Promise.race([promise, new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))]);
}

describe('startEmulatorProcess: an exit nobody asked for', () => {
  let dir: string;
  let script: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'emulator-process-'));
    script = path.join(dir, 'emulator.cjs');
    writeFileSync(script, SCRIPT);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a child killed by a signal, naming the emulator and the signal', async () => {
    const emulator = await startEmulatorProcess('SQS emulator', script, {
      EMULATOR_END: 'sigkill',
      EMULATOR_DELAY_MS: '50',
    });
    expect(emulator.port).toBe(4321);
    const exit = await emulator.unexpectedExit;
    expect(exit).toBeInstanceOf(EmulatorExitedError);
    expect(exit).toMatchObject({ emulator: 'SQS emulator', code: null, signal: 'SIGKILL', lastStderr: undefined });
    expect(exit.message).toBe('SQS emulator exited unexpectedly (killed by SIGKILL)');
    await emulator.stop();
  });

  it('reports a crash with its exit code and its last line on stderr', async () => {
    const emulator = await startEmulatorProcess('DynamoDB emulator', script, {
      EMULATOR_END: 'crash',
      EMULATOR_DELAY_MS: '50',
    });
    const exit = await emulator.unexpectedExit;
    expect(exit).toMatchObject({
      emulator: 'DynamoDB emulator',
      code: 3,
      signal: null,
      lastStderr: 'FATAL: heap out of memory',
    });
    expect(exit.message).toBe('DynamoDB emulator exited unexpectedly (exit code 3): FATAL: heap out of memory');
  });

  it('reports nothing for the exit stop() asks for, and nothing while the child runs', async () => {
    const emulator = await startEmulatorProcess('SQS emulator', script, {});
    expect(await within(emulator.unexpectedExit, 200)).toBe('pending');
    await emulator.stop();
    // Long enough for the child's streams to close after its exit, when a report would come.
    expect(await within(emulator.unexpectedExit, 300)).toBe('pending');
  });
});

describe('lastLine', () => {
  it('is the last line with text, trimmed, and undefined for none', () => {
    expect(lastLine('a\n  b  \n\n')).toBe('b');
    expect(lastLine(' \n')).toBeUndefined();
    expect(lastLine('x'.repeat(400))).toBe(`${'x'.repeat(300)}…`);
  });
});
