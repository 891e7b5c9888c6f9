'use strict';
// tfx-cli 0.23.1's console output, reproduced so that `tfx login` / `tfx logout` answered without
// loading tfx-cli print the same bytes: lib/trace.js (prefixes, streams, levels), colors@1.3.3
// (when colour is on, how nested styles and new lines are wrapped), lib/errorhandler.js
// (formatError + exit code 255) and lib/tfcommand.js (banner, jsonOutput, --no-color).

const os = require('node:os');

const STYLE = {
  green: ['\x1b[32m', '\x1b[39m'],
  white: ['\x1b[37m', '\x1b[39m'],
  gray: ['\x1b[90m', '\x1b[39m'],
  bgRed: ['\x1b[41m', '\x1b[49m'],
};

// colors@1.3.3 lib/system/has-flag.js: looks at the process's own argv, not tfx's parsed args.
function hasFlag(flag, argv) {
  const terminator = argv.indexOf('--');
  const pos = argv.indexOf(`--${flag}`);
  return pos !== -1 && (terminator === -1 || pos < terminator);
}

// colors@1.3.3 sets `colors.enabled = supportsColor() !== false` once, calling supportsColor with
// no stream: so the TTY check is skipped and TERM decides, even when output is piped.
function colorsEnabled(env = process.env, argv = process.argv, platform = process.platform) {
  let force;
  if (hasFlag('no-color', argv) || hasFlag('no-colors', argv) || hasFlag('color=false', argv)) {
    force = false;
  } else if (['color', 'colors', 'color=true', 'color=always'].some((f) => hasFlag(f, argv))) {
    force = true;
  }
  if ('FORCE_COLOR' in env) {
    force = env.FORCE_COLOR.length === 0 || parseInt(env.FORCE_COLOR, 10) !== 0;
  }
  if (force === false) return false;
  if (['color=16m', 'color=full', 'color=truecolor', 'color=256'].some((f) => hasFlag(f, argv))) {
    return true;
  }
  const min = force ? 1 : 0;
  if (platform === 'win32') return true;
  if ('CI' in env) {
    const known = ['TRAVIS', 'CIRCLECI', 'APPVEYOR', 'GITLAB_CI'].some((s) => s in env);
    return known || env.CI_NAME === 'codeship' || min > 0;
  }
  if ('TEAMCITY_VERSION' in env) return /^(9\.(0*[1-9]\d*)\.|\d{2,}\.)/.test(env.TEAMCITY_VERSION);
  if ('TERM_PROGRAM' in env && ['iTerm.app', 'Hyper', 'Apple_Terminal'].includes(env.TERM_PROGRAM)) {
    return true;
  }
  const term = String(env.TERM);
  if (/-256(color)?$/i.test(term)) return true;
  if (/^screen|^xterm|^vt100|^rxvt|color|ansi|cygwin|linux/i.test(term)) return true;
  if ('COLORTERM' in env) return true;
  return min > 0;
}

const stripColors = (s) => String(s).replace(/\x1B\[\d+m/g, '');

class TfxOutput {
  /**
   * @param {object} o
   * @param {boolean} o.colors    colors.enabled as tfx would compute it
   * @param {boolean} o.noColor   tfx's --no-color argument (strips console.log output only)
   * @param {number}  o.level     trace level: 0 none, 1 info (2 debug is never answered here)
   */
  constructor({ colors, noColor, level }) {
    this.colors = colors;
    this.noColor = noColor;
    this.level = level;
  }

  // colors' applyStyle: innermost style first; each style re-opens after an inner close and
  // around every line break.
  style(str, ...styles) {
    if (!this.colors || !str) return str;
    const hasNewLine = str.includes('\n');
    for (let i = styles.length - 1; i >= 0; i--) {
      const [open, close] = STYLE[styles[i]];
      str = open + str.split(close).join(open) + close;
      if (hasNewLine) str = str.replace(/[\r\n]+/g, (m) => close + m + open);
    }
    return str;
  }

  // lib/trace.js write(): prefix every line, join with os.EOL, colour the whole block.
  write(prefix, msg, styles, stream) {
    const text = msg.split(/\n|\r\n/).map((line) => prefix + line).join(os.EOL);
    const out = this.style(text, ...styles);
    if (stream === 'stderr') process.stderr.write(`${out}\n`);
    else this.log(out);
  }

  // console.log, which tfx replaces with a colour-stripping version under --no-color.
  log(line) {
    process.stdout.write(`${this.noColor ? stripColors(line) : line}\n`);
  }

  banner(version) {
    if (this.level < 1) return;
    // trace.info(gray(...)): white around gray. Printed before tfx patches console.log for
    // --no-color, so only colors.enabled matters here.
    for (const line of [`TFS Cross Platform Command Line Interface v${version}`, 'Copyright Microsoft Corporation']) {
      const text = this.style(line, 'white', 'gray');
      process.stdout.write(`${text}\n`);
    }
  }

  info(msg, ...styles) {
    if (this.level >= 1) this.write('', msg, ['white', ...styles], 'stdout');
  }

  success(msg) {
    this.write('', msg, ['green'], 'stdout');
  }

  json(data) {
    this.log(stripColors(JSON.stringify(data, null, 4)));
  }

  // errorhandler.errLog: trace.error(formatError(err)); the caller then exits with 255.
  error(err) {
    this.write('error: ', formatError(err), ['bgRed'], 'stderr');
  }
}

// lib/errorhandler.js formatError, same order of cases.
function formatError(err) {
  if (err && err.name === 'AggregateError' && Array.isArray(err.errors)) {
    const lines = err.errors.map((e, i) => `  [${i + 1}] ${formatError(e)}`);
    return `Multiple errors occurred:\n${lines.join('\n')}`;
  }
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.toString();
  if (err !== null && typeof err === 'object' && typeof err.toString === 'function' &&
      err.toString !== Object.prototype.toString) {
    const s = err.toString();
    if (s !== '[object Object]') return s;
  }
  if (typeof err?.message === 'string') return err.message;
  if (typeof err === 'object' && err !== null) {
    try {
      return JSON.stringify(err, null, 2);
    } catch {
      return String(err);
    }
  }
  return String(err);
}

module.exports = { TfxOutput, colorsEnabled, formatError, stripColors };
