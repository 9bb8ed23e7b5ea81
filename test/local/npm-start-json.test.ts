import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

// `npm start -- --json` as a user runs it, through npm: npm writes its own "> name@version start" banner to stdout
// before the script runs, which only --silent stops. The documented `npm start --silent -- --json` gives JSON only;
// without --silent the runtime says so on stderr.

const ROOT = path.join(__dirname, '..', '..');

jest.setTimeout(90_000);

async function npmStartJson(npmArgs: string[]): Promise<{ stdout: string[]; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zls-json-'));
  const npm = spawn('npm', [...npmArgs, '--', '--json'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      SQS_PORT: '0',
      LIMIO_SANDBOX_PORT: '0',
      DYNAMODB_PORT: '0',
      ZUORA_SANDBOX_PORT: '0',
      ZLS_RUNTIME_RECORD: path.join(dir, 'runtime.json'),
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  npm.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: npm.stdout! });
  const exited = once(npm, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        stdout.push(line);
        if (line.includes('"message":"ready"')) resolve();
      });
      void exited.then(() =>
        reject(new Error(`npm start ended before it was ready:\n${stdout.join('\n')}\n${stderr}`)),
      );
    });
  } finally {
    process.kill(-npm.pid!, 'SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
  return { stdout, stderr };
}

describe('npm start --json through npm', () => {
  it('npm start --silent -- --json: every stdout line is JSON, up to the ready record', async () => {
    const { stdout, stderr } = await npmStartJson(['start', '--silent']);
    for (const line of stdout) expect(() => JSON.parse(line)).not.toThrow();
    expect(stdout.at(-1)).toContain('"runtimeRecord"');
    expect(stderr).not.toContain('banner');
  });

  it("npm start -- --json: npm's banner comes first on stdout, and the runtime names --silent on stderr", async () => {
    const { stdout, stderr } = await npmStartJson(['start']);
    expect(stdout.find((line) => line.trim() !== '')).toMatch(/^> zuora-limio-sync@\S+ start$/);
    expect(stderr).toContain('`npm start --silent -- --json` keeps stdout to JSON only');
  });
});
