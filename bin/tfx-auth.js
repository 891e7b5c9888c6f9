#!/usr/bin/env node
'use strict';
// The `tfx-auth` command: what is stored and whether it still works (status), and the few things
// a user or a script does with stored logins (logout, migrate, token). Node built-ins only.
// Every command is a function of injected dependencies (the addon, the environment, the output
// streams), so tests can run it in-process as well as through the bin.

const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { ENV_PAT, ENV_ENTRA, ENV_PIPELINE } = require('../tfx/credential');
const { migrateFromStock } = require('../tfx/actions');
const { hookLine, describeTfxOnPath, describeTfx, SHELLS } = require('./hook-info');

const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_TIMEOUT_MS = 600_000; // the addon's cap on timeoutMs

const HELP = `tfx-auth: the logins tfx (tfx-cli with tfx-auth) keeps in the OS keyring

Usage:
  tfx-auth status [--json] [--timeout-ms N]
      Every stored login (URL, auth type, Basic user name or Entra tenant and token expiry,
      default), the store in use and whether it survives a reboot, which credential tfx
      commands use, and a live check of each login (all at once, N ms each; default
      ${DEFAULT_TIMEOUT_MS}). Exit 1 if any check failed.
  tfx-auth logout [url] [--all]
      Remove the login for url (the default login when omitted), or every login with --all.
  tfx-auth migrate [--json]
      Move tfx-cli's plaintext logins (~/.tfx/*/.allusers) into the store and delete them.
  tfx-auth hook [--shell sh|fish|powershell|cmd]
      Print the line that hooks a stock tfx (an existing global tfx-cli) into tfx-auth for this
      shell: NODE_OPTIONS loading this install's register.js, by absolute path. For example:
      eval "$(tfx-auth hook)"; add it to your shell profile to keep it.
  tfx-auth token [url]
      Print the stored secret for url (the default login when omitted): the personal access
      token, the Basic password, or a Microsoft Entra ID access token (renewed first when it
      is about to expire). For scripts: TOKEN="$(tfx-auth token)".
  tfx-auth --help

Logging in is tfx's job: tfx login --service-url <url> [--token <pat> | --auth-type basic |
--auth-type entra] (entra: a Microsoft Entra ID sign-in with a code shown on stderr).
A tfx command's credential comes from, in order: --token or --username/--password,
${ENV_PAT} (a PAT), ${ENV_ENTRA} (an Entra access token),
${ENV_PIPELINE} (the Azure Pipelines job token), the stored login, the Azure CLI
(az on PATH; only for https://dev.azure.com, *.visualstudio.com and the hosts in
TFX_AUTH_AZURE_CLI_HOSTS), tfx's prompts.
Other environment: TFX_AUTH_STORE=keyring|file, TFX_AUTH_KEYRING_TIMEOUT_MS,
TFX_AUTH_ENTRA_AUTHORITY, TFX_AUTH_ENTRA_TENANT, TFX_AUTH_ENTRA_CLIENT_ID.
`;

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

