import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The guides stay short enough to be read (issue #23): README.md and docs/*.md together at most WORD_LIMIT words,
 * counted as `wc -w` counts them (runs of characters between ASCII white space), so `wc -w README.md docs/*.md`
 * gives the same total when this test fails.
 */

const ROOT = path.join(__dirname, '..', '..');
const WORD_LIMIT = 13_000;

/** README.md and every Markdown file in docs/, as the link check reads them. */
function documentationFiles(): string[] {
  const guides = readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort();
  return ['README.md', ...guides.map((name) => `docs/${name}`)];
}

function wordCount(text: string): number {
  return text.split(/[ \t\n\r\f\v]+/).filter((word) => word.length > 0).length;
}

describe('the word counter', () => {
  it('counts as wc -w does: white space of any length separates, punctuation and code are words', () => {
    expect(wordCount('')).toBe(0);
    expect(wordCount('  \n\t ')).toBe(0);
    expect(wordCount('one')).toBe(1);
    expect(wordCount('| `npm start` | runs it — here |\n\n  two\twords\r\n')).toBe(11);
  });
});

describe('README.md and docs/', () => {
  it(`hold at most ${WORD_LIMIT.toLocaleString('en')} words together`, () => {
    const counts = documentationFiles().map((file) => ({
      file,
      words: wordCount(readFileSync(path.join(ROOT, file), 'utf8')),
    }));
    const total = counts.reduce((sum, { words }) => sum + words, 0);
    const detail = counts.map(({ file, words }) => `${file}: ${words}`).join(', ');
    expect({ total, withinLimit: total <= WORD_LIMIT, detail }).toEqual({ total, withinLimit: true, detail });
  });
});
