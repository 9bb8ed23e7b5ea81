import type { ParseArgsConfig } from 'node:util';
import type { BreakerStore } from '../functions/breaker/breaker-store';
import type { SubscriptionIdRule } from '../functions/shared/subscription-id';
import type { BreakerControl } from './commands/breaker-control';
import type { CliIo } from './output';
import type { TargetDependencies, TargetFlags, TargetNeeds, Targets } from './target-types';

/**
 * What every command of the CLI is made of, and the flag sets and help texts several commands share, so each
 * command can live in its own module beside main.ts (which only parses the command line and dispatches).
 */

export const EXIT = { ok: 0, partlyFailed: 1, usage: 2, unreachable: 3 } as const;

/** The exit codes as every --help states them. */
export const EXIT_CODES_HELP =
  'Exit codes: 0 ok, 1 partly failed, 2 usage error, 3 target unreachable (not running, or another port).';

export type CliDependencies = TargetDependencies & {
  /** The breaker store of a table; defaults to DynamoDB (tests give a store of their own). */
  breakerStore?: (tableName: string) => BreakerStore;
};

export type Options = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options: Options;
  readonly positionals?: boolean;
  /** Flag lines for --help, beyond the target flags. */
  readonly flags: string;
  readonly examples: string;
  readonly needs?: TargetNeeds;
  /** The "Target" part of --help, when the command's targets differ from the queue commands' and the breaker's. */
  readonly targetHelp?: string;
  run(context: RunContext): Promise<number>;
}

export interface RunContext {
  readonly values: Values;
  readonly positionals: string[];
  readonly io: CliIo;
  readonly json: boolean;
  readonly rule: SubscriptionIdRule;
  /** Resolves (once) the queues/URL the command acts on. */
  targets(): Promise<Targets>;
  /** The circuit breaker of the target, or why there is none (commands that asked for `needs.breaker`). */
  breaker(): Promise<{ control: BreakerControl } | { unavailable: string }>;
  /** The target flags as given, for commands that name them back to the operator (a command line to run next). */
  readonly flags: TargetFlags;
  readonly dependencies: CliDependencies;
  /** Runs when the command has finished, whatever happened (clients to destroy). */
  onFinish(dispose: () => void): void;
}

export const DESTINATION_OPTIONS: Options = {
  'allow-non-aws-endpoint': { type: 'boolean' },
  'allow-insecure-target': { type: 'boolean' },
};
export const TARGET_OPTIONS: Options = {
  local: { type: 'boolean' },
  stack: { type: 'string' },
  'queue-url': { type: 'string' },
  'dlq-url': { type: 'string' },
  ...DESTINATION_OPTIONS,
};
export const COMMON_OPTIONS: Options = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  wide: { type: 'boolean' },
};

export const WIDE_HELP =
  '  --wide                whole cells on a terminal too (they are whole when stdout is a pipe or a file)';
export const BREAKER_TABLE_OPTION: Options = { 'breaker-table': { type: 'string' } };
export const BREAKER_TARGET_OPTIONS: Options = {
  local: { type: 'boolean' },
  stack: { type: 'string' },
  ...BREAKER_TABLE_OPTION,
  ...DESTINATION_OPTIONS,
};

const LOCAL_PORTS_HELP = `  --local finds the runtime by the record \`npm start\` writes once ready (its ports, queues and generated callout
  password; in $XDG_RUNTIME_DIR/zuora-limio-sync/ or the temporary directory, or ZLS_RUNTIME_RECORD). PORT, SQS_PORT,
  DYNAMODB_PORT and ZUORA_SANDBOX_PORT, when set, go over it.`;

const DESTINATION_HELP = `  Signed AWS requests go only to AWS endpoints over https, or to this machine (127.0.0.0/8, localhost, ::1):
  --allow-non-aws-endpoint  also to another https host (an SQS-compatible service you trust)
  --allow-insecure-target   also over plain http to a host that is not this machine (credentials in clear)`;

export const TARGET_HELP = `Target (pick one):
  --local               the \`npm start\` runtime (found as below; SQS emulator on 127.0.0.1:9324 without a record)
  --stack NAME          a deployed stack, queue URLs read from its CloudFormation outputs
  --queue-url URL       the main queue (or env ZLS_QUEUE_URL)
  --dlq-url URL         the dead-letter queue (or env ZLS_DLQ_URL)
  AWS credentials and region come from the usual AWS environment/profile; AWS_ENDPOINT_URL_SQS is honoured.
${DESTINATION_HELP}
${LOCAL_PORTS_HELP}`;

export const BREAKER_TARGET_HELP = `Target (pick one):
  --local               the \`npm start\` runtime (its breaker, at http://127.0.0.1:\${PORT:-3000}/_local/breaker)
  --stack NAME          a deployed stack, breaker table read from its BreakerTableName output
  --breaker-table NAME  the breaker's DynamoDB table (or env ZLS_BREAKER_TABLE)
  AWS credentials and region come from the usual AWS environment/profile; AWS_ENDPOINT_URL_DYNAMODB is honoured.
${DESTINATION_HELP}
${LOCAL_PORTS_HELP}`;
