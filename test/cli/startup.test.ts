import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

// The CLI as `npm ci` builds it (cli/build.js, run by `prepare`), built afresh into a directory of this test so
// that it is the source under test, not whatever cli/dist holds. Each command runs under a hook that records
// every module Node loads: the AWS SDK is for the commands that call AWS, not for --help, --version or a typo.
const REPO = path.join(__dirname, '../..');
// Plain JavaScript (it runs at install, before anything is compiled), hence require.
const { buildCli } = require(path.join(REPO, 'cli/build.js')) as { buildCli: (outfile: string) => Promise<string> };

const RECORD_MODULES = `
const Module = require('node:module');
const load = Module._load;
const loaded = new Set();
Module._load = function (request, parent, isMain) {
  const exported = load.apply(this, arguments);
  try { loaded.add(Module._resolveFilename(request, parent, isMain)); } catch { loaded.add(request); }
  return exported;
};
process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_FILE, [...loaded].join('\\n')));
`;

jest.setTimeout(60_000);

let dir: string;
let built: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'zls-cli-'));
  built = await buildCli(path.join(dir, 'dist', 'main.js'));
  // The real bin.js beside it: it loads ./dist/main.js, as in the repository.
  await copyFile(path.join(REPO, 'cli/bin.js'), path.join(dir, 'bin.js'));
  await writeFile(path.join(dir, 'record-modules.js'), RECORD_MODULES);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  loaded: string[];
}

let runs = 0;
/** Runs the built CLI through bin.js, recording the modules it loaded. */
function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const loadedFile = path.join(dir, `loaded-${++runs}.txt`);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--require', path.join(dir, 'record-modules.js'), path.join(dir, 'bin.js'), ...args],
      // NODE_PATH: the bundle keeps packages external, and this directory is outside the repository.
      {
        env: {
          PATH: process.env.PATH ?? '',
          NODE_PATH: path.join(REPO, 'node_modules'),
          LOADED_MODULES_FILE: loadedFile,
          ...env,
        },
        timeout: 50_000,
      },
      async (error, stdout, stderr) => {
        const loaded = (await readFile(loadedFile, 'utf8').catch(() => '')).split('\n').filter(Boolean);
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, loaded });
      },
    );
  });
}

const awsSdk = (loaded: readonly string[]) => loaded.filter((module) => /[\\/]@aws-sdk[\\/]|^@aws-sdk\//.test(module));

describe('the built CLI starts without the AWS SDK', () => {
  it.each([
    ['--help', ['--help'], 0],
    ['--version', ['--version'], 0],
    ["a command's --help", ['dlq', 'replay', '--help'], 0],
    ['a command group alone', ['dlq'], 2],
    ['an unknown flag', ['status', '--locale'], 2],
    ['a missing target', ['status'], 2],
    ['a bad --since', ['sweep', '--local', '--since', 'yesterday'], 2],
  ])('%s loads no @aws-sdk module', async (_, args, code) => {
    const result = await run(args as string[]);
    expect(result.code).toBe(code);
    // The hook saw the bundle itself load: an empty record would prove nothing.
    expect(result.loaded).toContain(built);
    expect(awsSdk(result.loaded)).toEqual([]);
  });

  it('a command that talks to SQS does load it (the record would show a regression)', async () => {
    const result = await run(['status', '--local'], { SQS_PORT: '1' });
    expect(result.code).toBe(3);
    expect(awsSdk(result.loaded)).toEqual(expect.arrayContaining([expect.stringMatching(/client-sqs/)]));
  });

  it('bin.js without a build says how to make one', async () => {
    const bare = await mkdtemp(path.join(tmpdir(), 'zls-unbuilt-'));
    try {
      await copyFile(path.join(REPO, 'cli/bin.js'), path.join(bare, 'bin.js'));
      const result = await new Promise<{ code: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [path.join(bare, 'bin.js'), '--help'], (error, _stdout, stderr) =>
          resolve({ code: error ? Number((error as { code?: number }).code) : 0, stderr }),
        ),
      );
      expect(result).toEqual({
        code: 1,
        stderr: expect.stringContaining(
          'zuora-limio-sync is not built (cli/dist/main.js is missing): run `npm run build`',
        ),
      });
    } finally {
      await rm(bare, { recursive: true, force: true });
    }
  });

  it('prints the version of package.json', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const result = await run(['--version']);
    expect(result.stdout).toBe(`zuora-limio-sync ${version}\n`);
  });
});
