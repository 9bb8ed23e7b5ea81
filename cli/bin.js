#!/usr/bin/env node
// The `zuora-limio-sync` command: runs the CLI as built at install (cli/build.js, the `prepare` script), so no
// command compiles TypeScript. After editing cli/ or functions/, `npm run build` brings it up to date.
'use strict';
// Operators care about their queues, not the AWS SDK's notice that its 2027 releases need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let cli;
try {
  cli = require('./dist/main.js');
} catch (error) {
  if (error.code !== 'MODULE_NOT_FOUND' || !String(error.message).includes('main.js')) throw error;
  process.stderr.write(
    'zuora-limio-sync is not built (cli/dist/main.js is missing): run `npm run build` (npm ci and npm install run it)\n',
  );
  process.exitCode = 1;
}

cli
  ?.runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
  })
  .then((code) => {
    process.exitCode = code;
  });
