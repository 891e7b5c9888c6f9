'use strict';
// Which `tfx` a user's shell runs, and the line that hooks a stock one: for a machine that already
// had a global tfx-cli when tfx-auth came (both packages provide a `tfx` bin), used by
// `tfx-auth status` and `tfx-auth hook`.

const fs = require('node:fs');
const path = require('node:path');

/** tfx-auth's register.js, as an absolute path with links resolved (what NODE_OPTIONS needs). */
function registerPath() {
  return fs.realpathSync(path.join(__dirname, '..', 'register.js'));
}

// NODE_OPTIONS is split at spaces unless double-quoted (Node's own rule).
function requireOption(file) {
  return /[\s"]/.test(file) ? `--require "${file}"` : `--require=${file}`;
}

const SHELLS = {
  sh: (value) => `export NODE_OPTIONS='${value.replace(/'/g, `'\\''`)}'`,
  fish: (value) => `set -gx NODE_OPTIONS '${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`,
  powershell: (value) => `$env:NODE_OPTIONS = '${value.replace(/'/g, "''")}'`,
  cmd: (value) => `set "NODE_OPTIONS=${value}"`,
};

/** The line that makes every Node process of this shell (so a stock `tfx`) load the hook. */
function hookLine(shell = process.platform === 'win32' ? 'powershell' : 'sh', file = registerPath()) {
  const render = SHELLS[shell];
  if (!render) throw new Error(`unknown shell ${JSON.stringify(shell)}; use one of ${Object.keys(SHELLS).join(', ')}`);
  return render(requireOption(file));
}

// A project's own bin folder: npm (npm run, npm start, npx) puts every node_modules/.bin from the
// current folder up first on PATH for the script it runs; a shell of the user's has none of them.
const isProjectBin = (dir) => path.basename(dir) === '.bin' && path.basename(path.dirname(dir)) === 'node_modules';

/** The first `tfx` on PATH (with `skip(dir)`, leaving those folders out), or null. */
function firstTfxOnPath(env, platform = process.platform, skip = () => false) {
  const names = platform === 'win32' ? ['tfx.cmd', 'tfx.exe', 'tfx'] : ['tfx'];
  for (const dir of (env.PATH || '').split(path.delimiter).filter(Boolean)) {
    if (skip(dir)) continue;
    for (const name of names) {
      const candidate = path.join(dir, name);
      try {
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

// npm links a global bin to the package's file (on Windows a .cmd shim that names it).
const TFX_AUTH_BIN = /[\\/]tfx-auth[\\/]tfx[\\/]tfx\.js\b/;
// tfx-auth's bin in a folder of another name (a clone, a link to a work tree).
function isTfxAuthBin(target) {
  if (TFX_AUTH_BIN.test(target)) return true;
  if (path.basename(target) !== 'tfx.js' || path.basename(path.dirname(target)) !== 'tfx') return false;
  try {
    return JSON.parse(fs.readFileSync(path.join(path.dirname(target), '..', 'package.json'), 'utf8')).name === 'tfx-auth';
  } catch {
    return false;
  }
}
const STOCK_BIN = /[\\/]tfx-cli[\\/]_build[\\/]tfx-cli\.js\b/;

// `target` is the bin's real path; on Windows, the shim beside `node_modules`.
function stockVersion(target, platform) {
  try {
    const modules = platform === 'win32' ? path.join(path.dirname(target), 'node_modules') : target.replace(STOCK_BIN, '');
    const pkg = path.join(modules, 'tfx-cli', 'package.json');
    return JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
  } catch {
    return null;
  }
}

/** Whether NODE_OPTIONS loads a tfx-auth register.js that exists. */
function hookedByNodeOptions(env) {
  const option = /--require(?:=|\s+)(?:"([^"]+)"|(\S+))/g;
  for (const match of (env.NODE_OPTIONS || '').matchAll(option)) {
    const file = match[1] || match[2];
    if (file === 'tfx-auth/register') return true;
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(file), 'package.json'), 'utf8'));
      if (pkg.name === 'tfx-auth' && path.basename(file, '.js') === 'register') return true;
    } catch {
      // not a file of tfx-auth's
    }
  }
  return false;
}

/**
 * What the first `tfx` on PATH is: `{ path, kind: 'tfx-auth' | 'tfx-cli' | 'other', version?,
 * hooked }`, or null when there is none. When it is in a project's node_modules/.bin, also
 * `projectBin: true`, `npmScript` (whether npm runs this process, and so put it there) and
 * `outside`: the first `tfx` on PATH outside such folders (what the user's shell runs), or null.
 */
function describeTfxOnPath(env, platform = process.platform) {
  const found = firstTfxOnPath(env, platform);
  if (!found) return null;
  const tfx = whatTfx(found, env, platform);
  if (!isProjectBin(path.dirname(found))) return tfx;
  const outside = firstTfxOnPath(env, platform, isProjectBin);
  return { ...tfx, projectBin: true, npmScript: !!env.npm_lifecycle_event, outside: outside ? whatTfx(outside, env, platform) : null };
}

/** What the `tfx` at `found` is (see describeTfxOnPath). */
function whatTfx(found, env, platform) {
  let target = found;
  try {
    target = platform === 'win32' ? fs.readFileSync(found, 'utf8') : fs.realpathSync(found);
  } catch {
    // unreadable: reported as 'other'
  }
  if (isTfxAuthBin(target)) return { path: found, kind: 'tfx-auth', hooked: true };
  if (STOCK_BIN.test(target)) {
    const real = platform === 'win32' ? found : target;
    return { path: found, kind: 'tfx-cli', version: stockVersion(real, platform), hooked: hookedByNodeOptions(env) };
  }
  return { path: found, kind: 'other', hooked: hookedByNodeOptions(env) };
}

/** One line for `tfx-auth status`. */
function describeTfx(tfx) {
  if (tfx && tfx.projectBin) {
    const why = tfx.npmScript ? 'first on PATH because npm runs this command' : 'first on PATH here';
    return `${describeOne(tfx)}, from a project's node_modules/.bin (${why}); outside project folders: ${describeOne(tfx.outside)}`;
  }
  return describeOne(tfx);
}

function describeOne(tfx) {
  if (!tfx) return 'none on PATH (tfx-auth\'s is installed with npm install -g tfx-auth)';
  switch (tfx.kind) {
    case 'tfx-auth': return `${tfx.path} (tfx-auth's: logins in the store above)`;
    case 'tfx-cli': {
      const what = `stock tfx-cli${tfx.version ? ` ${tfx.version}` : ''}`;
      return tfx.hooked
        ? `${tfx.path} (${what}, hooked by tfx-auth through NODE_OPTIONS)`
        : `${tfx.path} (${what}, NOT hooked: it keeps logins in plaintext under ~/.tfx; to hook it, run: tfx-auth hook)`;
    }
    default: return `${tfx.path} (not tfx-cli's nor tfx-auth's${tfx.hooked ? '; NODE_OPTIONS loads the hook' : ''})`;
  }
}

module.exports = { hookLine, registerPath, describeTfxOnPath, describeTfx, SHELLS };
