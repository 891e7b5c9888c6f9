'use strict';
// Installs tfx-auth into tfx-cli. Wraps the CommonJS loader for `.js` files; when a module of a
// `tfx-cli/_build` tree has loaded, the matching patcher in seams.js rewires its exports before
// the requiring module carries on. Matching on the resolved file name (not on a require from
// here) finds whichever tfx-cli copy is running, including one started by a stock `tfx` bin
// under `node -r tfx-auth/register`.
// If the tree is not the shape seams.js expects, the process stops with the supported versions:
// running tfx-cli's plaintext store unnoticed is the one outcome this must never allow.

const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const { PATCHERS, ShapeError } = require('./seams');
const { SUPPORTED_TFX_VERSIONS } = require('./versions');
const { prewarm } = require('./prewarm');

const BUILD_FILE = /^(.*[\\/]tfx-cli[\\/]_build)[\\/](.+\.js)$/;
const ENTRIES = new Set(['tfx-cli.js', 'app.js']);

let state = null;

function lazyAddon(addon) {
  if (addon && typeof addon === 'object') return () => addon;
  const load = typeof addon === 'function' ? addon : () => require('..');
  let loaded;
  return () => {
    if (!loaded) loaded = load();
    return loaded;
  };
}

function tfxVersion(buildDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(buildDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

function stop(buildDir, detail) {
  const version = tfxVersion(buildDir);
  process.stderr.write(
    `error: tfx-auth cannot take over the login of this tfx-cli: ${detail} ` +
    `(tfx-cli ${version || 'of unknown version'} in ${path.dirname(buildDir)}). ` +
    `tfx-auth supports tfx-cli ${SUPPORTED_TFX_VERSIONS.join(', ')}: install that version, ` +
    'or use the tfx command that comes with tfx-auth.\n');
  process.exit(255);
}

// Before tfx-cli's entry runs: every module the hook rewires must exist where 0.23.1 has it, or
// a restructured release would run its own store without ever passing through a patcher.
function checkTree(buildDir) {
  for (const rel of Object.keys(PATCHERS)) {
    if (!fs.existsSync(path.join(buildDir, rel))) stop(buildDir, `${rel} is missing`);
  }
}

function split(filename) {
  if (!filename.includes('tfx-cli')) return null;
  const m = BUILD_FILE.exec(filename);
  return m ? { buildDir: m[1], rel: m[2].split(path.sep).join('/') } : null;
}

function patch(mod, filename) {
  const where = split(filename);
  const patcher = where && PATCHERS[where.rel];
  if (!patcher || state.patched.has(mod.exports)) return;
  try {
    patcher(mod.exports, state.ctx, filename);
    state.patched.add(mod.exports);
  } catch (err) {
    stop(where.buildDir, err instanceof ShapeError ? `${where.rel}: ${err.message}` : `${where.rel} could not be patched (${err.message})`);
  }
}

// Under `node -r tfx-auth/register`, a stock tfx bin is the main module: a login/logout the fast
// path can answer is answered here and tfx-cli's entry is never compiled.
function answeredFast(module, where) {
  if (!state.fastPath || module.id !== '.' || where.rel !== 'tfx-cli.js') return false;
  const fast = require('./fast');
  const plan = fast.plan(process.argv.slice(2), { buildDir: where.buildDir });
  if (!plan) return false;
  fast.run(plan, state.ctx.addon);
  return true;
}

/**
 * Installs the hook once per process (later calls may only supply the addon).
 * @param {object} [o]
 * @param {object|function} [o.addon]  the addon, or a function returning it; by default
 *   `require('..')`, loaded on first use so commands that need no credential never load it.
 * @param {boolean} [o.fastPath]  answer `tfx login` / `tfx logout` without loading tfx-cli when
 *   a stock tfx bin is the main module (register.js).
 */
function install({ addon, fastPath = false } = {}) {
  if (state) {
    if (addon) state.ctx.addon = lazyAddon(addon);
    return;
  }
  state = { ctx: { addon: lazyAddon(addon) }, patched: new WeakSet(), fastPath };
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = function tfxAuthLoadJs(module, filename) {
    const where = split(filename);
    if (where && ENTRIES.has(where.rel)) {
      checkTree(where.buildDir);
      if (answeredFast(module, where)) return undefined;
      if (where.rel === 'tfx-cli.js') prewarm(process.argv.slice(2), state.ctx.addon);
    }
    const result = loadJs.call(this, module, filename);
    if (where) patch(module, filename);
    return result;
  };
  // A tfx-cli module loaded before the hook: patch it now.
  for (const [filename, mod] of Object.entries(require.cache)) {
    if (mod && mod.loaded) patch(mod, filename);
  }
}

module.exports = { install, checkTree };
