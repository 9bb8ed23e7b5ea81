import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface EmulatorProcess {
  readonly port: number;
  /** Ends the child (stdin closed, then SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Runs an emulator's server script (plain JavaScript, so the child needs no TypeScript loader) in a child process
 * that prints one JSON line `{"port":N}` once listening on 127.0.0.1, and exits when its stdin closes or on
 * SIGTERM/SIGINT. In a process of its own the emulator neither shares the runtime's event loop nor can take it
 * down, and it stops with whoever started it, however that ends.
 */
export async function startEmulatorProcess(name: string, script: string, env: NodeJS.ProcessEnv): Promise<EmulatorProcess> {
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    // Its own process group: a terminal's Ctrl-C goes to the runtime, which stops the emulator last, after
    // reading what it needs from it. The child still exits when our stdin pipe closes, however we end.
    detached: true,
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout! });
  const exited = once(child, 'exit').then(() => {
    throw new Error(`${name} exited before it was ready: ${stderr.trim() || 'no output'}`);
  });
  const ready = (async () => {
    for await (const line of lines) return JSON.parse(line) as { port: number };
    throw new Error(`${name} closed its output: ${stderr.trim()}`);
  })();
  const { port } = await Promise.race([ready, exited]);
  exited.catch(() => undefined);
  lines.close();
  child.stdout!.resume();
  return {
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = once(child, 'exit');
      child.stdin!.end();
      child.kill('SIGTERM');
      await gone;
    },
  };
}
