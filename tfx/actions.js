'use strict';
// What `tfx login` and `tfx logout` do with the addon, shared by the hooked tfx-cli commands
// (seams.js) and the fast path that answers them without loading tfx-cli (fast.js).

/** Validates and stores in one round trip, and records the certificate choice for this URL. */
async function login(addon, serviceUrl, credential, { skipCertValidation = false, proxy } = {}) {
  const options = { skipCertValidation };
  if (proxy) options.proxy = proxy;
  const result = await addon.login(serviceUrl, credential, options);
  // A login without --skip-cert-validation turns checking back on for this URL (stock tfx kept
  // one global string that stayed truthy for good).
  await addon.setSkipCertValidation(serviceUrl, skipCertValidation === true);
  return result;
}

/** A one-line warning when the login did not land in the OS keyring, else null. */
function storageWarning(result, env = process.env) {
  const storage = result && result.storage;
  if (!storage || storage.backend === 'keyring' || env.TFX_AUTH_STORE === storage.backend) return null;
  const where = storage.location ? ` in ${storage.location}` : '';
  const why = storage.reason ? ` (${storage.reason})` : '';
  const reboot = storage.persistent === false ? '; it will not survive a reboot' : '';
  return `tfx-auth: no OS keyring answered${why}; the login is stored${where}${reboot}.`;
}

/** Removes the login, its certificate flag and the default (the default login if no URL). */
async function logout(addon, serviceUrl) {
  return { serviceUrl: serviceUrl || null, removed: await addon.logout(serviceUrl || undefined) };
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

module.exports = { login, logout, logoutMessage, storageWarning, proxyOption, displayUrl };
