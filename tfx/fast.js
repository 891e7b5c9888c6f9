'use strict';
// Answers `tfx login` and `tfx logout` without loading tfx-cli's module tree (~210 ms of every
// tfx command), printing what the hooked tfx-cli would print. Only for command lines that need no
// prompt and use the argument spellings args.js knows; plan() returns null for everything else
// and the real tfx-cli runs with the hook, so prompts, help and tfx's own argument errors are
// always tfx's.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const actions = require('./actions');
const { readOwnFile } = require('./own-file');
const { parseCommandLine } = require('./args');
const { loginCredential, DEVICE_CODE } = require('./credential');
const { TfxOutput, colorsEnabled } = require('./output');
const { SUPPORTED_TFX_VERSIONS } = require('./versions');

// lib/trace.js isTraceEnabled: TFX_TRACE=1/true turns on debug lines we do not reproduce.
const traceEnabled = (v) => !!v && ['1', 'true'].includes(v.trim().toLowerCase());

// lib/arguments.js getOptionsCache: values saved with --save feed every later command's
// arguments. Reproducing lodash's path lookup is not worth it; any saved value sends the command
// to tfx-cli.
function hasSavedOptions(home) {
  // Neither a FIFO nor a link is read: tfx-cli will not read it either (seams.js DiskCache).
  const text = readOwnFile(path.join(home, '.tfx', 'cache', '.command-options'));
  if (text === null) return false;
  try {
    const saved = JSON.parse(text);
    return !!saved && typeof saved === 'object' && Object.keys(saved).length > 0;
  } catch {
    return false; // tfx reads an unparsable file as {}
  }
}

function readVersion(buildDir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(buildDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * Decides whether the command line can be answered here.
 * @returns {object|null} a plan for run(), or null to run the real tfx-cli.
 */
function plan(argv, { buildDir, env = process.env, home = os.homedir() }) {
  const parsed = parseCommandLine(argv);
  if (!parsed) return null;
  const v = parsed.values;
  if (traceEnabled(env.TFX_TRACE)) return null;
  if (v.debugLogStream !== 'stdout' && v.debugLogStream !== 'stderr') return null;
  // tfcommand.js showBanner: --json sets output to json; the trace level follows --trace-level,
  // else info for friendly output and none otherwise.
  const outputType = v.json ? 'json' : v.output;
  if (outputType !== 'friendly' && outputType !== 'json') return null;
  let level;
  switch (v.traceLevel && v.traceLevel.toLowerCase()) {
    case 'none': level = 0; break;
    case 'info': level = 1; break;
    case 'debug': return null;
    default: level = outputType === 'friendly' ? 1 : 0;
  }
  const version = readVersion(buildDir);
  if (!SUPPORTED_TFX_VERSIONS.includes(version)) return null;
  if (hasSavedOptions(home)) return null;

  let credential = null;
  if (parsed.command === 'login') {
    if (!v.serviceUrl) return null; // tfx prompts for it (or fails under --no-prompt)
    credential = loginCredential(v, env);
    if (!credential) return null; // tfx prompts by --auth-type
  }
  return { command: parsed.command, values: v, credential, outputType, level, version, env, buildDir };
}

/** Runs a plan from plan(); sets process.exitCode to 255 on failure, as tfx's errLog does. */
async function run(p, addon) {
  const out = new TfxOutput({ colors: colorsEnabled(p.env), noColor: p.values.noColor, level: p.level });
  const getAddon = typeof addon === 'function' ? addon : () => addon || require('..');
  out.banner(p.version);
  try {
    if (p.command === 'login') {
      actions.checkServiceUrl(getAddon(), p.values.serviceUrl);
      const { TfsConnection } = require(path.join(p.buildDir, 'lib', 'connection.js'));
      const options = { skipCertValidation: p.values.skipCertValidation === true, proxy: actions.proxyOption(p.values), TfsConnection };
      if (p.credential === DEVICE_CODE) await actions.loginEntra(getAddon(), p.values.serviceUrl, options);
      else await actions.login(getAddon(), p.values.serviceUrl, p.credential, options);
      // Login.friendlyOutput: trace.info(colors.green(...)); jsonOutput: 4-space JSON.
      if (p.outputType === 'json') out.json({ success: true });
      else out.info('Logged in successfully', 'green');
    } else {
      const result = await actions.logout(getAddon(), p.values.serviceUrl);
      if (p.outputType === 'json') out.json(null);
      else if (result.removed) out.success(actions.logoutMessage(result));
      else out.log(actions.logoutMessage(result));
    }
  } catch (err) {
    out.error(err);
    process.exitCode = 255;
  }
}

module.exports = { plan, run, hasSavedOptions };
