import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { median } from './figures';

/**
 * Each Lambda bundled exactly as the CDK construct bundles it (infra/constructs/bridge-function.ts:
 * NodejsFunction with local esbuild, minify, external source map without sources, target node24, CommonJS,
 * @aws-sdk/* left to the Lambda runtime), then loaded in fresh Node processes and timed against an empty
 * `node -e ""`.
 */
const PROJECT_ROOT = path.resolve(__dirname, '..');

export interface LambdaEntry {
  readonly name: string;
  readonly entry: string;
  /** The environment the function's config loader needs at module load (the handler modules read it then). */
  readonly env: Record<string, string>;
}

const LAMBDA_ENTRIES: readonly LambdaEntry[] = [
  {
    name: 'callout',
    entry: 'functions/callout/handler.ts',
    env: {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      CALLOUT_AUTH_SECRET_ID: 'zuora-limio-sync/callout-auth',
    },
  },
  {
    name: 'sync',
    entry: 'functions/sync/handler.ts',
    env: {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
      LIMIO_BASE_URL: 'https://tenant.example.com',
      LIMIO_SECRET_ID: 'zuora-limio-sync/limio',
    },
  },
  {
    name: 'sweep',
    entry: 'functions/sweep/handler.ts',
    env: {
      QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/main',
      LEDGER_TABLE_NAME: 'zuora-limio-sync-ledger',
      ZUORA_BASE_URL: 'https://rest.zuora.com',
      ZUORA_SECRET_ID: 'zuora-limio-sync/zuora',
    },
  },
];

/** The esbuild options NodejsFunction passes for the construct's `bundling` settings. */
function cdkEsbuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [path.join(PROJECT_ROOT, entry)],
    bundle: true,
    outfile,
    platform: 'node' as const,
    target: 'node24',
    format: 'cjs' as const,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external: ['@aws-sdk/*'],
    logLevel: 'silent' as const,
  };
}

export interface BundleFigures {
  readonly name: string;
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Median wall time of `node index.js`-style loads (spawn to exit), ms. */
  readonly loadMs: number;
  /** Median wall time of `node -e ""` in the same run, ms. */
  readonly emptyNodeMs: number;
  readonly loadRuns: readonly number[];
}

/**
 * Bundles into a folder inside the project, so the @aws-sdk/* modules the bundle leaves out resolve from
 * node_modules as they would from the Lambda runtime.
 */
async function buildBundles(
  entries: readonly LambdaEntry[] = LAMBDA_ENTRIES,
): Promise<{ dir: string; files: Map<string, string>; cleanup(): void }> {
  const parent = path.join(PROJECT_ROOT, 'node_modules', '.cache');
  mkdirSync(parent, { recursive: true });
  const dir = mkdtempSync(path.join(parent, 'zls-bench-'));
  const files = new Map<string, string>();
  for (const { name, entry } of entries) {
    const outfile = path.join(dir, name, 'index.js');
    await build(cdkEsbuildOptions(entry, outfile));
    files.set(name, outfile);
  }
  return { dir, files, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function timeNode(args: readonly string[], env: Record<string, string>): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stderr.toString().slice(0, 500)}`);
  return elapsedMs;
}

/** Loads the bundle the way the Lambda runtime does (require, then read the exported handler). */
function loadScript(file: string): string {
  return `const m = require(${JSON.stringify(file)}); if (typeof m.handler !== 'function') { process.exitCode = 3; }`;
}

export async function measureBundles(
  options: { runs: number },
  entries: readonly LambdaEntry[] = LAMBDA_ENTRIES,
): Promise<BundleFigures[]> {
  const bundles = await buildBundles(entries);
  try {
    const figures: BundleFigures[] = [];
    for (const entry of entries) {
      const file = bundles.files.get(entry.name)!;
      const env = { ...entry.env, AWS_REGION: 'eu-west-1', POWERTOOLS_METRICS_DISABLED: 'true' };
      // Interleaved, so a busy moment on the machine hits both series alike; the first pair warms the disk cache.
      timeNode(['-e', ''], env);
      timeNode(['-e', loadScript(file)], env);
      const empty: number[] = [];
      const loads: number[] = [];
      for (let run = 0; run < options.runs; run++) {
        empty.push(timeNode(['-e', ''], env));
        loads.push(timeNode(['-e', loadScript(file)], env));
      }
      figures.push({
        name: entry.name,
        bytes: statSync(file).size,
        sourceMapBytes: statSync(`${file}.map`).size,
        loadMs: median(loads),
        emptyNodeMs: median(empty),
        loadRuns: loads,
      });
    }
    return figures;
  } finally {
    bundles.cleanup();
  }
}
