import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { defaultBridge, httpBridge, sweepBridge } from '../infra/fixtures';

/**
 * docs/deploying.md's outputs table names every stack output, the ones CDK generates included (a REST API's
 * endpoint), and names none the stack does not have. Synthesised from the template tests' fixture stacks: the
 * default, an HTTP API and one with the sweep and fan-out, which between them hold every output.
 */

const GUIDE = path.join(__dirname, '..', '..', 'docs', 'deploying.md');

/** An output CDK names itself ends in an 8-hex hash of its path; the guide writes it as `Name…`. */
function documentedName(outputKey: string): string {
  return outputKey.replace(/[0-9A-F]{8}$/, '…');
}

/** The first cell's code names of each row of the table under the "## Outputs" heading. */
function namesInOutputsTable(markdown: string): Set<string> {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Outputs')) ?? '';
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const row = /^\|([^|]*)\|/.exec(line);
    if (!row || /^\|\s*:?-+/.test(line)) continue;
    for (const name of row[1]!.matchAll(/`([A-Za-z0-9…]+)`/g)) names.add(name[1]!);
  }
  return names;
}

describe('docs/deploying.md outputs table', () => {
  const outputs = new Set(
    [defaultBridge(), httpBridge(), sweepBridge()]
      .flatMap((stack) => Object.keys(Template.fromStack(stack).toJSON().Outputs ?? {}))
      .map(documentedName),
  );
  const documented = namesInOutputsTable(readFileSync(GUIDE, 'utf8'));

  it('finds outputs, the generated API endpoint among them (the collector itself works)', () => {
    expect(outputs.has('CalloutUrl')).toBe(true);
    expect([...outputs].some((name) => name.endsWith('…'))).toBe(true);
  });

  it('names every output of the stack', () => {
    expect([...outputs].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('names no output the stack does not have', () => {
    expect([...documented].filter((name) => !outputs.has(name))).toEqual([]);
  });
});

describe('the outputs table reader', () => {
  it('reads the first cell of the rows under ## Outputs only', () => {
    const markdown =
      '## Outputs\n\n| output | what |\n|---|---|\n| `CalloutUrl` | `NotThis` |\n| `ApiEndpoint…` (REST) | x |\n\n## Next\n\n| `Other` | y |\n';
    expect([...namesInOutputsTable(markdown)]).toEqual(['CalloutUrl', 'ApiEndpoint…']);
    expect(documentedName('BridgeCalloutApiEndpoint94906B92')).toBe('BridgeCalloutApiEndpoint…');
    expect(documentedName('CalloutUrl')).toBe('CalloutUrl');
  });
});
