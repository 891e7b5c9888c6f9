'use strict';
// How cargo builds the addon, the one home of that decision: the crate's library linked as a
// cdylib alone (`cargo rustc --lib --crate-type cdylib`), never `cargo build`. Cargo.toml's
// crate-type also lists rlib, for `cargo test`, tests/ and fuzz/; built together with it, every
// public Rust item stays exported, LTO can neither drop nor internalise it, and the stripped addon
// was 1.4 MB larger (6.18 MB against 4.78 MB; BENCHMARKS.md). Used by scripts/build.mjs (every
// build in this repository and the release workflow) and scripts/install.js (the source fallback
// of an installed package). No dependencies.

/** What follows the cargo subcommand to build only the library, as a cdylib. */
const CDYLIB_ARGS = ['--lib', '--crate-type', 'cdylib'];

/**
 * The command and arguments that build the addon, from the ones `napi build` would run:
 * `cargo build …` becomes `cargo rustc --lib --crate-type cdylib …` and `cargo zigbuild …`
 * (napi's --cross-compile) becomes `cargo-zigbuild rustc --lib --crate-type cdylib …`, which
 * accepts the same `--target <triple>.<glibc>` spelling. napi's other builds (`xwin build`,
 * `watch`) throw: no build may link the rlib beside the addon unnoticed. Commands that build
 * nothing (`cargo metadata`) pass unchanged.
 */
function cdylibCommand(command, args) {
  const [subcommand, ...rest] = args;
  if (subcommand === 'build') return { command, args: ['rustc', ...CDYLIB_ARGS, ...rest] };
  if (subcommand === 'zigbuild') {
    return { command: process.platform === 'win32' ? 'cargo-zigbuild.exe' : 'cargo-zigbuild', args: ['rustc', ...CDYLIB_ARGS, ...rest] };
  }
  if (subcommand !== 'xwin' && subcommand !== 'watch') return { command, args };
  throw new Error(`tfx-auth: no cdylib form of \`${command} ${args.join(' ')}\` (scripts/cdylib.js)`);
}

module.exports = { CDYLIB_ARGS, cdylibCommand };
