/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // Integration tests start real servers (SQS emulator, Limio sandbox); the default 5 s is too tight on 2 cores.
  testTimeout: 30000,
  // The machine has 2 cores; more workers only thrash.
  maxWorkers: 2,
};
