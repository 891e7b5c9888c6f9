'use strict';
// `tfx-auth status`: every stored login checked at once, the store, the credential in effect,
// which `tfx` is on PATH, and for each failure what went wrong and the command that fixes it.
// Every string a server or the addon hands over is cleaned before it is printed (printable).

const { describeTfxOnPath, describeTfx } = require('./hook-info');

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 600_000; // the addon's cap on timeoutMs

class UsageError extends Error {}

// A word safe to paste into a POSIX shell as is, or single-quoted.
function shellQuote(word) {
  const s = String(word);
  return /^[A-Za-z0-9_/.:@%+=,~-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function loginCommand(login) {
  const authType = login.authType === 'basic' || login.authType === 'entra' ? ` --auth-type ${login.authType}` : '';
  return `tfx login --service-url ${shellQuote(login.serviceUrl)}${authType}`;
}

// What went wrong, in words, and what fixes it; by the addon's stable error codes.
function diagnose(code, login, timeoutMs) {
  const url = shellQuote(login.serviceUrl);
  const relogin = `run: ${loginCommand(login)}`;
  const retry = `check the network and proxy (HTTPS_PROXY, NO_PROXY), then run: tfx-auth status; if the server is gone, run: tfx-auth logout ${url}`;
  switch (code) {
    case 'AUTH_REJECTED': return ['The stored credential was rejected', relogin];
    case 'SIGN_IN_PAGE': return ['The server answered with a sign-in page instead of accepting the credential', relogin];
    case 'ANONYMOUS_USER': return ['The server took the credential for an anonymous user', relogin];
    case 'FORBIDDEN': return ['The credential lacks a permission', `create a token with the scopes you need, then ${relogin}`];
    case 'NOT_LOGGED_IN': return ['No secret is stored for this login', relogin];
    case 'REAUTH_REQUIRED': return ['The Microsoft Entra sign-in can no longer be renewed', relogin];
    case 'AUTHORITY_ERROR': return ['Microsoft Entra ID refused to renew the sign-in', `check TFX_AUTH_ENTRA_AUTHORITY and TFX_AUTH_ENTRA_CLIENT_ID, then ${relogin}`];
    case 'INVALID_CREDENTIAL': return ['The stored credential is unusable', relogin];
    case 'CI_CREDENTIAL_MISSING': return ['The CI credential named by TFX_AUTH_CREDENTIAL lacks variables', 'set the variables the message names, or unset TFX_AUTH_CREDENTIAL'];
    case 'ENTRA_HOST_NOT_ALLOWED': return ['Microsoft Entra tokens are not sent to this URL', `add its host to TFX_AUTH_ENTRA_HOSTS (https only, certificate checks on), or use a personal access token: tfx login --service-url ${url}`];
    case 'NOT_AZURE_DEVOPS':
    case 'INVALID_URL':
      return ['The URL does not answer like an Azure DevOps collection', `run: tfx-auth logout ${url}, then tfx login --service-url <the organisation or collection URL>`];
    case 'TLS_ERROR':
      return ['The server certificate is not trusted', `trust its CA with NODE_EXTRA_CA_CERTS=<ca.pem>, or run: tfx login --service-url ${url} --skip-cert-validation`];
    case 'TIMEOUT': return [`No answer within ${timeoutMs} ms`, `check the network and proxy, or allow longer: tfx-auth status --timeout-ms ${Math.max(timeoutMs * 3, 30_000)}`];
    case 'NETWORK_ERROR': return ['Cannot reach the server', retry];
    case 'PROXY_ERROR': return ['The proxy failed', retry];
    case 'SERVER_ERROR': return ['The server failed', 'try again later: tfx-auth status'];
    case 'KEYRING_LOCKED': return ['The keyring is locked', 'unlock it, then run: tfx-auth status'];
    case 'INVALID_ARGUMENT': return ['The check was asked with an unusable setting', `run: tfx-auth status --timeout-ms <1 to ${MAX_TIMEOUT_MS}>`];
    case 'KEYRING_UNAVAILABLE':
    case 'STORE_ERROR':
      return ['The stored credential cannot be read', 'see the message above, then run: tfx-auth status'];
    default: return ['The check failed', relogin];
  }
}

function describeUser(user) {
  if (!user) return 'unknown user';
  const [displayName, uniqueName] = [user.displayName, user.uniqueName].map((s) => (s ? printable(s) : s));
  if (displayName && uniqueName && displayName !== uniqueName) return `${displayName} (${uniqueName})`;
  return displayName || uniqueName || user.id || 'unknown user';
}

function describeAuth(login) {
  switch (login.authType) {
    case 'basic': return `basic (user ${printable(login.username ?? 'unknown')})`;
    case 'entra': return `Microsoft Entra ID${login.tenant ? ` (tenant ${printable(login.tenant)})` : ''}`;
    default: return 'personal access token';
  }
}

// Milliseconds since the epoch as an ISO time, to the second; null for null and for what is no
// time a Date can hold (an absurd stored expiry is "unknown", not a crash of every line).
const MAX_DATE_MS = 8.64e15;
const isoTime = (ms) => (typeof ms === 'number' && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);

// Text for the terminal: escape sequences (OSC/DCS strings, CSI) and other control characters
// removed, CR/LF/TAB as spaces, bidi controls dropped. The addon already cleans what servers
// send (src/text.rs); this is the last guard for every string a human-readable line shows.
const STRING_SEQUENCE = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c|$)/g;
const CSI = /(?:\x1b\[|\x9b)[\x20-\x3f]*(?:[\x40-\x7e]|$)/g;
const CONTROL = /[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
function printable(text) {
  return String(text)
    .replace(STRING_SEQUENCE, '')
    .replace(CSI, '')
    .replace(/\x1b[\s\S]?/g, '')
    .replace(/[\r\n\t]/g, ' ')
    .replace(CONTROL, '')
    .trim();
}

const BACKEND_LABEL = { keyring: 'OS keyring', file: 'file' };

function describeStore(storage) {
  return printable(`${BACKEND_LABEL[storage.backend] || storage.backend}: ${storage.location}`);
}

// A login's credential and its live check; never rejects.
async function checkLogin(addon, login, timeoutMs) {
  const result = {
    serviceUrl: login.serviceUrl,
    normalizedUrl: login.normalizedUrl,
    authType: login.authType,
    username: login.username ?? null,
    isDefault: login.isDefault,
    skipCertValidation: false,
    valid: false,
  };
  if (login.authType === 'entra') {
    result.tenant = login.tenant ?? null;
    result.expiresOn = isoTime(login.expiresOn);
    if (result.expiresOn === null && login.expiresOn != null) result.expiryUnknown = true;
  }
  try {
    result.skipCertValidation = (await addon.getSkipCertValidation(login.serviceUrl)) === true;
    // For an Entra login this renews the access token when it is about to expire.
    const credential = await addon.getCredential(login.serviceUrl);
    if (!credential) {
      throw Object.assign(new Error(`No secret is stored for ${login.serviceUrl}.`), { code: 'NOT_LOGGED_IN' });
    }
    if (credential.type === 'entra') {
      result.expiresOn = isoTime(credential.expiresOn);
      if (result.expiresOn === null && credential.expiresOn != null) result.expiryUnknown = true;
    }
    const info = await addon.validateConnection(login.serviceUrl, credential, {
      timeoutMs,
      skipCertValidation: result.skipCertValidation,
    });
    result.valid = true;
    result.user = info.authenticatedUser;
  } catch (err) {
    const code = err && err.code ? String(err.code) : 'ERROR';
    const [summary, fix] = diagnose(code, login, timeoutMs);
    result.error = { code, message: String(err && err.message ? err.message : err), summary, fix };
    if (err && typeof err.status === 'number') result.error.status = err.status;
  }
  return result;
}

// A CI source (TFX_AUTH_CREDENTIAL, or a service principal's or workload identity's variables),
// checked live like a stored login: its token, from one exchange, against the default URL.
async function ciSource(addon, ci, defaultServiceUrl, timeoutMs) {
  const source = { kind: 'ci', label: ci.description, source: ci.source, named: ci.named, authType: 'entra', defaultServiceUrl };
  if (!defaultServiceUrl) return source;
  const login = { serviceUrl: defaultServiceUrl, authType: 'entra' };
  try {
    const resolved = await addon.resolveCredential(defaultServiceUrl, {});
    if (!resolved || resolved.source !== ci.source) return { ...source, appliesToDefault: false };
    source.expiresOn = isoTime(resolved.credential.expiresOn);
    const info = await addon.validateConnection(defaultServiceUrl, resolved.credential, { timeoutMs });
    source.valid = true;
    source.user = info.authenticatedUser;
  } catch (err) {
    const code = err && err.code ? String(err.code) : 'ERROR';
    const [summary, fix] = code === 'AUTHORITY_ERROR'
      ? ['The CI credential was refused', 'see the message: it names what the identity platform or the identity endpoint said']
      : diagnose(code, login, timeoutMs);
    source.valid = false;
    source.error = { code, message: String(err && err.message ? err.message : err), summary, fix };
    if (err && typeof err.status === 'number') source.error.status = err.status;
  }
  return source;
}

// Which credential a tfx command without flags uses (precedence: src/auth/resolve.rs).
async function credentialSource(addon, env, defaultServiceUrl, timeoutMs) {
  let ci = null;
  try {
    ci = typeof addon.ciCredentialSource === 'function' ? addon.ciCredentialSource() : null;
  } catch (err) {
    const code = err && err.code ? String(err.code) : 'ERROR';
    const [summary, fix] = diagnose(code, { serviceUrl: defaultServiceUrl ?? '' }, timeoutMs);
    return { kind: 'ci', label: 'CI credential', named: true, defaultServiceUrl, valid: false, error: { code, message: String(err.message ?? err), summary, fix } };
  }
  if (ci && ci.named) return ciSource(addon, ci, defaultServiceUrl, timeoutMs);
  // The environment's part of the addon's precedence (no URL: flags and variables only).
  const fromEnv = await addon.resolveCredential(null, {});
  if (ci && !fromEnv) return ciSource(addon, ci, defaultServiceUrl, timeoutMs);
  if (fromEnv) {
    const variable = fromEnv.source;
    const source = { kind: 'env', label: `environment (${variable})`, variable, defaultServiceUrl };
    if (fromEnv.credential.type === 'entra') {
      source.authType = 'entra';
      source.expiresOn = isoTime(fromEnv.credential.expiresOn);
    }
    return source;
  }
  if (defaultServiceUrl) return { kind: 'stored', label: 'stored login', defaultServiceUrl };
  // Nothing stored: a command would ask the Azure CLI (when az is on PATH).
  try {
    const az = await addon.getAzureCliToken();
    if (az) {
      return { kind: 'azure-cli', label: 'Azure CLI (az account get-access-token)', authType: 'entra', expiresOn: isoTime(az.expiresOn), defaultServiceUrl: null };
    }
  } catch (err) {
    return { kind: 'none', label: 'none', defaultServiceUrl: null, azureCli: { code: err.code ?? 'ERROR', message: String(err.message ?? err) } };
  }
  return { kind: 'none', label: 'none', defaultServiceUrl: null };
}

function describeSource(source) {
  const until = source.expiresOn ? `, valid until ${source.expiresOn}` : '';
  switch (source.kind) {
    case 'env': {
      const what = source.authType === 'entra' ? ` (a Microsoft Entra ID access token${until})` : '';
      return `${source.label}${what}; tfx commands without --token or --username/--password use it instead of a stored login`;
    }
    case 'stored': return `${source.label} for the default URL ${printable(source.defaultServiceUrl)}`;
    case 'ci': {
      const how = source.named ? 'named by TFX_AUTH_CREDENTIAL' : 'its variables are set';
      const where = 'for Azure DevOps URLs (https://dev.azure.com, *.visualstudio.com, TFX_AUTH_ENTRA_HOSTS), one token exchange per command, nothing stored';
      let check = '';
      if (source.error) check = `; ${source.error.summary}: ${printable(source.error.message)} (${source.error.fix})`;
      else if (source.valid) check = `; checked against ${printable(source.defaultServiceUrl)} as ${printable(describeUser(source.user ?? {}))}${until}`;
      else if (source.appliesToDefault === false) check = `; not used for the default URL ${printable(source.defaultServiceUrl)}`;
      return `${printable(source.label)} (${how}) ${where}${check}`;
    }
    case 'azure-cli': return `${source.label} (a Microsoft Entra ID access token${until}) for Azure DevOps URLs (https://dev.azure.com, *.visualstudio.com, TFX_AUTH_ENTRA_HOSTS) without a stored login`;
    default: return source.azureCli ? `none (the Azure CLI gave no token: ${printable(source.azureCli.message)})` : 'none';
  }
}

function paint(io) {
  const on = io.color === true;
  return {
    ok: (s) => (on ? `\x1b[32m${s}\x1b[39m` : s),
    bad: (s) => (on ? `\x1b[31m${s}\x1b[39m` : s),
    bold: (s) => (on ? `\x1b[1m${s}\x1b[22m` : s),
  };
}

function renderStatus({ storage, source, logins }, io) {
  const c = paint(io);
  const lines = [];
  lines.push(`Store: ${describeStore(storage)}`);
  lines.push(`  - Survives a reboot: ${storage.persistent ? 'yes' : 'no'}`);
  lines.push(`  - Chosen because: ${printable(storage.reason)}`);
  if (storage.warning) lines.push(`  - Warning: ${printable(storage.warning)}`);
  lines.push(`Credential in effect: ${describeSource(source)}`);
  lines.push(`tfx on PATH: ${describeTfx(io.tfx)}`);
  if (logins.length === 0) {
    lines.push('', 'No stored logins. Log in with: tfx login --service-url <organisation or collection URL>');
  }
  if (io.leftInPlaintext?.length > 0) {
    lines.push('', 'tfx-cli logins still in plaintext (tfx-auth could not tell their URL; log in again, then delete them):');
    for (const s of io.leftInPlaintext) lines.push(`  - ${printable(s.path)}: ${printable(s.reason)}`);
  }
  for (const l of logins) {
    lines.push('', c.bold(`${printable(l.serviceUrl)}${l.isDefault ? ' (default)' : ''}`));
    if (l.valid) {
      lines.push(`  ${c.ok('✓')} Logged in as ${describeUser(l.user)}`);
    } else {
      lines.push(`  ${c.bad('X')} ${l.error.summary} (${l.error.code})`);
      lines.push(`  - ${printable(l.error.message)}`);
    }
    lines.push(`  - Auth type: ${describeAuth(l)}`);
    if (l.authType === 'entra' && l.expiresOn) {
      lines.push(l.valid ? `  - Access token: valid until ${l.expiresOn}, renewed automatically` : `  - Access token: expires ${l.expiresOn}`);
    } else if (l.authType === 'entra' && l.expiryUnknown) {
      lines.push('  - Access token: expiry unknown (the stored expiry is not a valid time)');
    }
    if (l.skipCertValidation) lines.push('  - Certificate checks: skipped for this URL');
    if (!l.valid) lines.push(`  - To fix, ${printable(l.error.fix)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function status(addon, values, io) {
  const timeoutMs = values['timeout-ms'] === undefined ? DEFAULT_TIMEOUT_MS : Number(values['timeout-ms']);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new UsageError(`--timeout-ms wants a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(values['timeout-ms'])}`);
  }
  const storage = addon.storageInfo();
  const [listed, defaultServiceUrl] = await Promise.all([addon.listLogins(), addon.getDefaultServiceUrl()]);
  // Every login is checked at once; each check is bounded by its own timeout. One login that
  // breaks its check is reported on its own line; the others still print.
  const logins = await Promise.all(listed.map((login) => checkLogin(addon, login, timeoutMs).catch((err) => {
    const [summary, fix] = diagnose('ERROR', login, timeoutMs);
    const message = String(err && err.message ? err.message : err);
    return { serviceUrl: login.serviceUrl, authType: login.authType, isDefault: login.isDefault, valid: false, error: { code: 'ERROR', message, summary, fix } };
  })));
  io.tfx = describeTfxOnPath(io.env);
  const report = { storage, source: await credentialSource(addon, io.env, defaultServiceUrl, timeoutMs), logins };
  if (values.json) {
    const forJson = {
      ...report,
      tfx: io.tfx,
      plaintextLogins: io.leftInPlaintext ?? [],
      logins: logins.map(({ error, ...rest }) => (error
        ? { ...rest, error: { code: error.code, message: error.message, ...(error.status ? { status: error.status } : {}), fix: error.fix } }
        : rest)),
    };
    io.stdout.write(`${JSON.stringify(forJson, null, 2)}\n`);
  } else {
    io.stdout.write(renderStatus(report, io));
  }
  return logins.every((l) => l.valid) ? 0 : 1;
}

module.exports = { status, diagnose, printable, isoTime, shellQuote, describeStore, UsageError, DEFAULT_TIMEOUT_MS };
