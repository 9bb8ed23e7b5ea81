import { parseArgs } from 'node:util';
import { ConfigError } from '../functions/shared/config-error';
import { subscriptionIdRuleFrom } from '../functions/shared/subscription-id';
import { ALL_COMMANDS } from './command-table';
import {
  BREAKER_TARGET_HELP,
  COMMON_OPTIONS,
  EXIT,
  EXIT_CODES_HELP,
  TARGET_HELP,
  type CliDependencies,
  type Command,
  type Values,
} from './command';
import { guardedIo, printable, type CliIo } from './output';
import type { TargetFlags, Targets } from './target-types';
import { version } from '../package.json';
import { isConnectionFailure, TargetUnreachable, UsageError } from './usage-error';

export type { CliDependencies } from './command';

/**
 * The `zuora-limio-sync` command line: finds the command (command-table.ts; each lives in commands/), parses its
 * flags, resolves its target once and runs it. Help texts and exit codes are decided here, for every command alike.
 */

function topLevelHelp(): string {
  const width = Math.max(...ALL_COMMANDS.map((c) => c.name.length));
  return `zuora-limio-sync: operator commands for the Zuora -> Limio bridge

Usage: zuora-limio-sync <command> [flags]   (zuora-limio-sync <command> --help for its flags)
       zuora-limio-sync --version

Commands:
${ALL_COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Tables show whole cells when stdout is not a terminal (a pipe, a file); on a terminal long cells are cut to
fit, and --wide shows them whole.

${EXIT_CODES_HELP}
  (1: some messages or lines were not handled)

Example:
  zuora-limio-sync status --local
`;
}

function commandHelp(command: Command): string {
  const usesQueues = command.needs?.mainQueue || command.needs?.deadLetterQueue;
  const targetHelp =
    command.targetHelp ?? (usesQueues ? TARGET_HELP : command.needs?.breaker ? BREAKER_TARGET_HELP : undefined);
  return `zuora-limio-sync ${command.name}: ${command.summary}

Usage: ${command.usage}

${command.flags}
${targetHelp ? `\n${targetHelp}\n` : ''}
${EXIT_CODES_HELP}

Examples:
${command.examples}
`;
}

