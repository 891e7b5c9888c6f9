'use strict';
// `--save` keeps no secret. tfx-cli's TfCommand.dispose (lib/tfcommand.js) writes a command's
// arguments to ~/.tfx/cache/.command-options (JSON, mode 0644, `<cwd>.<command group>.<arg>`),
// leaving out only --token, --password and --username by name: the password inside
// `--proxy http://user:PASSWORD@host` went to disk, and TFX_TRACE_CACHE printed the file on every
// later read. Every write of that file passes through scrub() here (the user name stays, the
// password goes), and a file an earlier run left with a secret is cleaned before tfx reads it.
// Each removal is said in one line on stderr.

const fs = require('node:fs');
const os = require('node:os');
const { URL_PASSWORD } = require('./secret-arguments');

const STORE = 'cache';
const ITEM = 'command-options';
// tfx's own secret arguments (SilentStringArgument); tfx skips them, a hand-edited file may not.
const SECRET_ARGS = new Set(['token', 'password']);

const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * The saved options without secrets.
 * @param {string} text  the file's content (JSON as tfx writes it; anything else is kept as is)
 * @returns {{ text: string, removed: string[] }}  `removed` describes each secret taken out
 */
function scrub(text) {
  let saved;
  try {
    saved = JSON.parse(text);
  } catch {
    return { text, removed: [] }; // tfx reads it as {} (and reset --all writes "")
  }
  const removed = new Set();
  const clean = (value, arg) => {
    if (typeof value === 'string') {
      const kept = value.replace(URL_PASSWORD, '$1@');
      if (kept !== value) removed.add(`the password in --${kebab(arg)}`);
      return kept;
    }
    if (Array.isArray(value)) return value.map((v) => clean(v, arg));
    if (value && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        if (SECRET_ARGS.has(key.toLowerCase())) {
          removed.add(`--${key.toLowerCase()}`);
          delete value[key];
        } else {
          // defineProperty: a key named __proto__ stays a plain property.
          Object.defineProperty(value, key, { value: clean(value[key], key), writable: true, enumerable: true, configurable: true });
        }
      }
    }
    return value;
  };
  saved = clean(saved, '');
  if (removed.size === 0) return { text, removed: [] };
  // tfx's own layout: 4-space JSON with the platform's line ends.
  return { text: JSON.stringify(saved, null, 4).replace(/\n/g, os.EOL), removed: [...removed] };
}

const WHERE = '~/.tfx/cache/.command-options';
const list = (removed) => removed.join(' and ');

/**
 * A DiskCache (lib/diskcache.js) whose `command-options` item never holds a secret: writes are
 * scrubbed, and the first read in a process cleans a file an earlier --save (stock tfx-cli's)
 * left with one, before tfx reads (and TFX_TRACE_CACHE prints) it.
 */
function withoutSavedSecrets(DiskCache, { stderr = process.stderr } = {}) {
  const isOptions = (store, name) => store === STORE && name === ITEM;
  let checked = false;
  return class DiskCacheWithoutSavedSecrets extends DiskCache {
    setItem(store, name, data) {
      if (!isOptions(store, name) || typeof data !== 'string') return super.setItem(store, name, data);
      const { text, removed } = scrub(data);
      if (removed.length > 0) stderr.write(`tfx-auth: --save did not save ${list(removed)} (secrets are never written to ${WHERE}).\n`);
      return super.setItem(store, name, text);
    }
    getItem(store, name) {
      if (isOptions(store, name) && !checked) {
        checked = true;
        this.cleanOldFile();
      }
      return super.getItem(store, name);
    }
    cleanOldFile() {
      const file = this.getFilePath(STORE, ITEM);
      let old;
      try {
        old = fs.readFileSync(file, 'utf8');
      } catch {
        return; // missing or unreadable: tfx's own read reports nothing either
      }
      const { text, removed } = scrub(old);
      if (removed.length === 0) return;
      fs.writeFileSync(file, text);
      stderr.write(`tfx-auth: removed ${list(removed)} from ${WHERE}, where an earlier --save had written it.\n`);
    }
  };
}

module.exports = { scrub, withoutSavedSecrets };
