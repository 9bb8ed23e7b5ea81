import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { formatMilliseconds, formatNumber, median, type Figure } from './figures';

/**
 * How fast the operator's command starts (issue #23): `npx zuora-limio-sync --help` against `npx` starting a
 * compiled no-op (esbuild's native `--version`), and the CLI's own script (`node cli/bin.js --help`) against a
 * bare `node -e 0`, the four interleaved run by run so that a busy machine weighs on each alike. The CLI is
 * built first, as `npm ci` builds it. Goals: at most 0.15 s over the npx baseline, at most 2× a bare node.
 *
 * Alone: npx tsx bench/cli-startup.ts [--runs N]
 */
const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'cli/bin.js');

const NPX_OVERHEAD_GOAL_MS = 150;
const NODE_RATIO_GOAL = 2;

interface Probe {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** What a correct run prints on stdout: a fast wrong answer is not a figure. */
  readonly prints: RegExp;
}

const NPX = process.platform === 'win32' ? 'npx.cmd' : 'npx';
const PROBES: readonly Probe[] = [
  {
    name: 'npx zuora-limio-sync --help',
    command: NPX,
    args: ['--no-install', 'zuora-limio-sync', '--help'],
    prints: /^zuora-limio-sync: operator commands/,
  },
  {
    name: 'npx esbuild --version',
    command: NPX,
    args: ['--no-install', 'esbuild', '--version'],
    prints: /^\d+\.\d+\.\d+/,
  },
  {
    name: 'node cli/bin.js --help',
    command: process.execPath,
    args: [BIN, '--help'],
    prints: /^zuora-limio-sync: operator commands/,
  },
  { name: 'node -e 0', command: process.execPath, args: ['-e', '0'], prints: /^$/ },
];

export interface CliStartupResult {
  readonly runs: number;
  /** Median wall time of each probe, by name. */
  readonly medianMs: Readonly<Record<string, number>>;
  readonly npxOverheadMs: number;
  readonly nodeRatio: number;
  /** Runs that exited non-zero or printed something else. */
  readonly failures: readonly string[];
}

export async function measureCliStartup(options: { runs: number }): Promise<CliStartupResult> {
  // Plain JavaScript, run at install before anything is compiled, hence require.
  const { buildCli } = require(path.join(ROOT, 'cli/build.js')) as { buildCli: () => Promise<string> };
  await buildCli();
  const times = new Map<string, number[]>(PROBES.map((probe) => [probe.name, []]));
  const failures: string[] = [];
  // The npm environment variables of `npm run bench` would change how npx behaves; the caches warm up once.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('npm_')));
  for (const probe of PROBES) spawnSync(probe.command, probe.args, { cwd: ROOT, env });
  for (let run = 0; run < options.runs; run++) {
    for (const probe of PROBES) {
      const started = process.hrtime.bigint();
      const result = spawnSync(probe.command, probe.args, { cwd: ROOT, env, encoding: 'utf8' });
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (result.status !== 0 || !probe.prints.test(result.stdout ?? '')) {
        failures.push(
          `${probe.name} exited ${result.status} printing ${JSON.stringify((result.stdout ?? '').slice(0, 80))} ${(result.stderr ?? '').slice(0, 200)}`,
        );
      }
      times.get(probe.name)!.push(elapsedMs);
    }
  }
  const medianMs = Object.fromEntries([...times].map(([name, samples]) => [name, median(samples)]));
  return {
    runs: options.runs,
    medianMs,
    npxOverheadMs: medianMs[PROBES[0].name] - medianMs[PROBES[1].name],
    nodeRatio: medianMs[PROBES[2].name] / medianMs[PROBES[3].name],
    failures,
  };
}

export function cliStartupFigures(result: CliStartupResult): Figure[] {
  const ms = (name: string) => result.medianMs[name];
  const [npxCli, npxNoOp, nodeCli, bareNode] = PROBES.map((probe) => probe.name);
  const met = (ok: boolean) => (ok ? 'goal met' : 'GOAL NOT MET');
  return [
    {
      measure: `CLI start: ${npxCli} (median of ${result.runs})`,
      value: formatMilliseconds(ms(npxCli)),
      baseline: `${npxNoOp} (a compiled no-op): ${formatMilliseconds(ms(npxNoOp))}`,
      ratio: ms(npxCli) / ms(npxNoOp),
      note: `${formatNumber(result.npxOverheadMs)} ms over; goal at most ${NPX_OVERHEAD_GOAL_MS} ms over: ${met(result.npxOverheadMs <= NPX_OVERHEAD_GOAL_MS)}`,
    },
    {
      measure: `CLI start: ${nodeCli} (median of ${result.runs})`,
      value: formatMilliseconds(ms(nodeCli)),
      baseline: `${bareNode}: ${formatMilliseconds(ms(bareNode))}`,
      ratio: result.nodeRatio,
      note: `goal at most ${NODE_RATIO_GOAL}×: ${met(result.nodeRatio <= NODE_RATIO_GOAL)}; built at install, no AWS SDK loaded for --help`,
    },
  ];
}

if (require.main === module) {
  const runsFlag = process.argv.indexOf('--runs');
  const runs = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
  measureCliStartup({ runs })
    .then(async (result) => {
      const { renderTable } = await import('./figures');
      process.stdout.write(`${renderTable(cliStartupFigures(result))}\n`);
      if (result.failures.length > 0) {
        process.stdout.write(`\nINCORRECT RUN:\n${result.failures.map((failure) => `- ${failure}`).join('\n')}\n`);
        process.exitCode = 1;
      }
    })
    .catch((error: unknown) => {
      process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    });
}
