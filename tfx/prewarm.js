'use strict';
// Reading a stored login costs a D-Bus connection (~9 ms) and a keyring round trip. tfx-cli
// spends ~200 ms loading its module tree before it asks for credentials, so for commands that
// will ask, the addon starts both on a background thread right away (addon.warmUp) and the
// later getCredential is served from memory. Commands that never need a credential skip this,
// so `tfx version` still never loads the addon. The read-ahead is keyed by the addon's
// normalised URL (case of scheme and host, trailing slash), the same key getCredential asks for.

// Command word prefixes that never read a stored login.
const OFFLINE = [['version'], ['help'], ['login'], ['logout'], ['reset'], ['extension', 'create'], ['build', 'tasks', 'create']];

function commandWords(argv) {
  const words = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg.toLowerCase());
  }
  return words;
}

// lodash.camelCase, which tfx-cli applies to every `--flag` (tfcommand.js getGroupedArgs), reads
// `--service-url`, `--serviceUrl`, `--SERVICE_URL`, `--Service.Url` ... all as serviceUrl.
function camelName(flag) {
  const words = flag.replace(/([a-z\d])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z\d]+/).filter(Boolean);
  return words.map((w, i) => (i === 0 ? w : w[0].toUpperCase() + w.slice(1))).join('');
}

const isServiceUrlName = (name) => camelName(name) === 'serviceUrl';

/**
 * The service URL a command line gives, read as tfx-cli's getGroupedArgs reads it: `--<any
 * camelCase spelling of serviceUrl> <url>` or `-u <url>` (also as the last letter of `-xu`), a
 * repeated flag starting over, several words joined by a space. `--service-url=<url>` is not tfx
 * syntax (an unknown argument), so it is not read here either. Undefined when none is given: the
 * default URL will be used.
 */
function serviceUrlFlag(argv) {
  let url;
  let current = null;
  for (const arg of argv) {
    if (arg.startsWith('--')) {
      current = isServiceUrlName(arg.slice(2)) ? [] : null;
      if (current) url = current;
    } else if (arg === '-') {
      continue; // no letters: tfx keeps adding to the flag before it
    } else if (arg.startsWith('-')) {
      if (arg.includes('u', 1)) url = [];
      current = arg.endsWith('u') ? url : null;
    } else if (current) {
      current.push(arg);
    }
  }
  return url && url.length > 0 ? url.join(' ') : undefined;
}

/** Whether this tfx command line will read a stored login. */
function needsStoredLogin(argv) {
  if (argv.includes('--help') || argv.includes('-h')) return false;
  const words = commandWords(argv);
  if (words.length === 0) return false;
  return !OFFLINE.some((prefix) => prefix.every((word, i) => words[i] === word));
}

// A credential given on the command line or in the environment wins over the stored login
// (src/auth/resolve.rs), so reading the store ahead would be wasted, and would warn about a
// fallback store for a command that never uses it. Flags are read as tfx reads them: any
// spelling of --token (or -t, alone or in a letter group), or --username with --password.
const CREDENTIAL_VARIABLES = ['AZURE_DEVOPS_EXT_PAT', 'TFX_ENTRA_TOKEN', 'SYSTEM_ACCESSTOKEN'];

function credentialGiven(argv, env) {
  const names = new Set();
  for (const arg of argv) {
    if (arg.startsWith('--')) names.add(camelName(arg.slice(2)));
    else if (arg.startsWith('-') && arg.includes('t', 1)) names.add('token');
  }
  return names.has('token') || (names.has('username') && names.has('password'))
    || CREDENTIAL_VARIABLES.some((name) => (env[name] || '').trim() !== '');
}

/** Starts the background read when the command will need it; never throws. */
function prewarm(argv, getAddon, env = process.env) {
  if (!needsStoredLogin(argv) || credentialGiven(argv, env)) return;
  try {
    getAddon().warmUp(serviceUrlFlag(argv) || null);
  } catch {
    // Only an optimisation: the real getCredential call meets and reports any problem.
  }
}

module.exports = { prewarm, needsStoredLogin, serviceUrlFlag, credentialGiven };
