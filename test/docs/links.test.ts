import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { ALL_COMMANDS } from '../../cli/command-table';

/**
 * What README.md and docs/ point at must exist: a reader who follows a link, runs an `npm run …` or a
 * `zuora-limio-sync …` command from them, or opens a file they name must not hit a dead end after code moves.
 * Commands and file paths are checked where the docs give them to be copied: in code (inline or fenced).
 */

const ROOT = path.join(__dirname, '..', '..');

interface Problem {
  readonly file: string;
  readonly line: number;
  readonly problem: string;
}

interface Known {
  /** package.json scripts. */
  readonly scripts: ReadonlySet<string>;
  /** Full CLI command names, e.g. "dlq replay". */
  readonly commands: ReadonlySet<string>;
  /** Whether a path relative to the repository root exists. */
  readonly exists: (repoPath: string) => boolean;
  /** The text of another Markdown file (repository-relative), for its headings. */
  readonly read: (repoPath: string) => string | undefined;
}

/** Top-level folders whose paths the docs name. */
const SOURCE_FOLDERS = ['functions', 'local', 'cli', 'infra', 'bench', 'test', 'docs'];

/** npm's own commands the docs may name without a script of that name. */
const NPM_BUILT_INS = new Set([
  'ci',
  'install',
  'i',
  'exec',
  'x',
  'ls',
  'outdated',
  'audit',
  'pack',
  'version',
  'view',
]);

/** GitHub's heading anchors: rendered text, lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of linesOutsideFences(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const rendered = heading[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/[`*]/g, '')
      .replace(/<[^>]+>/g, '');
    const slug = rendered
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

function* linesOutsideFences(markdown: string): Generator<{ text: string; line: number }> {
  let fence: string | undefined;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const marker = /^\s*(```+|~~~+)/.exec(lines[i]!);
    if (marker) {
      if (fence === undefined) fence = marker[1]![0];
      else if (marker[1]![0] === fence) fence = undefined;
      continue;
    }
    if (fence === undefined) yield { text: lines[i]!, line: i + 1 };
  }
}

/** Code as the reader copies it: fenced blocks line by line, and inline code spans of the other lines. */
function* codeOf(markdown: string): Generator<{ code: string; line: number }> {
  let inFence = false;
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*(```+|~~~+)/.test(line)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) yield { code: line, line: i + 1 };
    else for (const span of line.matchAll(/(`+)(.+?)\1/g)) yield { code: span[2]!, line: i + 1 };
  }
}

/** Every problem of one Markdown file (repository-relative path) against what exists. */
function checkMarkdown(file: string, markdown: string, known: Known): Problem[] {
  const problems: Problem[] = [];
  const report = (line: number, problem: string) => problems.push({ file, line, problem });

  for (const { text, line } of linesOutsideFences(markdown)) {
    const prose = text.replace(/(`+).+?\1/g, '');
    for (const link of prose.matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = link[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const resolved =
        pathPart === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), pathPart));
      if (resolved.startsWith('..') || !known.exists(resolved)) {
        report(line, `link to ${target}: no file ${resolved}`);
        continue;
      }
      if (anchor !== undefined) {
        const text = resolved.endsWith('.md') ? known.read(resolved) : undefined;
        if (text === undefined || !headingAnchors(text).has(anchor))
          report(line, `link to ${target}: ${resolved} has no heading #${anchor}`);
      }
    }
  }

  for (const { code, line } of codeOf(markdown)) {
    for (const run of code.matchAll(/\bnpm\s+(?:run|run-script)\s+(?:(?:-s|--silent)\s+)?([a-z][\w:.-]*)/g)) {
      if (!known.scripts.has(run[1]!)) report(line, `npm run ${run[1]}: no such script in package.json`);
    }
    for (const npm of code.matchAll(/(?:^|[\s;&|(])npm\s+([a-z][\w:.-]*)/g)) {
      const name = npm[1]!;
      if (name === 'run' || name === 'run-script') continue;
      if (!known.scripts.has(name) && !NPM_BUILT_INS.has(name))
        report(line, `npm ${name}: neither a script in package.json nor an npm command`);
    }
    const invocations = [
      ...code.matchAll(/(?:^|[^\w@/-])zuora-limio-sync((?:\s+[a-z][a-z-]*){0,2})/g),
      ...code.matchAll(/\bnpm\s+run\s+(?:(?:-s|--silent)\s+)?cli\s+--((?:\s+[a-z][a-z-]*){0,2})/g),
    ];
    for (const invocation of invocations) {
      const words = invocation[1]!.trim().split(/\s+/).filter(Boolean);
      if (words.length === 0) continue;
      const named =
        words.length > 1 && known.commands.has(`${words[0]} ${words[1]}`) ? `${words[0]} ${words[1]}` : words[0]!;
      if (!known.commands.has(named))
        report(
          line,
          `zuora-limio-sync ${words.join(' ')}: no such CLI command (commands: ${[...known.commands].join(', ')})`,
        );
    }
    for (const run of code.matchAll(/\bnpx\s+(?:tsx|jest)\s+([\w./-]+\.(?:ts|js|mjs))/g)) {
      if (!known.exists(run[1]!)) report(line, `${run[0]}: no file ${run[1]}`);
    }
    // A source path named as code (`functions/sync/handler.ts`, `cli/commands/`) must still be there.
    const named = new RegExp(`^(?:${SOURCE_FOLDERS.join('|')})/[\\w./-]*$`).exec(code.trim());
    if (named && !known.exists(named[0].replace(/\/$/, ''))) report(line, `${named[0]}: no such file or folder`);
  }
  return problems;
}

function documentationFiles(): string[] {
  const docs = readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs.sort()];
}

