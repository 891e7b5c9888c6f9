'use strict';
// What `tfx login` and `tfx logout` do with the addon, shared by the hooked tfx-cli commands
// (seams.js) and the fast path that answers them without loading tfx-cli (fast.js), and the
// move of tfx-cli's plaintext logins on the first run after an upgrade from stock tfx-cli.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * Refuses (INVALID_URL) a service URL whose host tfx-cli's HTTP stack could read differently from
 * the host its login is stored under, such as `http://127.0.0.1%31/x` (stored as 127.0.0.11,
 * sent to 127.0.0.1): the addon's own rule, applied before any credential is looked up, prompted
 * for or sent. Returns the URL unchanged.
 */
function checkServiceUrl(addon, serviceUrl) {
  addon.normalizeServiceUrl(String(serviceUrl ?? ''));
  return serviceUrl;
}

/**
 * Validates and stores in one round trip. The addon keeps the certificate choice for this URL
 * alone, so a login without --skip-cert-validation turns checking back on (stock tfx kept one
 * global string that stayed truthy for good), and prints its own warning when no OS keyring
 * answered.
 */
async function login(addon, serviceUrl, credential, { skipCertValidation = false, proxy, TfsConnection } = {}) {
  checkTfxAcceptsUrl(TfsConnection, serviceUrl);
  const options = { skipCertValidation: skipCertValidation === true };
  if (proxy) options.proxy = proxy;
  return addon.login(serviceUrl, credential, options);
}

/**
 * `tfx login --auth-type entra`: a device code sign-in. The code and the page to enter it on go
 * to stderr (stdout stays tfx's); Ctrl-C while waiting aborts the sign-in (ABORTED) instead of
 * killing the process mid-write, and a second Ctrl-C kills it as usual.
 */
async function loginEntra(addon, serviceUrl, { skipCertValidation = false, proxy, TfsConnection, stderr = process.stderr } = {}) {
  checkTfxAcceptsUrl(TfsConnection, serviceUrl);
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const options = { skipCertValidation: skipCertValidation === true, signal: controller.signal };
    if (proxy) options.proxy = proxy;
    const signIn = await addon.startEntraLogin(serviceUrl, options);
    stderr.write(`${signIn.message}\n`);
    return await signIn.complete({ signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * tfx-cli's own TfsConnection (lib/connection.js) decides which service URLs its commands take:
 * one path segment, or /tfs/<collection>. A login it would refuse on every later command fails
 * now, before any request, with its own words ("Invalid service url - path is too long. ...").
 * The trailing slash is dropped first, as the hooked getWebApi does.
 */
function checkTfxAcceptsUrl(TfsConnection, serviceUrl) {
  if (TfsConnection) new TfsConnection(String(serviceUrl).replace(/(?<=[^/])\/+$/, ''));
}

/**
 * The credential a command uses for `serviceUrl` and its source (the addon's resolveCredential:
 * flags, environment, stored login, Azure CLI), or null: tfx then prompts. When az is there but
 * gives no token (not logged in), says so on stderr and returns null.
 */
async function resolveCredential(addon, serviceUrl, { token, username, password, skipCertValidation } = {}, stderr = process.stderr) {
  try {
    return await addon.resolveCredential(serviceUrl, { token, username, password, skipCertValidation: skipCertValidation === true });
  } catch (err) {
    if (!err || err.code !== 'AZURE_CLI_ERROR') throw err;
    stderr.write(`tfx-auth: warning: ${err.message}\n`);
    return null;
  }
}

/** Whether tfx-cli left any plaintext login under `~/.tfx` (told without loading the addon). */
function hasPlaintextLogins(home = os.homedir()) {
  const root = path.join(home, '.tfx');
  let names;
  try {
    names = fs.readdirSync(root);
  } catch {
    return false;
  }
  return names.some((name) => name !== 'cache' && fs.existsSync(path.join(root, name, '.allusers')));
}

/**
 * Upgrading from stock tfx-cli: while plaintext logins sit in `~/.tfx`, every run of a tfx-auth
 * command first moves those whose URL is certain into the store (the rule of
 * `migrateLegacyLogins`, the same as on first use) and says so in one line on stderr. Resolves to
 * the migration report, or null when there was nothing to move. A store that cannot be used now
 * is left for the command itself to report.
 */
async function migrateFromStock(getAddon, { home = os.homedir(), stderr = process.stderr } = {}) {
  if (!hasPlaintextLogins(home)) return null;
  let report;
  try {
    report = await getAddon().migrateLegacyLogins();
  } catch {
    return null;
  }
  const n = report.migrated.length;
  if (n > 0) {
    const where = path.join(home, '.tfx');
    stderr.write(`tfx-auth: moved ${n} tfx-cli ${n === 1 ? 'login' : 'logins'} from ${where} into ${describeStorage(getAddon().storageInfo())} and deleted the plaintext ${n === 1 ? 'file' : 'files'}.\n`);
  }
  return report;
}

function describeStorage(storage) {
  return storage.backend === 'keyring' ? 'the OS keyring' : storage.location;
}

/**
 * The default service URL. When tfx-auth has none, logins stock tfx-cli left in plaintext are
 * migrated first: the migration adopts tfx-cli's cached connection as the default.
 */
async function defaultServiceUrl(addon) {
  const url = await addon.getDefaultServiceUrl();
  if (url) return url;
  const report = await addon.migrateLegacyLogins();
  return report && report.migrated && report.migrated.length > 0 ? addon.getDefaultServiceUrl() : null;
}

/** Removes the login, its certificate flag and the default (the default login if no URL). */
async function logout(addon, serviceUrl) {
  const url = serviceUrl || await defaultServiceUrl(addon);
  return { serviceUrl: serviceUrl || null, removed: url ? await addon.logout(url) : false };
}

function logoutMessage({ serviceUrl, removed }) {
  if (removed) return 'Successfully logged out.';
  return serviceUrl ? `No stored login for ${displayUrl(serviceUrl)}; nothing to log out.` : 'Not logged in; nothing to log out.';
}

// A URL with user info carries a secret: never print that part.
function displayUrl(url) {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

// tfcommand.js initialize(): --fiddler sets HTTP_PROXY to Fiddler's port, --proxy overrides it.
function proxyOption({ proxy, fiddler }) {
  if (proxy) return proxy;
  return fiddler ? 'http://127.0.0.1:8888' : undefined;
}

module.exports = {
  checkServiceUrl, login, loginEntra, resolveCredential, logout, defaultServiceUrl, logoutMessage, proxyOption, displayUrl,
  hasPlaintextLogins, migrateFromStock,
};
