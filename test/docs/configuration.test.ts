import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * docs/configuration.md documents every environment variable once; this test keeps it true. It reads the source
 * of the folders below (whole folders, so modules that move between them stay covered) for the names the code
 * reads, the way the code reads them, and fails on a name read but not documented, a name documented but read
 * nowhere, and a name documented twice.
 */

const ROOT = path.join(__dirname, '..', '..');
const SCANNED_FOLDERS = ['functions', 'local', 'cli'];
const REFERENCE = path.join(ROOT, 'docs', 'configuration.md');

interface Place {
  readonly file: string;
  readonly line: number;
}

const NAME = '[A-Z][A-Z0-9_]*';
const QUOTED_NAME = new RegExp(`['"\`](${NAME})['"\`]`, 'g');
/** A parameter typed as a union of upper-case literals: `prefix: 'LIMIO' | 'ZUORA'`. */
const PREFIX_PARAMETER = /\b(\w+)\s*:\s*('[A-Z][A-Z0-9]*'(?:\s*\|\s*'[A-Z][A-Z0-9]*')*)/g;

function sourceFiles(folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') found.push(...sourceFiles(full));
    } else if (/\.(?:ts|mts|cts|js|mjs|cjs)$/.test(entry.name) && !/\.d\.ts$|\.test\.ts$/.test(entry.name)) {
      found.push(full);
    }
  }
  return found.sort();
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The text of `const IDENT … = <literal>` up to the end of its literal (brackets balanced). */
function constLiteral(text: string, identifier: string): { body: string; index: number } | undefined {
  const start = new RegExp(`\\bconst\\s+${identifier}\\b[^=]*=\\s*`).exec(text);
  if (!start) return undefined;
  const index = start.index + start[0].length;
  const open = text[index];
  if (open !== '{' && open !== '[') {
    const end = text.indexOf('\n', index);
    return { body: text.slice(index, end === -1 ? undefined : end), index };
  }
  let depth = 0;
  for (let i = index; i < text.length; i++) {
    if (text[i] === '{' || text[i] === '[') depth++;
    if (text[i] === '}' || text[i] === ']') depth--;
    if (depth === 0) return { body: text.slice(index, i + 1), index };
  }
  return { body: text.slice(index), index };
}

/**
 * Every environment variable name the code reads, with where. The forms, all used in the code today:
 * `env.NAME` / `process.env.NAME` / `env['NAME']`; a reader given the environment and a name
 * (`integer(env, 'NAME', …)`, `optionalString(env, 'NAME')`, `port(env, 'NAME', …)`, `rate(env, 'NAME')`, or
 * `checkEndpointVariables(flags, env, ['A', 'B'])`); a ConfigError or PortInUseError naming its variable; a table
 * of names (`const …VARIABLE(S)` or `…ENV_NAMES`, or any constant used as `env[CONSTANT…]`); and a name built
 * from a prefix parameter (`${prefix}_SECRET_ID` with `prefix: 'LIMIO' | 'ZUORA'`).
 */
