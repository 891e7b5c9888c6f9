#!/usr/bin/env node
'use strict';
// Before anything else: secrets among the arguments (--token X) out of `ps` (secret-arguments.js).
if (require.main === module) require('./secret-arguments').hideSecretArguments();
// The `tfx` command of tfx-auth: the real tfx-cli (tfx-auth's own dependency) with its login
// layer replaced. `tfx login` / `tfx logout` that need no prompt are answered without loading
// tfx-cli at all (fast.js); every other command line runs tfx-cli with the hook installed.
// Only what a command line needs is required: `tfx version` loads neither fast.js nor the addon.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/** The user's own cache folder (XDG_CACHE_HOME, ~/.cache, ~/Library/Caches, LOCALAPPDATA), or null. */
function cacheRoot({ env = process.env, platform = process.platform, home = os.homedir() } = {}) {
  if (platform === 'win32') return env.LOCALAPPDATA || null;
  if (platform === 'darwin') return home ? path.join(home, 'Library', 'Caches') : null;
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return env.XDG_CACHE_HOME;
  return home ? path.join(home, '.cache') : null;
}

/**
 * The folder for V8's compiled code of tfx-cli and tfx-auth, in the user's cache folder, or null.
 * Node keys each entry by the source's hash and its own version, so an upgrade never runs stale
 * code; the versions in the name only keep old entries from piling up in one folder.
 */
function compileCacheDir({ env = process.env, platform = process.platform, home = os.homedir(), versions } = {}) {
  const base = cacheRoot({ env, platform, home });
  if (!base || !versions) return null;
  return path.join(base, 'tfx-auth', 'compile-cache', `tfx-auth-${versions.tfxAuth}-tfx-cli-${versions.tfxCli}`);
}

// A folder another user can write, rename or replace could hand V8 code that is not tfx's, even
// after a check (swapped in between). So, on POSIX: every folder from the cache root down to
// `dir` is a real folder (no link) that is ours and writable by us alone, and no folder above the
// root lets another user rename it away (each is ours or root's, and not writable by others
// unless sticky, as /tmp). The root is checked both where it is named and where it leads. Windows
// keeps LOCALAPPDATA per user.
function privateDir(dir, root) {
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') {
    fs.mkdirSync(dir, { recursive: true });
    return true;
  }
  const uid = process.geteuid();
  const realRoot = fs.realpathSync(root);
  if (!safeAncestors(fs.realpathSync(path.dirname(root)), uid) || !safeAncestors(path.dirname(realRoot), uid)) return false;
  let current = realRoot;
  for (const part of ['', ...path.relative(root, dir).split(path.sep)]) {
    if (part) {
      current = path.join(current, part);
      try {
        fs.mkdirSync(current, { mode: 0o700 });
      } catch (err) {
        if (err.code !== 'EEXIST') throw err;
      }
    }
    const st = fs.lstatSync(current);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return false;
  }
  return true;
}

/** `dir` (a real path) and every folder above it: no other user can rename what is inside. */
function safeAncestors(dir, uid) {
  for (let current = dir; ; current = path.dirname(current)) {
    const st = fs.statSync(current);
    const othersWrite = (st.mode & 0o022) !== 0 && (st.mode & 0o1000) === 0;
    if ((st.uid !== uid && st.uid !== 0) || othersWrite) return false;
    if (path.dirname(current) === current) return true;
  }
}

function readVersion(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

/**
 * Keeps V8's compiled code of every module loaded from here on (tfx-cli's ~200 ms of module
 * loading, a quarter of it compiling) between runs: Node 22.1+'s module.enableCompileCache(), or
 * on older Nodes the same done by code-cache.js. The user's own NODE_COMPILE_CACHE (Node has then
 * enabled it already, in their folder) and NODE_DISABLE_COMPILE_CACHE win. Never throws: a
 * folder that cannot be created, is read-only or shared only means no cache.
 */
function enableCompileCache({ env = process.env, module = require('node:module'), cliPackage, fallback = () => require('./code-cache') } = {}) {
  if (env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return null;
  try {
    const versions = { tfxAuth: readVersion(path.join(__dirname, '..', 'package.json')), tfxCli: readVersion(cliPackage) };
    const dir = compileCacheDir({ env, versions });
    if (!dir || !privateDir(dir, cacheRoot({ env }))) return null;
    if (typeof module.enableCompileCache !== 'function') return fallback().install(dir) ? dir : null;
    const result = module.enableCompileCache(dir);
    return result && result.directory ? result.directory : null;
  } catch {
    return null;
  }
}

function tfxCliPackage() {
  try {
    return require.resolve('tfx-cli/package.json');
  } catch {
    process.stderr.write('error: tfx-cli, which tfx-auth depends on, is not installed next to it. ' +
      'Reinstall tfx-auth (npm install -g tfx-auth).\n');
    process.exit(255);
  }
}

function tfxCliBuildDir() {
  return path.join(path.dirname(tfxCliPackage()), '_build');
}

// fast.js answers only these; any other command line goes straight to tfx-cli (fast.plan would
// return null for it) without loading fast.js and what it requires.
const FAST_COMMANDS = new Set(['login', 'logout']);

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
  if (FAST_COMMANDS.has(argv[0])) {
    const fast = require('./fast');
    const plan = fast.plan(argv, { buildDir });
    if (plan) return fast.run(plan, addon);
  }
  require('./hook').install({ addon });
  require(path.join(buildDir, 'tfx-cli.js'));
  return undefined;
}

if (require.main === module) {
  const cliPackage = tfxCliPackage();
  enableCompileCache({ cliPackage });
  main({ buildDir: path.join(path.dirname(cliPackage), '_build') });
}

module.exports = { main, tfxCliBuildDir, compileCacheDir, enableCompileCache };
