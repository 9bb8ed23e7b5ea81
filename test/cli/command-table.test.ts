import { ALL_COMMANDS } from '../../cli/command-table';
import { runCli } from '../../cli/main';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { captureIo } from './queues';

// The table main.ts dispatches on, apart from parsing: every command in it is reachable by its full words and
// answers --help the same way whichever way it is asked (the docs test names commands by these words).
describe('the command table', () => {
  it('holds every command once, by its full words, in the order --help lists them', async () => {
    const names = ALL_COMMANDS.map((command) => command.name);
    expect(names).toEqual([
      'dlq list',
      'dlq replay',
      'enqueue',
      'status',
      'breaker open',
      'breaker close',
      'callout',
      'trace',
      'sweep',
    ]);
    const top = captureIo();
    expect(await runCli(['--help'], top.io)).toBe(0);
    const listed = top
      .stdout()
      .split('Commands:\n')[1]
      .split('\n\n')[0]
      .split('\n')
      .map((line) => line.trim().split(/\s{2,}/)[0]);
    expect(listed).toEqual(names);
  });

  it.each(ALL_COMMANDS.map((command) => [command.name, command] as const))(
    'finds "%s" by its words and prints its help',
    async (name, command) => {
      const asked = captureIo();
      expect(await runCli([...name.split(' '), '--help'], asked.io)).toBe(0);
      expect(asked.stdout()).toMatch(new RegExp(`^zuora-limio-sync ${name}: `));
      expect(asked.stdout()).toContain(`Usage: ${command.usage}\n`);
      expect(asked.stdout()).toContain(`Examples:\n${command.examples}\n`);
      const helpWord = captureIo();
      expect(await runCli(['help', ...name.split(' ')], helpWord.io)).toBe(0);
      expect(helpWord.stdout()).toBe(asked.stdout());
    },
  );
});

describe('conventions every command shares', () => {
  it('a command group alone names its subcommands instead of "unknown command"', async () => {
    const alone = captureIo();
    expect(await runCli(['dlq'], alone.io)).toBe(2);
    expect(alone.stderr()).toMatch(
      /Usage: zuora-limio-sync dlq <list\|replay> \[flags\]\n\nSubcommands:\n {2}dlq list {4}show what is in the dead-letter queue[^\n]*\n {2}dlq replay {2}move dead letters back/,
    );
    expect(alone.stderr()).not.toContain('unknown command');
    const asked = captureIo();
    expect(await runCli(['breaker', '--help'], asked.io)).toBe(0);
    expect(asked.stdout()).toContain('Usage: zuora-limio-sync breaker <open|close> [flags]');
    // A wrong subcommand is still an unknown command.
    const wrong = captureIo();
    expect(await runCli(['dlq', 'purge'], wrong.io)).toBe(2);
    expect(wrong.stderr()).toContain('error: dlq purge: unknown command');
  });

  it('--version prints the package version; every help states exit 3 apart from usage errors', async () => {
    const { version } = jest.requireActual<{ version: string }>('../../package.json');
    const asked = captureIo();
    expect(await runCli(['--version'], asked.io)).toBe(0);
    expect(asked.stdout()).toBe(`zuora-limio-sync ${version}\n`);
    const helps = [['--help'], ...ALL_COMMANDS.map((command) => [...command.name.split(' '), '--help'])];
    for (const args of helps) {
      const help = captureIo();
      expect(await runCli(args, help.io)).toBe(0);
      expect(help.stdout()).toContain('Exit codes: 0 ok, 1 partly failed, 2 usage error, 3 target unreachable');
    }
  });

  it('exits 3 when the target refuses the connection: the command line was right, nothing answers there', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const endpoint = `http://127.0.0.1:${port}`;
    const run = captureIo({
      AWS_ENDPOINT_URL_SQS: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect(await runCli(['dlq', 'list', '--dlq-url', `${endpoint}/000000000000/dlq`], run.io)).toBe(3);
    expect(run.stderr()).toContain(`error: cannot reach the target: connect ECONNREFUSED 127.0.0.1:${port}`);
  });
});
