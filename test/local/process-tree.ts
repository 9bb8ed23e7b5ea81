import { execFile } from 'node:child_process';

// The processes a test started, as `ps` sees them: for killing one of them (an emulator) the way the system would.

export interface ProcessRow {
  readonly pid: number;
  readonly args: string;
}

function processTable(): Promise<Array<{ pid: number; ppid: number; args: string }>> {
  return new Promise((resolve, reject) => {
    execFile('ps', ['-eo', 'pid=,ppid=,args='], { maxBuffer: 16 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      resolve(
        stdout
          .split('\n')
          .map((line) => /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line))
          .filter((match): match is RegExpExecArray => match !== null)
          .map((match) => ({ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] })),
      );
    });
  });
}

/** Every process below rootPid, however deep (the detached emulators included: detached keeps the parent). */
export async function descendantsOf(rootPid: number): Promise<ProcessRow[]> {
  const table = await processTable();
  const found: ProcessRow[] = [];
  const parents = new Set([rootPid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const row of table) {
      if (parents.has(row.ppid) && !parents.has(row.pid)) {
        parents.add(row.pid);
        found.push({ pid: row.pid, args: row.args });
        grew = true;
      }
    }
  }
  return found;
}

/** The one process below rootPid whose command line contains `script`; throws naming what runs if not one. */
export async function onlyDescendantRunning(rootPid: number, script: string): Promise<ProcessRow> {
  const all = await descendantsOf(rootPid);
  const matching = all.filter((p) => p.args.includes(script));
  if (matching.length !== 1)
    throw new Error(
      `expected one process running ${script} below ${rootPid}, found:\n${all.map((p) => `${p.pid} ${p.args}`).join('\n')}`,
    );
  return matching[0];
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
