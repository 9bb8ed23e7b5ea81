// Builds the CLI once, at install (`prepare`, which `npm ci` runs): one CommonJS file, cli/dist/main.js, so no
// command pays for compiling TypeScript. Packages stay external: Node loads only the ones a command reaches, and
// the AWS SDK (imported inside the commands that call AWS) not at all for --help, --version or a usage error.
'use strict';
const path = require('node:path');

const ENTRY = path.join(__dirname, 'main.ts');
const OUTFILE = path.join(__dirname, 'dist', 'main.js');

/** Bundles cli/main.ts into outfile (tests build into a directory of their own). */
async function buildCli(outfile = OUTFILE) {
  const esbuild = require('esbuild');
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    packages: 'external',
    // Linked, not inline: node reads the map only under --enable-source-maps, and an inline one quadruples what every start parses.
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return outfile;
}

module.exports = { buildCli, OUTFILE };

if (require.main === module) {
  buildCli().catch((error) => {
    process.stderr.write(`cli build failed: ${error.message}\n`);
    process.exitCode = 1;
  });
}
