/**
 * `npm start`: the whole pipeline on this machine (local/npm-start.ts). Under the tsx CLI, which `npm start`
 * runs, this process only waits for the runtime it starts outside tsx's signal relay (outside-tsx-relay.ts), so
 * it loads nothing else.
 */
import { isUnderTsxCli, runOutsideTsxRelay } from './outside-tsx-relay';

// The AWS SDK warns on Node 20 that its 2027 releases will need Node 22: true, but nothing a person trying the
// pipeline can act on here (the deployed Lambdas run Node 24). Set the variable to "false" to see it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

(isUnderTsxCli() ? runOutsideTsxRelay() : import('./npm-start').then(({ main }) => main(process.argv.slice(2)))).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(
      `npm start failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
