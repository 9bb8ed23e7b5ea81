// Builds the CLI once, at install (`prepare`, which `npm ci` runs): one CommonJS file, cli/dist/main.js, so no
// command pays for compiling TypeScript. Packages stay external: Node loads only the ones a command reaches, and
// the AWS SDK (imported inside the commands that call AWS) not at all for --help, --version or a usage error.
'use strict';
const fs = require('node:fs');
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

/**
 * `--link` (the `prepare` script): links the command into node_modules/.bin, where `npx zuora-limio-sync` finds it
 * at once. package.json declares no "bin" on purpose: for a bin of the project's own package, npx (npm 10, 11)
 * loads the whole installed tree and installs the project into its cache on every call, over a second before the
 * command starts (bench/cli-startup.ts).
 */
function linkCommand() {
  const binDir = path.join(__dirname, '..', 'node_modules', '.bin');
  const link = path.join(binDir, 'zuora-limio-sync');
  fs.mkdirSync(binDir, { recursive: true });
  fs.rmSync(link, { force: true });
  fs.symlinkSync(path.relative(binDir, path.join(__dirname, 'bin.js')), link);
}

module.exports = { buildCli, OUTFILE };

if (require.main === module) {
  // Linked first, whatever the build does: without the link, npx would look for the name in the registry.
  if (process.argv.includes('--link')) linkCommand();
  buildCli().catch((error) => {
    // An install without dev dependencies (npm ci --omit=dev) has no esbuild: it goes on without the CLI, and
    // cli/bin.js says how to build it. Any other failure fails the install.
    if (process.argv.includes('--link') && error.code === 'MODULE_NOT_FOUND' && /'esbuild'/.test(error.message)) {
      process.stderr.write(
        'zuora-limio-sync: esbuild is not installed (dev dependencies omitted?): the CLI is not built\n',
      );
      return;
    }
    process.stderr.write(`cli build failed: ${error.message}\n`);
    process.exitCode = 1;
  });
}
