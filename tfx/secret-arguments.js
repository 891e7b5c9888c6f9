'use strict';
// Secrets on the command line (`tfx login --token X`, `--password X`, `--proxy
// http://user:PASSWORD@host`) are visible to every local user through `ps` for as long as the
// command runs. The `tfx` and `tfx-auth` bins call hideSecretArguments() before anything else;
// it overwrites the arguments the operating system shows, leaving process.argv (which tfx-cli
// reads) as it was.
// Linux: Node 20's process.title does not change /proc/<pid>/cmdline (libuv 1.46; Node 24's
// does), so the argument area the kernel reports (/proc/self/stat fields 48-49) is rewritten
// through /proc/self/mem on every Node: the masked arguments, each still its own argument, then
// NUL bytes (the secret's length is not kept).
// macOS and others: process.title, which libuv writes over argv there. Windows: left alone
// (another user cannot read a process's command line without administrator rights).
// What remains is said in the README's threat model: the moments before this runs, and the
// shell's history.

const fs = require('node:fs');

const MASK = '***';
// `scheme://user:password@`: the password in the user info of a URL, anywhere in a value; up to
// the last `@` before the path, as URL parsers read it (a typed `p@ss` or `me@corp` included).
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/?#\s:]*):[^/?#\s]*@/gi;
// tfx-cli's secret arguments (SilentStringArgument), by the name lodash.camelCase gives a flag.
const SECRET_FLAGS = new Set(['token', 'password']);

// lodash.camelCase drops every separator and case: compare letters and digits alone (a
// spelling that camelCase would read otherwise, `--to-ken`, is masked too: harmless).
const flagName = (arg) => arg.replace(/[^a-z0-9]/gi, '').toLowerCase();

/** Whether the values after `arg` are a secret: --token, --password (any spelling), -t, -ut. */
function startsSecretValues(arg) {
  if (arg.startsWith('--')) return SECRET_FLAGS.has(flagName(arg));
  return arg.length > 1 && arg.endsWith('t'); // -abc: the values belong to the last letter
}

/** The arguments with every secret replaced by ***; the same array when there is none. */
function maskArguments(args) {
  let secret = false;
  let changed = false;
  const masked = args.map((arg) => {
    let out = arg;
    if (arg.startsWith('-')) {
      secret = startsSecretValues(arg);
      const eq = arg.indexOf('=');
      if (eq > 0 && SECRET_FLAGS.has(flagName(arg.slice(0, eq)))) out = `${arg.slice(0, eq + 1)}${MASK}`;
    } else if (secret) {
      out = MASK;
    }
    out = out.replace(URL_PASSWORD, `$1:${MASK}@`);
    if (out !== arg) changed = true;
    return out;
  });
  return changed ? masked : args;
}

// The argument area of this process: /proc/self/stat fields 48 (arg_start) and 49 (arg_end).
function argumentArea() {
  const stat = fs.readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3
  const start = Number(fields[45]);
  const end = Number(fields[46]);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end <= start) return null;
  return { start, end };
}

/** Overwrites this process's /proc/<pid>/cmdline with its arguments masked; whether it did. */
function rewriteLinuxCmdline() {
  const shown = fs.readFileSync('/proc/self/cmdline');
  // As the kernel has them: node's own options too, which process.argv leaves out.
  const args = shown.toString('latin1').split('\0').slice(0, -1);
  const masked = maskArguments(args);
  if (masked === args) return false;
  const area = argumentArea();
  if (!area) return false;
  const size = area.end - area.start;
  const next = Buffer.alloc(size); // NUL-filled
  const text = Buffer.from(`${masked.join('\0')}\0`, 'latin1');
  if (shown.length !== size || text.length > size) return false;
  text.copy(next);
  const fd = fs.openSync('/proc/self/mem', 'r+');
  try {
    // Only over memory that holds exactly what the kernel shows as the command line.
    const current = Buffer.alloc(size);
    if (fs.readSync(fd, current, 0, size, area.start) !== size || !current.equals(shown)) return false;
    return fs.writeSync(fd, next, 0, size, area.start) === size;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Hides the secrets among this process's arguments from other users. Never throws; returns
 * whether the shown command line was changed.
 */
function hideSecretArguments({ argv = process.argv, platform = process.platform } = {}) {
  try {
    if (platform === 'linux') return rewriteLinuxCmdline();
    if (platform === 'win32') return false;
    const args = [process.argv0, ...process.execArgv, ...argv.slice(1)];
    const masked = maskArguments(args);
    if (masked === args) return false;
    process.title = masked.join(' ');
    return true;
  } catch {
    return false;
  }
}

module.exports = { hideSecretArguments, maskArguments, URL_PASSWORD, MASK };
