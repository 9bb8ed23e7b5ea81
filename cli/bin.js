#!/usr/bin/env node
// The `zuora-limio-sync` command: runs the TypeScript CLI through tsx's CommonJS hook, so a clone needs no build.
'use strict';
// Operators care about their queues, not the AWS SDK's notice that its 2027 releases need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
const { runCli } = require('./main.ts');

runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env }).then(
  (code) => {
    process.exitCode = code;
  },
);
