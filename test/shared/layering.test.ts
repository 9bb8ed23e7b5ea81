import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/**
 * The folders under functions/ say what depends on what: shared/ depends on nothing, limio/ on shared/ only,
 * breaker/ on limio/ and shared/ only (the sync Lambda depends on the breaker, never the other way round).
 * Read from the import statements themselves, so a new import that breaks the layering fails here.
 */
const FUNCTIONS = resolve(__dirname, '../../functions');

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  shared: [],
  limio: ['shared'],
  breaker: ['limio', 'shared'],
};

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** The folder under functions/ it resolves to, or undefined for an npm package or node: module. */
  readonly folder?: string;
  /** The path under functions/ it resolves to. */
  readonly target?: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Static imports and re-exports (type-only too), side-effect imports, dynamic import() and require(). */
const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
  /\bimport\s*['"]([^'"]+)['"]/g,
  /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = new Set(
    IMPORT_PATTERNS.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!)),
  );
  return [...specifiers].map((specifier) => {
    if (!specifier.startsWith('.')) return { file, specifier };
    const target = relative(FUNCTIONS, resolve(dirname(file), specifier));
    return { file, specifier, folder: target.split(sep)[0], target: target.split(sep).join('/') };
  });
}

const files = sourceFiles(FUNCTIONS);
const imports = files.flatMap(importsOf);
const folderOf = (file: string) => relative(FUNCTIONS, file).split(sep)[0]!;
const describeImport = ({ file, specifier }: Import) => `${relative(FUNCTIONS, file)} imports ${specifier}`;

describe('layering of functions/', () => {
  it('reads the imports it checks', () => {
    // Guards against a pattern that silently matches nothing: these imports are known to exist.
    expect(imports.some((i) => folderOf(i.file) === 'breaker' && i.folder === 'limio')).toBe(true);
    expect(imports.some((i) => folderOf(i.file) === 'sync' && i.folder === 'breaker')).toBe(true);
    expect(imports.some((i) => folderOf(i.file) === 'sync' && i.folder === 'limio')).toBe(true);
  });

  it.each(Object.entries(ALLOWED))('%s/ imports only from %j (and npm packages)', (folder, allowed) => {
    const outside = imports.filter(
      (i) =>
        folderOf(i.file) === folder && i.folder !== undefined && i.folder !== folder && !allowed.includes(i.folder),
    );
    expect(outside.map(describeImport)).toEqual([]);
  });

  it('code outside limio/ imports Limio through its one entry, functions/limio/index.ts', () => {
    const intoLimio = imports.filter(
      (i) => folderOf(i.file) !== 'limio' && i.folder === 'limio' && i.target !== 'limio' && i.target !== 'limio/index',
    );
    expect(intoLimio.map(describeImport)).toEqual([]);
  });

  it('nothing imports from outside functions/ (the Lambdas are bundled from here alone)', () => {
    const escaping = imports.filter((i) => i.folder === '..');
    expect(escaping.map(describeImport)).toEqual([]);
  });
});
