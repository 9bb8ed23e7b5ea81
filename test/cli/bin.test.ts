import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { createQueuePair, startSqsEmulator, type QueuePair, type SqsEmulator } from '../../local/sqs-emulator';
import { depth } from './queues';

const BIN = path.join(__dirname, '../../cli/bin.js');

// Each run starts node on the built CLI (jest's globalSetup builds it); a busy 2-core machine can still be slow.
jest.setTimeout(90_000);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `zuora-limio-sync` executable, as an operator would. */
function zls(args: string[], env: Record<string, string> = {}, stdin?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}

describe('the zuora-limio-sync executable', () => {
  let emulator: SqsEmulator;
  let env: Record<string, string>;
  let localQueues: QueuePair;
  beforeAll(async () => {
    emulator = await startSqsEmulator();
    // The queue names of the `npm start` runtime, which --local looks up.
    localQueues = await createQueuePair(emulator.client());
    env = { SQS_PORT: String(emulator.port), PORT: '1' };
  });
  afterAll(async () => {
    await emulator.stop();
  });

  it('prints help with an example and exits 0', async () => {
    const top = await zls(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Commands:[\s\S]*dlq list[\s\S]*dlq replay[\s\S]*enqueue[\s\S]*status[\s\S]*callout/);
    const commands = [['dlq', 'list'], ['dlq', 'replay'], ['enqueue'], ['status'], ['callout']];
    const helps = await Promise.all(commands.map((command) => zls([...command, '--help'])));
    helps.forEach((help, index) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`zuora-limio-sync ${commands[index].join(' ')}:`);
      expect(help.stdout).toMatch(/Examples:\n {2}.*zuora-limio-sync /);
    });
    // A natively moved message has no replayCount, so the sync Lambda grants it no fresh retry budget: the
    // operator must learn that before choosing --native after an outage.
    const replayHelp = helps[1].stdout.replace(/\s+/g, ' ');
    expect(replayHelp).toContain(
      'no replayCount, so a moved message keeps its original receivedAt and gets NO fresh retry budget',
    );
    expect(replayHelp).toContain('use the default path, which adds replayCount and so a fresh budget');
  });

  it('exits 2 on a usage error and names the flag or input at fault', async () => {
    const badRate = await zls(['dlq', 'replay', '--local', '--rate', 'fast']);
    expect(badRate).toMatchObject({ code: 2, stdout: '' });
    expect(badRate.stderr).toContain('error: --rate: expected messages per second');

    const unknownFlag = await zls(['dlq', 'list', '--locale']);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("error: --locale: Unknown option '--locale'");

    const unknownCommand = await zls(['dlq', 'purge']);
    expect(unknownCommand.code).toBe(2);
    expect(unknownCommand.stderr).toContain('error: dlq purge: unknown command');

    const noArguments = await zls([]);
    expect(noArguments.code).toBe(2);
    expect(noArguments.stderr).toContain('Usage: zuora-limio-sync <command>');
  });

  it('exits 1 when some input was refused, 0 when all went through, against the --local runtime', async () => {
    const partly = await zls(['enqueue', '--local', '-'], env, 'A-S00000001\nA-S 2\n');
    expect(partly.code).toBe(1);
    expect(partly.stdout).toContain('refused line 2:');
    expect(partly.stdout).toContain('queued: 1, refused: 1');

    const status = await zls(['status', '--local', '--json'], env);
    expect(status.code).toBe(0);
    const { queues } = JSON.parse(status.stdout) as { queues: { queue: string; visible: number }[] };
    expect(queues.map((q) => [q.queue, q.visible])).toEqual([
      ['main', 1],
      ['dlq', 0],
    ]);
    expect(await depth(emulator.client(), localQueues.mainQueueUrl)).toEqual({ visible: 1, inFlight: 0 });
  });
});
