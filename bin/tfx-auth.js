#!/usr/bin/env node
'use strict';
// Before anything else: secrets among the arguments (a URL's password) out of `ps`.
if (require.main === module) require('../tfx/secret-arguments').hideSecretArguments();
// The `tfx-auth` command: what is stored and whether it still works (status), and the few things
// a user or a script does with stored logins (logout, migrate, token). Node built-ins only.
// Every command is a function of injected dependencies (the addon, the environment, the output
// streams), so tests can run it in-process as well as through the bin.

const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { ENV_PAT, ENV_ENTRA, ENV_PIPELINE } = require('../tfx/credential');
const { migrateFromStock } = require('../tfx/actions');
const { hookLine, SHELLS } = require('./hook-info');
const { status, diagnose, printable, isoTime, shellQuote, describeStore, UsageError, DEFAULT_TIMEOUT_MS } = require('./status');


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
