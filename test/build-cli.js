// Jest's globalSetup: the CLI built from the source under test, so that the tests which run cli/bin.js as an
// operator would (test/cli/bin.test.ts) never run a cli/dist/ left from before an edit.
'use strict';
const { buildCli } = require('../cli/build.js');

module.exports = async () => {
  await buildCli();
};