// Which credential a tfx command without flags uses (precedence: tfx/credential.js).
async function credentialSource(addon, env, defaultServiceUrl) {
  // The environment's part of the addon's precedence (no URL: flags and variables only).
  const fromEnv = await addon.resolveCredential(null, {});
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
    case 'azure-cli': return `${source.label} (a Microsoft Entra ID access token${until}) for Azure DevOps URLs (https://dev.azure.com, *.visualstudio.com, TFX_AUTH_AZURE_CLI_HOSTS) without a stored login`;
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
  const report = { storage, source: await credentialSource(addon, io.env, defaultServiceUrl), logins };
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

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

async function logout(addon, values, positionals, io) {
  if (positionals.length > 1) throw new UsageError('logout takes at most one URL');
  const [url] = positionals;
  if (values.all) {
    if (url) throw new UsageError('give a URL or --all, not both');
    // tfx-cli's plaintext logins count too: move them in, then remove everything. A file the
    // first pass left because tfx-auth already held that URL moves in on the second pass.
    await addon.migrateLegacyLogins();
    let removed = await addon.logoutAll();
    const second = await addon.migrateLegacyLogins();
    if (second.migrated.length > 0) removed += await addon.logoutAll();
    io.stdout.write(`Removed ${plural(removed, 'login', 'logins')}.\n`);
    for (const s of second.skipped) {
      io.stdout.write(`Left ${printable(s.path)} in place: ${printable(s.reason)}\n`);
    }
    return 0;
  }
  if (url) addon.normalizeServiceUrl(url); // INVALID_URL before anything else
  const target = url || await addon.getDefaultServiceUrl();
  if (!target) {
    io.stdout.write('No default login; nothing to log out. (tfx-auth status lists the stored logins.)\n');
    return 0;
  }
  const removed = await addon.logout(target);
  io.stdout.write(removed ? `Logged out of ${printable(target)}.\n` : `No stored login for ${printable(target)}.\n`);
  return 0;
}

async function migrate(addon, values, io) {
  const report = await addon.migrateLegacyLogins();
  if (values.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  const storage = addon.storageInfo();
  const legacyDir = path.join(io.homedir(), '.tfx');
  if (report.migrated.length === 0 && report.skipped.length === 0) {
    io.stdout.write(`No tfx-cli plaintext logins under ${legacyDir}; nothing to migrate.\n`);
    return 0;
  }
  const lines = [];
  if (report.migrated.length > 0) {
    lines.push(`Moved ${plural(report.migrated.length, 'login', 'logins')} into the ${describeStore(storage)}:`);
    for (const m of report.migrated) {
      lines.push(`  ✓ ${printable(m.serviceUrl)} (${m.authType === 'basic' ? 'basic' : 'personal access token'}); deleted ${printable(m.from)}`);
    }
  }
  if (report.skipped.length > 0) {
    lines.push(`Skipped ${plural(report.skipped.length, 'file', 'files')} (left in place):`);
    for (const s of report.skipped) lines.push(`  X ${printable(s.path)}: ${printable(s.reason)}`);
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function token(addon, positionals, io) {
  if (positionals.length > 1) throw new UsageError('token takes at most one URL');
  const [url] = positionals;
  const target = url || await addon.getDefaultServiceUrl();
  if (!target) {
    throw Object.assign(new Error('Not logged in: there is no default login. Log in with: tfx login --service-url <url>, or name one: tfx-auth token <url>'), { code: 'NOT_LOGGED_IN' });
  }
  const credential = await addon.getCredential(target);
  if (!credential) {
    throw Object.assign(new Error(`Not logged in to ${target}. Log in with: tfx login --service-url ${shellQuote(target)}`), { code: 'NOT_LOGGED_IN' });
  }
  const secret = { pat: credential.token, basic: credential.password, entra: credential.accessToken }[credential.type];
  io.stdout.write(`${secret}\n`);
  return 0;
}

const COMMANDS = {
  status: { options: { json: { type: 'boolean' }, 'timeout-ms': { type: 'string' } }, positionals: 0 },
  logout: { options: { all: { type: 'boolean' } }, positionals: 1 },
  migrate: { options: { json: { type: 'boolean' } }, positionals: 0 },
  token: { options: {}, positionals: 1 },
  hook: { options: { shell: { type: 'string' } }, positionals: 0 },
};

function parse(command, args) {
  const spec = COMMANDS[command];
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { ...spec.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const m = /'(-[^' ]+)/.exec(err.message);
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(`unknown option ${m ? m[1] : ''} for tfx-auth ${command}; see tfx-auth --help`);
    }
    if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      throw new UsageError(`${m ? m[1] : 'an option'} needs a value; see tfx-auth --help`);
    }
    throw new UsageError(`${err.message}; see tfx-auth --help`);
  }
  if (!parsed.values.help && parsed.positionals.length > spec.positionals) {
    throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[spec.positionals])} for tfx-auth ${command}; see tfx-auth --help`);
  }
  return parsed;
}

/**
 * Runs one tfx-auth command line.
 * @param {object} [o]
 * @param {string[]} [o.argv]  the arguments after `tfx-auth`
 * @param {object|function} [o.addon]  the addon, or a loader for it (default require('..'), lazily)
 * @returns {Promise<number>} the exit code
 */
async function main({
  argv = process.argv.slice(2),
  addon,
  env = process.env,
  stdout = process.stdout,
  stderr = process.stderr,
  homedir = os.homedir,
} = {}) {
  const io = { env, stdout, stderr, homedir, color: stdout.isTTY === true && !('NO_COLOR' in env) && env.TERM !== 'dumb' };
  const getAddon = typeof addon === 'function' ? addon : () => addon || require('..');
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      (command === undefined ? stderr : stdout).write(HELP);
      return command === undefined ? 1 : 0;
    }
    if (!Object.hasOwn(COMMANDS, command)) {
      throw new UsageError(`unknown command ${JSON.stringify(command)}; see tfx-auth --help`);
    }
    const { values, positionals } = parse(command, rest);
    if (values.help) {
      stdout.write(HELP);
      return 0;
    }
    if (command === 'hook') {
      if (values.shell !== undefined && !Object.hasOwn(SHELLS, values.shell)) {
        throw new UsageError(`--shell must be one of ${Object.keys(SHELLS).join(', ')}`);
      }
      stdout.write(`${hookLine(values.shell)}\n`);
      return 0;
    }
    // After an upgrade from stock tfx-cli its plaintext logins move first (`migrate` is that
    // move itself and reports it in full; `logout` removes plaintext logins as they are).
    if (command !== 'migrate' && command !== 'logout' && command !== 'hook') {
      io.leftInPlaintext = (await migrateFromStock(getAddon, { home: homedir(), stderr }))?.skipped ?? [];
    }
    const a = getAddon();
    switch (command) {
      case 'status': return await status(a, values, io);
      case 'logout': return await logout(a, values, positionals, io);
      case 'migrate': return await migrate(a, values, io);
      default: return await token(a, positionals, io);
    }
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    stderr.write(`error: ${printable(message)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main().then((code) => { process.exitCode = code; });
}

module.exports = { main, shellQuote, diagnose, printable, isoTime, HELP };
