import { BREAKER_CLOSE_COMMAND, BREAKER_OPEN_COMMAND } from './commands/breaker';
import { CALLOUT_COMMAND } from './commands/callout';
import { DLQ_LIST_COMMAND } from './commands/dlq-list';
import { DLQ_REPLAY_COMMAND } from './commands/dlq-replay';
import { ENQUEUE_COMMAND } from './commands/enqueue';
import { STATUS_COMMAND } from './commands/status';
import { SWEEP_COMMAND } from './commands/sweep';
import { TRACE_COMMAND } from './commands/trace';
import type { Command } from './command';

/** Every command of the CLI, in the order top-level --help lists them; `.name` is the command's full words ("dlq replay"). */
export const ALL_COMMANDS: readonly Command[] = [
  DLQ_LIST_COMMAND,
  DLQ_REPLAY_COMMAND,
  ENQUEUE_COMMAND,
  STATUS_COMMAND,
  BREAKER_OPEN_COMMAND,
  BREAKER_CLOSE_COMMAND,
  CALLOUT_COMMAND,
  TRACE_COMMAND,
  SWEEP_COMMAND,
];
