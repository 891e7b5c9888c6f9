'use strict';
// Reads a `tfx login` / `tfx logout` command line the way tfx-cli 0.23.1 does (lib/command.js
// getCommand, lib/tfcommand.js getGroupedArgs / registerCommandArgument, lib/arguments.js value
// parsing), for the subset of spellings the fast path answers itself. Anything outside that
// subset returns null and the real tfx-cli runs instead, so this file never has to reproduce
// tfx's error paths or help output.

// The global arguments every TfCommand registers (tfcommand.js setCommandArgs), by the name
// lodash.camelCase gives them, with their single-letter aliases and value kinds.
const GLOBAL_ARGS = {
  project: { kind: 'string', alias: '-p' },
  root: { kind: 'unsupported', alias: '-r' }, // validated as an existing directory at construction
  authType: { kind: 'string', def: 'pat' },
  serviceUrl: { kind: 'string', alias: '-u' },
  password: { kind: 'string' },
  token: { kind: 'string', alias: '-t' },
  save: { kind: 'unsupported' }, // writes ~/.tfx/cache/.command-options in dispose()
  username: { kind: 'string' },
  output: { kind: 'string', def: 'friendly' },
  json: { kind: 'boolean' },
  fiddler: { kind: 'boolean' },
  proxy: { kind: 'string' },
  help: { kind: 'unsupported', alias: '-h' },
  noPrompt: { kind: 'boolean' },
  includeUndocumented: { kind: 'unsupported' },
  traceLevel: { kind: 'string' },
  noColor: { kind: 'boolean' },
  debugLogStream: { kind: 'string', def: 'stdout' },
  skipCertValidation: { kind: 'boolean' },
};

const kebab = (name) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

// The long spellings accepted here: `--service-url` and `--serviceUrl`. lodash.camelCase maps
// many more (`--SERVICE-URL`, `--service_url`) to the same name; those go to the real tfx-cli.
const SPELLING = new Map();
const ALIAS = new Map();
for (const [name, spec] of Object.entries(GLOBAL_ARGS)) {
  SPELLING.set(`--${kebab(name)}`, name);
  SPELLING.set(`--${name}`, name);
  if (spec.alias) ALIAS.set(spec.alias, name);
}

const YES = ['true', '1', 'yes', 'y'];
const NO = ['false', '0', 'no', 'n'];

// arguments.js BooleanArgument.getValue: no value means true; one recognised word; else an error.
function parseBoolean(values) {
  if (values.length === 0) return true;
  if (values.length > 1) return undefined;
  const v = values[0].toLowerCase();
  if (YES.includes(v)) return true;
  if (NO.includes(v)) return false;
  return undefined;
}

/**
 * Splits argv (process.argv.slice(2)) into the command and its arguments and parses them as tfx
 * would. Returns `{ command, values }` where `values` maps argument names to parsed values, or
 * null when the line is not a plain `login`/`logout` invocation in the supported subset.
 */
function parseCommandLine(argv) {
  const command = argv[0];
  if (command !== 'login' && command !== 'logout') return null;
  // command.js: the first word starting with "-" starts the arguments; another bare word before
  // it would be a sub-command (an error for login/logout) — leave that to tfx.
  if (argv.length > 1 && !argv[1].startsWith('-')) return null;

  // tfcommand.js getGroupedArgs: a repeated flag starts over; "-abc" is -a -b -c and the values
  // that follow belong to the last letter.
  const grouped = new Map();
  let current = null;
  for (const arg of argv.slice(1)) {
    if (arg.startsWith('--')) {
      const name = SPELLING.get(arg);
      if (!name) return null;
      current = name;
      grouped.set(current, []);
    } else if (arg.startsWith('-')) {
      for (const ch of arg.slice(1)) {
        current = `-${ch}`;
        grouped.set(current, []);
      }
    } else {
      grouped.get(current).push(arg);
    }
  }
  for (const key of grouped.keys()) {
    if (key.startsWith('-') && !ALIAS.has(key)) return null; // unrecognised: tfx shows help
  }

  const values = {};
  for (const [name, spec] of Object.entries(GLOBAL_ARGS)) {
    // registerCommandArgument: the full name first, then the alias.
    let given = grouped.get(name);
    if (given === undefined && spec.alias) given = grouped.get(spec.alias);
    if (given === undefined) {
      values[name] = spec.kind === 'boolean' ? false : spec.def;
      continue;
    }
    if (spec.kind === 'unsupported') return null;
    if (spec.kind === 'boolean') {
      const b = parseBoolean(given);
      if (b === undefined) return null; // tfx rejects it with its own message
      values[name] = b;
    } else {
      values[name] = given.join(' '); // StringArgument joins several words with one space
    }
  }
  return { command, values };
}

module.exports = { parseCommandLine, GLOBAL_ARGS, SPELLING };
