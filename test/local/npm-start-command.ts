import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The node arguments of package.json's start script, so a test runs `npm start`'s entry exactly as npm does: one
 * node process. The tsx CLI would stand between, relay each signal and SIGKILL main.ts when it has not confirmed one
 * within 30 ms, which a loaded machine misses (exit 130, no clean stop).
 */
export function npmStartNodeArgs(): string[] {
  const root = path.join(__dirname, '..', '..');
  const { scripts } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [command, ...args] = scripts.start.trim().split(/\s+/);
  if (command !== 'node') throw new Error(`the start script no longer runs node directly: ${scripts.start}`);
  return args;
}
