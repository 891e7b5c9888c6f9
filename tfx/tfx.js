#!/usr/bin/env node
'use strict';
// The `tfx` command of tfx-auth: the real tfx-cli (tfx-auth's own dependency) with its login
// layer replaced. `tfx login` / `tfx logout` that need no prompt are answered without loading
// tfx-cli at all (fast.js); every other command line runs tfx-cli with the hook installed.

const path = require('node:path');

function tfxCliBuildDir() {
  try {
    return path.join(path.dirname(require.resolve('tfx-cli/package.json')), '_build');
  } catch {
    process.stderr.write('error: tfx-cli, which tfx-auth depends on, is not installed next to it. ' +
      'Reinstall tfx-auth (npm install -g tfx-auth).\n');
    process.exit(255);
  }
}

/**
 * @param {object} [o]
 * @param {string[]} [o.argv]      tfx's arguments (tfx-cli itself always reads process.argv)
 * @param {object|function} [o.addon]  the addon or a loader for it; default require('..'), lazily
 * @param {string} [o.buildDir]    tfx-cli's _build folder
 */
async function main({ argv = process.argv.slice(2), addon, buildDir = tfxCliBuildDir() } = {}) {
  const getAddon = typeof addon === 'function' ? addon : () => addon || require('..');
  // After an upgrade from stock tfx-cli: its plaintext logins move into the store first.
  await require('./actions').migrateFromStock(getAddon);
  const fast = require('./fast');
  const plan = fast.plan(argv, { buildDir });
  if (plan) return fast.run(plan, addon);
  require('./hook').install({ addon });
  require(path.join(buildDir, 'tfx-cli.js'));
  return undefined;
}

if (require.main === module) main();

module.exports = { main, tfxCliBuildDir };