function repositoryKnown(): Known {
  const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  return {
    scripts: new Set(Object.keys(packageJson.scripts)),
    commands: new Set(ALL_COMMANDS.map((command) => command.name)),
    exists: (repoPath) => existsSync(path.join(ROOT, repoPath)),
    read: (repoPath) => {
      const full = path.join(ROOT, repoPath);
      return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
    },
  };
}

describe('README.md and docs/', () => {
  const known = repositoryKnown();

  it.each(documentationFiles())('%s: every relative link, npm script, CLI command and file named exists', (file) => {
    const problems = checkMarkdown(file, readFileSync(path.join(ROOT, file), 'utf8'), known);
    expect(problems.map((p) => `${p.file}:${p.line}: ${p.problem}`)).toEqual([]);
  });

  it('has the guides the README links to', () => {
    expect(documentationFiles().length).toBeGreaterThanOrEqual(9);
  });
});

describe('the checker itself', () => {
  const known: Known = {
    scripts: new Set(['start', 'test', 'bench', 'cli']),
    commands: new Set(['dlq list', 'dlq replay', 'trace', 'status']),
    exists: (repoPath) => ['docs/a.md', 'docs/b.md', 'README.md', 'bench/main.ts'].includes(repoPath),
    read: (repoPath) =>
      repoPath === 'docs/b.md'
        ? '# Guide B\n\n## The `npm start` runtime\n\n## Events & Notifications: a / b\n'
        : undefined,
  };
  const problems = (markdown: string) =>
    checkMarkdown('docs/a.md', markdown, known).map((p) => `${p.line}: ${p.problem}`);

  it('accepts what exists', () => {
    const markdown = [
      '[b](b.md), [runtime](b.md#the-npm-start-runtime), [events](b.md#events--notifications-a--b), [home](../README.md), [site](https://limio.com)',
      'Run `npm ci && npm start`, `npm run bench -- --quick`, `npm run -s cli -- dlq list --json`, `npm test`.',
      '```sh',
      'npx zuora-limio-sync dlq replay --stack S --dry-run',
      'zuora-limio-sync trace A-S00000271',
      'zuora-limio-sync --help',
      '```',
    ].join('\n');
    expect(problems(markdown)).toEqual([]);
  });

  it('reports a missing file, a missing heading, an unknown script, an unknown command, with their lines', () => {
    const markdown = [
      'See [c](c.md).',
      'See [b](b.md#no-such-heading).',
      '',
      '`npm run benchmark`',
      '```sh',
      'zuora-limio-sync dlq purge --stack S',
      'npm run cli -- breaker flip',
      'npx tsx bench/gone.ts',
      '```',
      'The handler is `functions/gone.ts`; the runner `bench/main.ts`.',
    ].join('\n');
    expect(problems(markdown)).toEqual([
      '1: link to c.md: no file docs/c.md',
      '2: link to b.md#no-such-heading: docs/b.md has no heading #no-such-heading',
      '4: npm run benchmark: no such script in package.json',
      '6: zuora-limio-sync dlq purge: no such CLI command (commands: dlq list, dlq replay, trace, status)',
      '7: zuora-limio-sync breaker flip: no such CLI command (commands: dlq list, dlq replay, trace, status)',
      '8: npx tsx bench/gone.ts: no file bench/gone.ts',
      '10: functions/gone.ts: no such file or folder',
    ]);
  });

  it('does not take a link shown as code for a link', () => {
    expect(problems('`[x](nowhere.md)`\n```\n[y](nowhere.md)\n```')).toEqual([]);
  });
});