/** Runs one command line; returns the exit code. Never calls process.exit, so tests can run it in-process. */
export async function runCli(
  argv: readonly string[],
  processIo: CliIo,
  dependencies: CliDependencies = {},
): Promise<number> {
  // Every write, whichever command makes it, passes the one filter: no text from data can steer the terminal.
  const io = guardedIo(processIo);
  let targets: Targets | undefined;
  const disposers: Array<() => void> = [];
  try {
    if (argv.length === 0) {
      io.stderr.write(topLevelHelp());
      return EXIT.usage;
    }
    if (argv[0] === '--version' || argv[0] === '-V') {
      io.stdout.write(`zuora-limio-sync ${version}\n`);
      return EXIT.ok;
    }
    if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
      const about = argv[0] === 'help' ? findCommand(argv.slice(1)) : undefined;
      io.stdout.write(about ? commandHelp(about.command) : topLevelHelp());
      return EXIT.ok;
    }
    const found = findCommand(argv);
    if (!found && (argv[0] === 'dlq' || argv[0] === 'breaker') && (argv.length === 1 || argv[1].startsWith('-'))) {
      // A command group alone names what it groups; --help on it is an answer, a bare group a usage error.
      const asked = argv[1] === '--help' || argv[1] === '-h';
      (asked ? io.stdout : io.stderr).write(groupHelp(argv[0]));
      return asked ? EXIT.ok : EXIT.usage;
    }
    if (!found) {
      const word = argv[0] === 'dlq' || argv[0] === 'breaker' ? `${argv[0]} ${argv[1] ?? ''}`.trim() : argv[0];
      throw new UsageError(word, `unknown command; commands: ${ALL_COMMANDS.map((c) => c.name).join(', ')}`);
    }
    const { command, rest } = found;
    const parsed = parseCommandLine(command, rest);
    if (parsed.values.help) {
      io.stdout.write(commandHelp(command));
      return EXIT.ok;
    }
    if (!command.positionals && parsed.positionals.length > 0) {
      throw new UsageError(parsed.positionals[0], `unexpected argument to "${command.name}"`);
    }
    const rule = subscriptionIdRuleFrom(io.env.SUBSCRIPTION_ID_PATTERN);
    const flags: TargetFlags = {
      local: parsed.values.local === true,
      stack: parsed.values.stack as string | undefined,
      queueUrl: parsed.values['queue-url'] as string | undefined,
      dlqUrl: parsed.values['dlq-url'] as string | undefined,
      url: parsed.values.url as string | undefined,
      breakerTable: parsed.values['breaker-table'] as string | undefined,
      ledgerTable: parsed.values['ledger-table'] as string | undefined,
      zuoraUrl: parsed.values['zuora-url'] as string | undefined,
      zuoraSecret: parsed.values['zuora-secret'] as string | undefined,
      allowNonAwsEndpoint: parsed.values['allow-non-aws-endpoint'] === true,
      allowInsecureTarget: parsed.values['allow-insecure-target'] === true,
    };
    // Targets, the breaker's store and the AWS clients are imported when a command first asks for them: --help,
    // --version and usage errors never load the AWS SDK (test/cli/startup.test.ts), which is most of a start's cost.
    const resolveOnce = async () =>
      (targets ??= await (await import('./targets')).resolveTargets(flags, io.env, command.needs ?? {}, dependencies));
    return await command.run({
      values: parsed.values,
      positionals: parsed.positionals,
      io,
      json: parsed.values.json === true,
      rule,
      targets: resolveOnce,
      flags,
      dependencies,
      onFinish: (dispose) => disposers.push(dispose),
      async breaker() {
        const { breaker, mainQueueUrl } = await resolveOnce();
        if (breaker === undefined) return { unavailable: 'this command does not use the breaker' };
        if (breaker.kind === 'unavailable') return { unavailable: breaker.reason };
        const { localBreakerControl, storeBreakerControl } = await import('./commands/breaker-control');
        if (breaker.kind === 'local') return { control: localBreakerControl(breaker.baseUrl) };
        if (dependencies.breakerStore)
          return { control: storeBreakerControl(dependencies.breakerStore(breaker.tableName)) };
        const [{ awsDynamoClient }, { DynamoDbBreakerStore }] = await Promise.all([
          import('./aws-clients'),
          import('../functions/breaker/dynamodb-store'),
        ]);
        const dynamo = awsDynamoClient(io.env, mainQueueUrl);
        disposers.push(() => dynamo.destroy());
        return { control: storeBreakerControl(new DynamoDbBreakerStore(dynamo, breaker.tableName)) };
      },
    });
  } catch (error) {
    if (error instanceof TargetUnreachable || isConnectionFailure(error)) {
      // The SDK wraps a refused connection as "AWS SDK error wrapper for Error: connect ECONNREFUSED …".
      const message =
        error instanceof TargetUnreachable
          ? error.message
          : `cannot reach the target: ${describe(error).replace(/^AWS SDK error wrapper for \w+: /, '')}`;
      io.stderr.write(
        `error: ${printable(message)}\n(exit 3: the target did not answer; is it running, and on the port the command used?)\n`,
      );
      return EXIT.unreachable;
    }
    if (error instanceof UsageError || error instanceof ConfigError) {
      const helpFor = findCommand(argv)?.command.name;
      io.stderr.write(
        `error: ${printable(error.message)}\n(see: zuora-limio-sync ${helpFor ? `${helpFor} ` : ''}--help)\n`,
      );
      return EXIT.usage;
    }
    io.stderr.write(`error: ${printable(describe(error))}\n`);
    return EXIT.partlyFailed;
  } finally {
    targets?.sqs.destroy();
    for (const dispose of disposers) dispose();
  }
}

/** `zuora-limio-sync dlq`: the subcommands of a group, as the top-level help lists them. */
function groupHelp(group: string): string {
  const members = ALL_COMMANDS.filter((command) => command.name.startsWith(`${group} `));
  const width = Math.max(...members.map((c) => c.name.length));
  return `zuora-limio-sync ${group}: needs a subcommand

Usage: zuora-limio-sync ${group} <${members.map((c) => c.name.split(' ')[1]).join('|')}> [flags]

Subcommands:
${members.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | undefined {
  for (const command of ALL_COMMANDS) {
    const words = command.name.split(' ');
    if (words.every((word, index) => argv[index] === word)) return { command, rest: argv.slice(words.length) };
  }
  return undefined;
}

function parseCommandLine(command: Command, args: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args,
      options: { ...command.options, ...COMMON_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Values, positionals };
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(-{1,2}[^' ]+)/.exec(message)?.[1] ?? command.name;
    throw new UsageError(flag, message.split('. ')[0].replace(/^Option '[^']*' /, ''));
  }
}

function describe(error: unknown): string {
  const name = (error as { name?: string }).name;
  const message = (error as Error).message ?? String(error);
  return name && name !== 'Error' && !message.startsWith(name) ? `${name}: ${message}` : message;
}

if (require.main === module) {
  runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    // runCli turns every failure of a command into an exit code; only its own clean-up (closing clients) can still
    // throw. Say so in the CLI's words rather than as an unhandled rejection's stack trace.
    (error: unknown) => {
      process.stderr.write(`error: ${printable(describe(error))}\n`);
      process.exitCode = EXIT.partlyFailed;
    },
  );
}