function variablesReadByCode(folders: readonly string[] = SCANNED_FOLDERS): Map<string, Place[]> {
  const files = folders.flatMap((folder) => sourceFiles(path.join(ROOT, folder)));
  const texts = new Map(files.map((file) => [file, readFileSync(file, 'utf8')]));
  const read = new Map<string, Place[]>();
  const add = (name: string, file: string, text: string, index: number) => {
    const places = read.get(name) ?? [];
    places.push({ file: path.relative(ROOT, file), line: lineOf(text, index) });
    read.set(name, places);
  };
  const namesIn = (body: string, file: string, text: string, index: number) => {
    for (const match of body.matchAll(QUOTED_NAME)) add(match[1]!, file, text, index);
  };

  // A prefix such as 'LIMIO' in loadClientCredentials(env, 'LIMIO') is not itself a variable (see the last form).
  const prefixes = new Set<string>();
  for (const text of texts.values()) {
    for (const parameter of text.matchAll(PREFIX_PARAMETER)) {
      if (new RegExp(`\\$\\{${parameter[1]}\\}_`).test(text))
        for (const m of parameter[2]!.matchAll(/'([A-Z0-9]+)'/g)) prefixes.add(m[1]!);
    }
  }

  for (const [file, text] of texts) {
    const direct = [
      new RegExp(`\\benv\\??\\.(${NAME})\\b`, 'g'),
      new RegExp(`\\benv\\[\\s*['"\`](${NAME})['"\`]\\s*\\]`, 'g'),
      new RegExp(`\\benv\\s*,\\s*['"\`](${NAME})['"\`]`, 'g'),
      new RegExp(`\\bnew\\s+ConfigError\\(\\s*['"\`](${NAME})['"\`]`, 'g'),
      new RegExp(`\\bnew\\s+PortInUseError\\([^,()]*,\\s*['"\`](${NAME})['"\`]`, 'g'),
    ];
    for (const pattern of direct) {
      for (const match of text.matchAll(pattern))
        if (!prefixes.has(match[1]!)) add(match[1]!, file, text, match.index!);
    }

    for (const match of text.matchAll(/\benv\s*,\s*(\[[^\]]*\])/g)) namesIn(match[1]!, file, text, match.index!);

    // Tables of names, by the naming the code uses for them.
    for (const match of text.matchAll(/\bconst\s+([A-Z][A-Z0-9_]*(?:VARIABLES?|ENV_NAMES))\b/g)) {
      const literal = constLiteral(text, match[1]!);
      if (literal) namesIn(literal.body, file, text, literal.index);
    }

    // env[CONSTANT], env[CONSTANT.field], env[CONSTANT[key]]: the constant may be defined in another module.
    for (const match of text.matchAll(/\benv\[\s*([A-Z][A-Z0-9_]*)\b/g)) {
      for (const [otherFile, otherText] of texts) {
        const literal = constLiteral(otherText, match[1]!);
        if (literal) namesIn(literal.body, otherFile, otherText, literal.index);
      }
    }

    // `${prefix}_SECRET_ID` where the function takes `prefix: 'LIMIO' | 'ZUORA'`.
    for (const parameter of text.matchAll(PREFIX_PARAMETER)) {
      const values = [...parameter[2]!.matchAll(/'([A-Z0-9]+)'/g)].map((m) => m[1]!);
      for (const suffix of text.matchAll(new RegExp(`\\$\\{${parameter[1]}\\}_([A-Z0-9_]+)`, 'g'))) {
        for (const prefix of values) add(`${prefix}_${suffix[1]}`, file, text, suffix.index!);
      }
    }
  }
  return read;
}

/** The names in the first cell of each table row of the reference: what it documents, with the line. */
function documentedVariables(markdown: string): Map<string, number[]> {
  const documented = new Map<string, number[]>();
  markdown.split('\n').forEach((line, index) => {
    const row = /^\|([^|]*)\|/.exec(line);
    if (!row || /^\|\s*:?-+/.test(line)) return;
    for (const match of row[1]!.matchAll(new RegExp(`\`(${NAME})\``, 'g'))) {
      documented.set(match[1]!, [...(documented.get(match[1]!) ?? []), index + 1]);
    }
  });
  return documented;
}

describe('docs/configuration.md', () => {
  const read = variablesReadByCode();
  const documented = documentedVariables(readFileSync(REFERENCE, 'utf8'));
  const where = (places: readonly Place[]) => places.map((p) => `${p.file}:${p.line}`).join(', ');

  it('finds the variables the code reads (the collector itself works)', () => {
    for (const name of [
      'QUEUE_URL',
      'LIMIO_SECRET_ID',
      'ZUORA_CLIENT_SECRET',
      'CALLOUT_HMAC_KEY',
      'PORT',
      'ZLS_QUEUE_URL',
      'SWEEP_SLICE_SECONDS',
    ]) {
      expect(read.has(name)).toBe(true);
    }
  });

  it('documents every variable the code reads', () => {
    const missing = [...read]
      .filter(([name]) => !documented.has(name))
      .map(([name, places]) => `${name} (read at ${where(places)})`);
    expect(missing).toEqual([]);
  });

  it('documents no variable the code does not read', () => {
    const stale = [...documented]
      .filter(([name]) => !read.has(name))
      .map(([name, lines]) => `${name} (docs/configuration.md:${lines.join(', ')})`);
    expect(stale).toEqual([]);
  });

  it('documents each variable once', () => {
    const twice = [...documented]
      .filter(([, lines]) => lines.length > 1)
      .map(([name, lines]) => `${name} (docs/configuration.md:${lines.join(', ')})`);
    expect(twice).toEqual([]);
  });
});
