#!/usr/bin/env node
// The one way this repository builds the addon: `npm run build` (release) and `build:debug`,
// scripts/build-if-stale.sh (npm test, npm run bench), scripts/test-installed.sh,
// scripts/build-release.sh and the release workflow all run it, so what a developer builds, tests
// and measures is the file users install. Arguments are `napi build`'s (it names the .node,
// writes index.js and index.d.ts). What changes is the cargo command napi starts: the library
// alone as a cdylib (scripts/cdylib.js says why and how). Plain Node, so it runs the same under
// cmd on Windows as under bash.
//
//   node scripts/build.mjs --platform --release [--target T [--cross-compile]] [--no-js] [--output-dir D]
import childProcess from 'node:child_process';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const { cdylibCommand } = require('./cdylib.js');

// napi starts cargo with child_process.spawn (`$CARGO` or `cargo`, then `build` or `zigbuild`).
// Rewrite that one call before napi's module binds `spawn`: syncBuiltinESMExports makes the
// ES module view of node:child_process (what napi imports) see the replacement.
const spawn = childProcess.spawn;
childProcess.spawn = function spawnCargoAsCdylib(command, args, options) {
  const cargo = process.env.CARGO || 'cargo';
  if (command !== cargo) return spawn.call(this, command, args, options);
  const rewritten = cdylibCommand(command, args);
  if (rewritten.args !== args) console.error(`build: ${rewritten.command} ${rewritten.args.join(' ')}`);
  return spawn.call(this, rewritten.command, rewritten.args, options);
};
syncBuiltinESMExports();

const { cli } = await import('@napi-rs/cli');
process.exitCode = await cli.run(['build', ...process.argv.slice(2)]);
