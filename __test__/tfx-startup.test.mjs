// What the `tfx` bin does before tfx-cli runs: the compile cache folder (tfx/tfx.js) and the
// service URL the read-ahead asks for (tfx/prewarm.js). Speed itself is measured in bench/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { serviceUrlFlag, needsStoredLogin, credentialGiven } = require('../tfx/prewarm.js');
const { compileCacheDir, enableCompileCache } = require('../tfx/tfx.js');
const CLI_PACKAGE = require.resolve('tfx-cli/package.json');

test('prewarm: the service URL is read as tfx-cli groups its arguments', () => {
  const cases = [
    [['build', 'list', '--service-url', 'https://a/x'], 'https://a/x'],
    [['build', 'list', '--serviceUrl', 'https://a/x'], 'https://a/x'],
    [['build', 'list', '--SERVICE_URL', 'https://a/x'], 'https://a/x'],
    [['build', 'list', '--Service-Url', 'https://a/x', '--project', 'P'], 'https://a/x'],
    [['build', 'list', '-u', 'https://a/x'], 'https://a/x'],
    [['build', 'list', '-tu', 'https://a/x'], 'https://a/x'], // "-tu": the value belongs to -u
    [['build', 'list', '-ut', 'https://a/x'], undefined], // ... and here to -t
    [['build', 'list', '--service-url', 'https://a/x', '--service-url', 'https://b/y'], 'https://b/y'],
    [['build', 'list', '--service-url', 'https://a/x', '-', 'more'], 'https://a/x more'],
    [['build', 'list', '--service-url=https://a/x'], undefined], // tfx: an unknown argument
    [['build', 'list', '--serviceurl', 'https://a/x'], undefined], // camelCase: "serviceurl"
    [['build', 'list', '--project', 'P'], undefined],
    [['build', 'list', '--service-url'], undefined],
  ];
  for (const [argv, url] of cases) assert.equal(serviceUrlFlag(argv), url, argv.join(' '));
  assert.equal(needsStoredLogin(['version']), false);
  assert.equal(needsStoredLogin(['build', 'list', '--service-url', 'https://a/x']), true);
});

test('prewarm: a credential given by flag or variable means no read-ahead (it would be wasted)', () => {
  const cases = [
    [['build', 'list', '--token', 't'], {}, true],
    [['build', 'list', '--Token', 't'], {}, true],
    [['build', 'list', '-tu', 't', 'https://a/x'], {}, true],
    [['build', 'list', '--username', 'u', '--password', 'p'], {}, true],
    [['build', 'list', '--password', 'p'], {}, false], // tfx wants both for Basic
    [['build', 'list', '--service-url', 'https://a/x'], {}, false],
    [['build', 'list'], { AZURE_DEVOPS_EXT_PAT: 'x' }, true],
    [['build', 'list'], { SYSTEM_ACCESSTOKEN: '  ' }, false],
  ];
  for (const [argv, env, given] of cases) assert.equal(credentialGiven(argv, env), given, argv.join(' '));
});

test('compile cache: the user cache folder of each platform, named by both versions', () => {
  const versions = { tfxAuth: '1.2.3', tfxCli: '0.23.1' };
  const name = join('tfx-auth', 'compile-cache', 'tfx-auth-1.2.3-tfx-cli-0.23.1');
  assert.equal(compileCacheDir({ platform: 'linux', env: {}, home: '/h', versions }), join('/h/.cache', name));
  assert.equal(compileCacheDir({ platform: 'linux', env: { XDG_CACHE_HOME: '/x' }, home: '/h', versions }), join('/x', name));
  assert.equal(compileCacheDir({ platform: 'linux', env: { XDG_CACHE_HOME: 'relative' }, home: '/h', versions }), join('/h/.cache', name));
  assert.equal(compileCacheDir({ platform: 'darwin', env: {}, home: '/Users/u', versions }), join('/Users/u/Library/Caches', name));
  assert.equal(compileCacheDir({ platform: 'win32', env: { LOCALAPPDATA: 'C:\\L' }, home: 'C:\\U', versions }), join('C:\\L', name));
  assert.equal(compileCacheDir({ platform: 'win32', env: {}, home: 'C:\\U', versions }), null);
  assert.equal(compileCacheDir({ platform: 'linux', env: {}, home: '', versions }), null);
});

