// What the `tfx` bin does before tfx-cli runs: the compile cache folder (tfx/tfx.js) and the
// service URL the read-ahead asks for (tfx/prewarm.js). Speed itself is measured in bench/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { serviceUrlFlag, needsStoredLogin } = require('../tfx/prewarm.js');
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
    assert.equal(enableCompileCache({ env, module: {}, cliPackage: CLI_PACKAGE }), null, 'Node before 22.1');
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
