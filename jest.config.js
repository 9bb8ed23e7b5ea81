// The AWS SDK warns once per process that its 2027 releases will need Node 22. The Lambdas run on Node 24;
// on a Node 20 development machine the warning says nothing about the code under test, in every worker.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// npm start writes where it listens to a record the CLI's --local reads (local/runtime-record.ts). The runtimes the
// tests start write theirs here, never over a developer's own; no test reads it (a CLI test names its own record).
process.env.ZLS_RUNTIME_RECORD ??= require('node:path').join(
  require('node:os').tmpdir(),
  `zls-jest-${process.getuid?.() ?? 'user'}`,
  'runtime.json',
);

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // cli/bin.js runs the built CLI: built here from the source under test (about a third of a second).
  globalSetup: '<rootDir>/test/build-cli.js',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // Integration tests start real servers (SQS emulator, Limio sandbox); the default 5 s is too tight on 2 cores.
  testTimeout: 30000,
  // The machine has 2 cores; more workers only thrash.
  maxWorkers: 2,
};
