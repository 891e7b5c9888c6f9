// Faults, each giving its documented code, losing nothing and never hanging:
// the keyring daemon killed mid-run, a read-only or full disk under the file
// store, and a 100 MB answer read with bounded memory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDirs, isolateThisProcess, makeSecret, run, ROOT, findLeaks, rejection } from './helpers.mjs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';

const dirs = isolateThisProcess('tfx-auth-faults');
process.env.TFX_AUTH_STORE = 'file';
const addon = createRequire(import.meta.url)('../index.js');
const isRoot = process.getuid?.() === 0;

/** Runs an ESM body with `addon` and `out` in scope, in a fresh process. */
function addonChild(body, env, wrapper = [], { recordOutput = true } = {}) {
  const index = JSON.stringify(join(ROOT, 'index.js'));
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${index})(${index});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
${body}`;
  const [cmd, ...pre] = wrapper.length ? wrapper : [process.execPath];
  const args = [...pre, ...(wrapper.length ? [process.execPath] : []), '--input-type=module', '-e', script];
  return run(cmd, args, { env, timeoutMs: 60_000, recordOutput });
}

test('faults: gnome-keyring killed mid-run gives KEYRING_UNAVAILABLE within the keyring timeout', async (t) => {
  const isolated = freshDirs('tfx-auth-killed');
  const token = makeSecret('killed');
  const env = {
    ...process.env, HOME: isolated.HOME, XDG_CONFIG_HOME: isolated.XDG_CONFIG_HOME,
    TFX_AUTH_STORE: '', TFX_AUTH_KEYRING_TIMEOUT_MS: '1500', TFX_TEST_DBUS_NO_ACTIVATION: '1',
  };
  const res = await addonChild(`
    const url = 'https://dev.azure.com/killed';
    await addon.storeCredential(url, { type: 'pat', token: ${JSON.stringify(token)} });
    const { execFileSync } = await import('node:child_process');
    const reply = execFileSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'], { encoding: 'utf8' });
    process.kill(Number(/uint32 (\\d+)/.exec(reply)[1]), 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const results = [];
    for (const call of [() => addon.getCredential(url), () => addon.storeCredential(url, { type: 'pat', token: 'other-token' }), () => addon.listLogins()]) {
      const start = Date.now();
      try { await call(); results.push({ code: 'OK' }); } catch (e) { results.push({ code: e.code, ms: Date.now() - start, message: e.message }); }
    }
    out({ results, backend: addon.storageInfo().backend });`, env, [join(ROOT, 'scripts/with-keyring.sh')]);
  assert.equal(res.code, 0, res.stderr);
  const { results, backend } = JSON.parse(res.stdout.trim().split('\n').pop());
  assert.equal(backend, 'keyring');
  for (const r of results) {
    assert.equal(r.code, 'KEYRING_UNAVAILABLE', JSON.stringify(r));
    assert.ok(r.ms < 1500 + 1000, `answered in ${r.ms} ms`);
  }
  t.diagnostic(`killed keyring: get/store/list answered KEYRING_UNAVAILABLE in ${results.map((r) => r.ms).join('/')} ms (timeout 1500 ms)`);
  assert.equal(existsSync(join(isolated.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json')), false, 'no silent fallback');
});

/** A small tmpfs of our own for the file store (root only: CI runs as root). */
function withTmpfs(t, sizeKb) {
  if (!isRoot) {
    t.skip('needs root to mount a tmpfs (CI runs as root)');
    return null;
  }
  const mountPoint = join(freshDirs('tfx-auth-tmpfs').base, 'mnt');
  mkdirSync(mountPoint, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', mountPoint]);
  t.after(() => execFileSync('umount', ['-l', mountPoint]));
  return mountPoint;
}

test('faults: a read-only store folder gives STORE_ERROR and keeps the previous login', async (t) => {
  const mountPoint = withTmpfs(t, 256);
  if (!mountPoint) return;
  const env = { ...process.env, HOME: join(mountPoint, 'home'), XDG_CONFIG_HOME: join(mountPoint, 'config'), TFX_AUTH_STORE: 'file' };
  const first = makeSecret('first');
  const seeded = await addonChild(`await addon.storeCredential('https://dev.azure.com/ro', { type: 'pat', token: ${JSON.stringify(first)} }); out('ok');`, env);
  assert.equal(seeded.code, 0, seeded.stderr);
  execFileSync('mount', ['-o', 'remount,ro', mountPoint]);
  const res = await addonChild(`
    try { await addon.storeCredential('https://dev.azure.com/ro', { type: 'pat', token: 'second-${makeSecret()}' }); out({ code: 'OK' }); }
    catch (e) { out({ code: e.code, message: e.message, now: await addon.getCredential('https://dev.azure.com/ro') }); }`, env, [], { recordOutput: false });
  const result = JSON.parse(res.stdout);
  assert.equal(result.code, 'STORE_ERROR');
  assert.match(result.message, /Read-only file system/);
  assert.deepEqual(result.now, { type: 'pat', token: first });
});

test('faults: a full disk gives STORE_ERROR and keeps the previous login', async (t) => {
  const mountPoint = withTmpfs(t, 64);
  if (!mountPoint) return;
  const env = { ...process.env, HOME: join(mountPoint, 'home'), XDG_CONFIG_HOME: join(mountPoint, 'config'), TFX_AUTH_STORE: 'file' };
  const first = makeSecret('first');
  const seeded = await addonChild(`await addon.storeCredential('https://dev.azure.com/full', { type: 'pat', token: ${JSON.stringify(first)} }); out('ok');`, env);
  assert.equal(seeded.code, 0, seeded.stderr);
  // Fill the disk to the last block.
  try { writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(64 * 1024)); } catch { /* ENOSPC: full */ }
  const big = 'x'.repeat(8000);
  const res = await addonChild(`
    try {
      for (let i = 0; i < 20; i++) await addon.storeCredential('https://dev.azure.com/full-' + i, { type: 'pat', token: ${JSON.stringify(big)} });
      out({ code: 'OK' });
    } catch (e) { out({ code: e.code, message: e.message, now: await addon.getCredential('https://dev.azure.com/full') }); }`, env, [], { recordOutput: false });
  const result = JSON.parse(res.stdout);
  assert.equal(result.code, 'STORE_ERROR');
  assert.match(result.message, /No space left on device/);
  assert.deepEqual(result.now, { type: 'pat', token: first });
  JSON.parse(readFileSync(join(mountPoint, 'config', 'tfx-auth', 'credentials.json'), 'utf8'));
});

test('faults: a 100 MB answer is cut off with bounded memory', async (t) => {
  const token = makeSecret('huge');
  const server = await startFakeAdo({ scenario: 'huge', tokens: [token] });
  try {
    const before = process.memoryUsage().rss;
    const err = await rejection(addon.validateConnection(server.url, { type: 'pat', token }, { timeoutMs: 20_000 }));
    const grown = process.memoryUsage().rss - before;
    assert.equal(err.code, 'NOT_AZURE_DEVOPS');
    assert.ok(grown < 50 * 1024 * 1024, `RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
    t.diagnostic(`100 MB answer: NOT_AZURE_DEVOPS, RSS grew by ${(grown / 2 ** 20).toFixed(1)} MiB`);
  } finally {
    await server.close();
  }
});

after(() => {
  assert.deepEqual(findLeaks({ dirs: [dirs.base], allowed: [join(dirs.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json')] }), []);
});
