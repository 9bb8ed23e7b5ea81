import * as os from 'node:os';

/** Where and when a run happened, printed above its table so a figure is never quoted without its machine. */
export function describeMachine(command: string): string {
  const [one, five] = os.loadavg();
  return [
    `command: ${command}`,
    `date: ${new Date().toISOString()}`,
    `machine: ${os.availableParallelism()} cores (${os.cpus()[0]?.model.trim() ?? 'unknown cpu'}), ${(os.totalmem() / 1024 ** 3).toFixed(1)} GiB, ${os.platform()} ${os.release()}`,
    `node: ${process.version}; load average at start ${one!.toFixed(2)} (1 min) ${five!.toFixed(2)} (5 min)`,
  ].join('\n');
}
