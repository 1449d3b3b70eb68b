#!/usr/bin/env node
/**
 * The `sortition-node` command's entry. It checks the Node version before loading anything else: libp2p 3 and its
 * dependencies need Node >= 22 and, on an older Node, fail deep inside a subcommand (`Promise.withResolvers is not
 * a function`) after the database is open. So this module imports nothing statically (static imports would load
 * first) and loads the program only once the version is known to be good.
 */
const REQUIRED_MAJOR = 22;
const major = Number(process.versions.node.split('.')[0]);
if (!(major >= REQUIRED_MAJOR)) {
  process.stderr.write(
    `sortition-node: Node.js ${process.versions.node} (${process.execPath}) is too old: this program needs ` +
      `Node.js >= ${REQUIRED_MAJOR}. In a clone, run \`source scripts/node-env.sh\` first (it puts Node 24 on ` +
      `PATH) or use bin/sortition-node; otherwise install Node.js >= ${REQUIRED_MAJOR}.\n`,
  );
  process.exit(1);
}
await import('./program.js');
