'use strict';
// Reading a stored login costs a D-Bus connection (~9 ms) and a keyring round trip. tfx-cli
// spends ~200 ms loading its module tree before it asks for credentials, so for commands that
// will ask, the addon starts both on a background thread right away (addon.warmUp) and the
// later getCredential is served from memory. Commands that never need a credential skip this,
// so `tfx version` still never loads the addon.

// Command word prefixes that never read a stored login.
const OFFLINE = [['version'], ['help'], ['login'], ['logout'], ['reset'], ['extension', 'create'], ['build', 'tasks', 'create']];
const URL_FLAGS = new Set(['--service-url', '--serviceUrl', '-u']);

function commandWords(argv) {
  const words = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg.toLowerCase());
  }
  return words;
}

function serviceUrlFlag(argv) {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (URL_FLAGS.has(flag)) return inline !== undefined ? inline : argv[i + 1];
  }
  return undefined;
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
// fallback store for a command that never uses it.
const CREDENTIAL_FLAGS = new Set(['--token', '-t', '--password']);
const CREDENTIAL_VARIABLES = ['AZURE_DEVOPS_EXT_PAT', 'TFX_ENTRA_TOKEN', 'SYSTEM_ACCESSTOKEN'];

function credentialGiven(argv, env) {
  return argv.some((arg) => CREDENTIAL_FLAGS.has(arg.split('=')[0]))
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

module.exports = { prewarm, needsStoredLogin, serviceUrlFlag };