test('compile cache: the user\'s own setting wins, and any failure only means no cache', () => {
  const base = mkdtempSync(join(tmpdir(), 'tfx-auth-compile-cache-'));
  try {
    const calls = [];
    const module = { enableCompileCache: (dir) => { calls.push(dir); return { status: 1, directory: dir }; } };
    const env = { XDG_CACHE_HOME: join(base, 'cache') };
    const dir = enableCompileCache({ env, module, cliPackage: CLI_PACKAGE });
    assert.ok(dir && dir.startsWith(join(base, 'cache', 'tfx-auth', 'compile-cache', 'tfx-auth-')), dir);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.deepEqual(calls, [dir]);

    for (const own of [{ NODE_COMPILE_CACHE: join(base, 'mine') }, { NODE_DISABLE_COMPILE_CACHE: '1' }]) {
      assert.equal(enableCompileCache({ env: { ...env, ...own }, module, cliPackage: CLI_PACKAGE }), null);
    }
    // Before Node 22.1: code-cache.js, in the same folder.
    const installed = [];
    const fallback = () => ({ install: (d) => installed.push(d) > 0 });
    assert.equal(enableCompileCache({ env, module: {}, cliPackage: CLI_PACKAGE, fallback }), dir);
    assert.deepEqual(installed, [dir]);
    assert.equal(enableCompileCache({ env: { ...env, NODE_DISABLE_COMPILE_CACHE: '1' }, module: {}, cliPackage: CLI_PACKAGE, fallback }), null);
    assert.equal(installed.length, 1);
    assert.equal(enableCompileCache({ env, module: { enableCompileCache() { throw new Error('boom'); } }, cliPackage: CLI_PACKAGE }), null);
    assert.equal(enableCompileCache({ env, module, cliPackage: join(base, 'missing.json') }), null);
    assert.equal(calls.length, 1);

    // A folder others may write to is not used (its code could be another user's).
    chmodSync(dir, 0o777);
    assert.equal(enableCompileCache({ env, module, cliPackage: CLI_PACKAGE }), null);
    // A cache folder that cannot be created (read-only parent): no cache, no error.
    const readOnly = join(base, 'ro');
    mkdirSync(readOnly, { mode: 0o500 });
    if (process.getuid && process.getuid() !== 0) {
      assert.equal(enableCompileCache({ env: { XDG_CACHE_HOME: readOnly }, module, cliPackage: CLI_PACKAGE }), null);
    }
    assert.equal(calls.length, 1);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

// Issue 18 item 10: a check of the last folder alone, by path, lets another user who can write a
// folder above it swap the cache after the check. Every folder from the cache root down is
// checked, and the folders above the root must not let others rename it.
test('compile cache: no cache under a folder another user could write, own or swap', { skip: process.platform === 'win32' && 'POSIX permissions' }, () => {
  const base = mkdtempSync(join(tmpdir(), 'tfx-auth-compile-cache-chain-'));
  const module = { enableCompileCache: (dir) => ({ status: 1, directory: dir }) };
  const enable = (root) => enableCompileCache({ env: { XDG_CACHE_HOME: root }, module, cliPackage: CLI_PACKAGE });
  try {
    const fresh = (name) => { const root = join(base, name); mkdirSync(root, { mode: 0o700 }); return root; };
    // The usual case works, and the chain it makes is private.
    const ok = fresh('ok');
    const dir = enable(ok);
    assert.ok(dir && dir.startsWith(join(ok, 'tfx-auth', 'compile-cache')), dir);
    for (const d of [join(ok, 'tfx-auth'), join(ok, 'tfx-auth', 'compile-cache'), dir]) assert.equal(statSync(d).mode & 0o777, 0o700, d);

    // A folder between the root and the cache that others may write: they could rename the
    // cache folder away and put their own in its place.
    const middle = fresh('middle');
    assert.ok(enable(middle));
    chmodSync(join(middle, 'tfx-auth'), 0o777);
    assert.equal(enable(middle), null, 'tfx-auth/ world-writable');
    chmodSync(join(middle, 'tfx-auth'), 0o700);
    chmodSync(join(middle, 'tfx-auth', 'compile-cache'), 0o770);
    assert.equal(enable(middle), null, 'compile-cache/ group-writable');

    // A folder swapped for a link to one elsewhere (made by whoever could write there).
    const swapped = fresh('swapped');
    const elsewhere = fresh('elsewhere');
    mkdirSync(join(swapped, 'tfx-auth'), { mode: 0o700 });
    symlinkSync(elsewhere, join(swapped, 'tfx-auth', 'compile-cache'));
    assert.equal(enable(swapped), null, 'compile-cache/ is a link');

    // The root itself, or a folder above it, writable by others (a shared XDG_CACHE_HOME).
    const shared = fresh('shared');
    chmodSync(shared, 0o777);
    assert.equal(enable(shared), null, 'the root is world-writable');
    const parent = fresh('parent');
    mkdirSync(join(parent, 'cache'), { mode: 0o700 });
    chmodSync(parent, 0o777);
    assert.equal(enable(join(parent, 'cache')), null, 'a non-sticky world-writable folder above the root');
    chmodSync(parent, 0o1777);
    assert.ok(enable(join(parent, 'cache')), 'sticky, as /tmp: others cannot rename what is ours');

    // A root owned by another user (sudo keeping HOME): as root, hand it to nobody; otherwise a
    // root-owned folder is another user's.
    if (process.geteuid() === 0) {
      const theirs = fresh('theirs');
      chownSync(theirs, 65534, 65534);
      assert.equal(enable(theirs), null, 'the root belongs to another user');
      const below = fresh('below');
      assert.ok(enable(below));
      chownSync(join(below, 'tfx-auth', 'compile-cache'), 65534, 65534);
      assert.equal(enable(below), null, 'a folder below the root belongs to another user');
    } else {
      assert.equal(enable('/usr'), null, 'the root belongs to another user');
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('code cache (Node before 22.1): same results from cached code, edits and import() compiled by Node', async () => {
  const { execFileSync } = await import('node:child_process');
  const { writeFileSync, readdirSync } = await import('node:fs');
  const base = mkdtempSync(join(tmpdir(), 'tfx-auth-code-cache-'));
  try {
    const cache = join(base, 'cache');
    mkdirSync(cache);
    const mod = join(base, 'm.js');
    const runner = join(base, 'run.js');
    writeFileSync(runner, `#!/usr/bin/env node
require(${JSON.stringify(join(process.cwd(), 'tfx', 'code-cache.js'))}).install(${JSON.stringify(cache)});
const m = require(${JSON.stringify(mod)});
let err; try { require(${JSON.stringify(join(base, 'bad.js'))}); } catch (e) { err = e.constructor.name; }
console.log(JSON.stringify({ value: m.value(), dir: m.dir === ${JSON.stringify(base)}, self: m.self, resolved: m.resolved, err }));
`);
    writeFileSync(join(base, 'bad.js'), 'module.exports = {;\n');
    const write = (v) => writeFileSync(mod, `#!/usr/bin/env node
'use strict';
const lazy = () => ${v} + require('node:path').sep.length;
module.exports = { value: lazy, dir: __dirname, self: this === module.exports, resolved: require.resolve('./run.js') === ${JSON.stringify(runner)} };
`);
    const run = () => JSON.parse(execFileSync(process.execPath, [runner], { encoding: 'utf8' }));
    write(41);
    const first = run();
    assert.deepEqual(first, { value: 42, dir: true, self: true, resolved: true, err: 'SyntaxError' });
    const files = readdirSync(cache);
    const installed = files.length === 1;
    if (!installed) return; // a Node before 20.15 has no zlib.crc32: nothing to check
    const blob = statSync(join(cache, files[0]));
    assert.deepEqual(run(), first);
    assert.equal(statSync(join(cache, files[0])).mtimeMs, blob.mtimeMs, 'a run served from the cache writes nothing');
    write(99); // same length, other code
    assert.equal(run().value, 100);
    writeFileSync(mod, 'module.exports = { value: () => typeof import("node:path").then, dir: __dirname, self: true, resolved: true };\n');
    assert.equal(run().value, 'function', 'a module with import() is compiled by Node');
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
