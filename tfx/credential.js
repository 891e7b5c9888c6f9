'use strict';
// Where a tfx command's credential comes from, shared by the hooked tfx-cli and the fast path:
// explicit flags > AZURE_DEVOPS_EXT_PAT > stored login > tfx's own prompts.

const ENV_PAT = 'AZURE_DEVOPS_EXT_PAT';

/**
 * The credential given on the command line or in the environment, or null.
 * Mirrors tfcommand.js getCredentials: `--username` and `--password` together win, then
 * `--token`; the environment variable stands in for `--token` (Azure CLI's devops extension
 * reads the same one), so it also wins over `--auth-type basic` without both basic flags.
 */
function explicitCredential({ username, password, token }, env = process.env) {
  if (username && password) return { type: 'basic', username, password };
  if (token) return { type: 'pat', token };
  const fromEnv = (env[ENV_PAT] || '').trim();
  if (fromEnv) return { type: 'pat', token: fromEnv };
  return null;
}

// The string tfx-cli's credential store holds (exec/login.js): "pat:<token>" or
// "basic:<user>:<password>"; the user name ends at the first ":".
function toWire(cred) {
  return cred.type === 'pat' ? `pat:${cred.token}` : `basic:${cred.username}:${cred.password}`;
}

function fromWire(s) {
  if (typeof s !== 'string') return null;
  if (s.startsWith('pat:') && s.length > 4) return { type: 'pat', token: s.slice(4) };
  if (s.startsWith('basic:')) {
    const rest = s.slice(6);
    const i = rest.indexOf(':');
    if (i > 0 && i < rest.length - 1) {
      return { type: 'basic', username: rest.slice(0, i), password: rest.slice(i + 1) };
    }
  }
  return null;
}

module.exports = { explicitCredential, toWire, fromWire, ENV_PAT };
