'use strict';
// What `tfx login` logs in with, and the forms tfx-cli's credential store speaks. Which
// credential every other command uses is the addon's resolveCredential (src/auth/resolve.rs:
// flags > AZURE_DEVOPS_EXT_PAT > TFX_ENTRA_TOKEN > SYSTEM_ACCESSTOKEN > the stored login > the
// Azure CLI), then tfx's own prompts.
// `tfx login` stores what it is given: flags, then --auth-type entra (a device code sign-in),
// then AZURE_DEVOPS_EXT_PAT; the Entra variables are never stored (their tokens expire within
// the hour and cannot be renewed).

const ENV_PAT = 'AZURE_DEVOPS_EXT_PAT';
const ENV_ENTRA = 'TFX_ENTRA_TOKEN';
const ENV_PIPELINE = 'SYSTEM_ACCESSTOKEN';

/** A device code sign-in: what `tfx login --auth-type entra` asks for. */
const DEVICE_CODE = Object.freeze({ type: 'entra', deviceCode: true });

function flagCredential({ username, password, token }) {
  if (username && password) return { type: 'basic', username, password };
  if (token) return { type: 'pat', token };
  return null;
}

const isEntra = (authType) => String(authType || '').toLowerCase() === 'entra';

/**
 * What `tfx login` logs in with, or null (tfx prompts): flags, then a device code sign-in for
 * `--auth-type entra`, then AZURE_DEVOPS_EXT_PAT.
 */
function loginCredential(flags, env = process.env) {
  const given = flagCredential(flags);
  if (given) return given;
  if (isEntra(flags.authType)) return DEVICE_CODE;
  // Own properties only: process.env inherits from Object.prototype, which any package can set.
  const pat = ((Object.hasOwn(env, ENV_PAT) && env[ENV_PAT]) || '').trim();
  return pat ? { type: 'pat', token: pat } : null;
}

// The string tfx-cli's credential store holds (exec/login.js): "pat:<token>" or
// "basic:<user>:<password>"; the user name ends at the first ":". An Entra login has no such
// form: tfx-cli could only turn it into a Basic header.
function toWire(cred) {
  if (cred.type === 'entra') {
    throw Object.assign(new Error('A Microsoft Entra ID login has no tfx-cli credential string; it is sent as a Bearer token.'), { code: 'INVALID_CREDENTIAL' });
  }
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

module.exports = {
  loginCredential, isEntra, toWire, fromWire, DEVICE_CODE, ENV_PAT, ENV_ENTRA, ENV_PIPELINE,
};
