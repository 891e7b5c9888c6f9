#!/usr/bin/env node
'use strict';
// npm's `install` step for tfx-auth. The prebuilt addon comes in an optional dependency,
// @tfx-auth/binding-<platform>. This checks that the addon loads; when it does not (no prebuilt
// package for this platform, npm left the optional dependency out, or it fails to load) it
// builds the addon from the shipped Rust sources if `cargo` is on PATH, and otherwise fails with
// one message naming the platform, the package and what to do.
//
// In a development checkout (not under node_modules) it does nothing: `npm ci` there must not
// build anything; `npm run build` and `npm test` build the addon.
//
//   TFX_AUTH_BUILD_FROM_SOURCE=1   build from source even when a prebuilt addon loads
//   CARGO_TARGET_DIR               reuse a cargo target folder (default: a temporary one)

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, addonInfo, addonMessage } = require('./platform.js');
const { CDYLIB_ARGS } = require('./cdylib.js');

const say = (line) => process.stderr.write(`tfx-auth: ${line}\n`);

/** null when the addon loads, else the generated loader's error. */
function loadError() {
  try {
    require(path.join(ROOT, 'index.js'));
    return null;
  } catch (error) {
    return error;
  }
}

/** `cargo` on PATH (cargo.exe on Windows), or null. */
function findCargo() {
  const exts = process.platform === 'win32' ? ['.exe'] : [''];
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) {
      const candidate = path.join(dir, `cargo${ext}`);
      try {
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** The file cargo writes for the cdylib on this OS. */
function cdylibName() {
  if (process.platform === 'win32') return 'tfx_auth.dll';
  if (process.platform === 'darwin') return 'libtfx_auth.dylib';
  return 'libtfx_auth.so';
}

function buildFromSource(cargo, info) {
  const ownTargetDir = !process.env.CARGO_TARGET_DIR;
  const targetDir = process.env.CARGO_TARGET_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'tfx-auth-build-'));
  say(`building the addon for ${info.platformArchABI} (${info.triple}) from source with ${cargo}; this takes a few minutes`);
  try {
    // The addon alone as a cdylib, as every build makes it (scripts/cdylib.js says why).
    const r = spawnSync(cargo, ['rustc', '--release', '--locked', ...CDYLIB_ARGS], {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CARGO_TARGET_DIR: targetDir },
    });
    if (r.status !== 0) return `cargo rustc failed (${r.error ? r.error.message : `exit ${r.status ?? r.signal}`}; its output is above)`;
    const built = path.join(targetDir, 'release', cdylibName());
    fs.copyFileSync(built, info.localFile);
    return null;
  } catch (error) {
    return `the source build failed: ${error.message}`;
  } finally {
    if (ownTargetDir) fs.rmSync(targetDir, { recursive: true, force: true });
  }
}

function main() {
  const underNodeModules = ROOT.split(path.sep).includes('node_modules');
  const forced = /^(1|true)$/i.test(process.env.TFX_AUTH_BUILD_FROM_SOURCE || '');
  if (!underNodeModules && !forced) return 0; // a development checkout

  const info = addonInfo();
  const cause = forced ? null : loadError();
  if (!forced && !cause) return 0;
  const cargo = findCargo();
  if (!cargo) {
    const extra = 'cargo is not on PATH, so the addon could not be built from source during the install.';
    process.stderr.write(`${addonMessage({ cause, extra })}\n`);
    return 1;
  }
  const failure = buildFromSource(cargo, info);
  if (failure) {
    process.stderr.write(`${addonMessage({ cause, extra: `Building it from source failed: ${failure}.` })}\n`);
    return 1;
  }
  const after = loadError();
  if (after) {
    process.stderr.write(`${addonMessage({ cause: after })}\n`);
    return 1;
  }
  say(`built ${path.basename(info.localFile)} from source`);
  return 0;
}

// Exit explicitly: a loaded addon may keep threads that are none of npm's business.
process.exit(main());
