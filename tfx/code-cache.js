'use strict';
// For Node before 22.1, which has no module.enableCompileCache(): V8's compiled code of every
// CommonJS module loaded from here on, kept in one file between runs (tfx-cli spends ~50 ms of
// each command compiling ~300 modules). The v8-compile-cache technique: Module.prototype._compile
// compiles the wrapped source with vm.Script and V8's cached data, then runs it as Node would.
// Entries are keyed by file name, length and CRC-32 of the source, so an edited or upgraded
// module is compiled afresh; V8 itself rejects data from another V8 version or other flags.
// Anything unusual (a module using `import()`, which vm.Script cannot serve on these Nodes, a
// compile error, an unreadable or broken cache file) falls back to Node's own compile: the cache
// can only make a run faster, never change what it does.

const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const zlib = require('node:zlib');

const MAGIC = 'tfx-auth-code-cache-1';

/** Reads the cache file: a length, a JSON index, then the data of every entry. */
function load(file) {
  const entries = new Map();
  let blob;
  try {
    blob = fs.readFileSync(file);
  } catch {
    return entries;
  }
  try {
    const indexLength = blob.readUInt32LE(0);
    const index = JSON.parse(blob.toString('utf8', 4, 4 + indexLength));
    if (index.magic !== MAGIC) return entries;
    let offset = 4 + indexLength;
    for (const [key, length] of index.entries) {
      if (offset + length > blob.length) break;
      entries.set(key, blob.subarray(offset, offset + length));
      offset += length;
    }
  } catch {
    entries.clear();
  }
  return entries;
}

function save(file, entries) {
  const keys = [...entries.keys()];
  const index = Buffer.from(JSON.stringify({ magic: MAGIC, entries: keys.map((k) => [k, entries.get(k).length]) }));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(index.length, 0);
  // Another run may write at the same time: each writes its own file and renames it over.
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, Buffer.concat([head, index, ...keys.map((k) => entries.get(k))]), { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    try { fs.unlinkSync(tmp); } catch { /* never written */ }
  }
}

// What Node's own makeRequireFunction gives a module.
function makeRequire(mod) {
  const require = (id) => mod.require(id);
  const resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
  resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
  require.resolve = resolve;
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

// V8 reads `#!` only at the very start of a script; the wrapper would make it a syntax error.
// The line stays (empty), so line numbers in stack traces do not move.
function stripHashbang(content) {
  if (!content.startsWith('#!')) return content;
  const eol = content.indexOf('\n');
  return eol === -1 ? '' : content.slice(eol);
}

/**
 * Installs the cache, kept in `dir` (created by the caller, private to the user). Returns
 * whether it was installed (not when this Node lacks zlib.crc32, before 20.15).
 */
function install(dir) {
  if (typeof zlib.crc32 !== 'function') return false;
  const file = path.join(dir, `v8-${process.version}-${process.arch}.bin`);
  const entries = load(file);
  const fresh = new Map();
  const original = Module.prototype._compile;
  Module.prototype._compile = function tfxAuthCachedCompile(content, filename) {
    if (typeof content !== 'string' || content.includes('import(')) return original.call(this, content, filename);
    const key = `${filename}\0${content.length}\0${zlib.crc32(content)}`;
    const cachedData = entries.get(key);
    let script;
    try {
      script = new vm.Script(Module.wrap(stripHashbang(content)), { filename, cachedData });
    } catch {
      return original.call(this, content, filename); // Node's own error for a syntax error
    }
    if (!cachedData || script.cachedDataRejected) fresh.set(key, { filename, script });
    const compiled = script.runInThisContext({ displayErrors: true });
    return compiled.call(this.exports, this.exports, makeRequire(this), this, filename, path.dirname(filename));
  };
  // After the run, so the data holds the functions compiled lazily while it ran.
  process.once('exit', () => {
    if (fresh.size === 0) return;
    try {
      const replaced = new Set([...fresh.values()].map((f) => f.filename));
      const kept = new Map([...entries].filter(([key]) => !replaced.has(key.slice(0, key.indexOf('\0')))));
      for (const [key, { script }] of fresh) kept.set(key, script.createCachedData());
      save(file, kept);
    } catch {
      // Only an optimisation.
    }
  });
  return true;
}

module.exports = { install, load, save, stripHashbang };
