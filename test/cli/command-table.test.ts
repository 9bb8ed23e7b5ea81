import { ALL_COMMANDS } from '../../cli/command-table';
import { runCli } from '../../cli/main';
import { captureIo } from './queues';

// The table main.ts dispatches on, apart from parsing: every command in it is reachable by its full words and
// answers --help the same way whichever way it is asked (the docs test names commands by these words).
describe('the command table', () => {
  it('holds every command once, by its full words, in the order --help lists them', async () => {
    const names = ALL_COMMANDS.map((command) => command.name);
    expect(names).toEqual(['dlq list', 'dlq replay', 'enqueue', 'status', 'breaker open', 'breaker close', 'callout', 'trace', 'sweep']);
    const top = captureIo();
    expect(await runCli(['--help'], top.io)).toBe(0);
    const listed = top.stdout().split('Commands:\n')[1].split('\n\n')[0].split('\n').map((line) => line.trim().split(/\s{2,}/)[0]);
    expect(listed).toEqual(names);
  });

  it.each(ALL_COMMANDS.map((command) => [command.name, command] as const))('finds "%s" by its words and prints its help', async (name, command) => {
    const asked = captureIo();
    expect(await runCli([...name.split(' '), '--help'], asked.io)).toBe(0);
    expect(asked.stdout()).toMatch(new RegExp(`^zuora-limio-sync ${name}: `));
    expect(asked.stdout()).toContain(`Usage: ${command.usage}\n`);
    expect(asked.stdout()).toContain(`Examples:\n${command.examples}\n`);
    const helpWord = captureIo();
    expect(await runCli(['help', ...name.split(' ')], helpWord.io)).toBe(0);
    expect(helpWord.stdout()).toBe(asked.stdout());
  });
});
