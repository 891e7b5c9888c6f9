// The credential store on the real Secret Service (gnome-keyring started by
// scripts/with-keyring.sh), plus what only a keyring can show: secret-tool
// interoperability, a locked collection, and the fallback without D-Bus.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isolateThisProcess, makeSecret, run, runAddonScript, findLeaks, freshDirs, ROOT, rejection } from './helpers.mjs';
import { defineStoreSuite, uniqueUrl } from './store-suite.mjs';

assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'run through scripts/with-keyring.sh (npm test does)');
delete process.env.TFX_AUTH_STORE;
const dirs = isolateThisProcess('tfx-auth-keyring');
const addon = createRequire(import.meta.url)('../index.js');

defineStoreSuite('keyring');

const secretTool = (args, input) => run('secret-tool', args, { input, recordOutput: false });

test('keyring: secret-tool finds what tfx-auth stored', async () => {
  const url = uniqueUrl();
  const token = makeSecret('pat');
  await addon.storeCredential(url, { type: 'pat', token });
  const { stdout, code } = await secretTool(['lookup', 'service', 'tfx-auth', 'username', addon.normalizeServiceUrl(url)]);
  assert.equal(code, 0);
  assert.equal(stdout, `pat:${token}`);
  await addon.deleteCredential(url);
});

test('keyring: tfx-auth reads what secret-tool stored', async () => {
  const url = uniqueUrl('http://tfs.example:8080/tfs');
  const password = makeSecret('pw');
  const key = addon.normalizeServiceUrl(url);
  const stored = await secretTool(['store', '--label=by secret-tool', 'service', 'tfx-auth', 'username', key], `basic:fabfiber\\peter:${password}`);
  assert.equal(stored.code, 0, stored.stderr);
  assert.deepEqual(await addon.getCredential(url), { type: 'basic', username: 'fabfiber\\peter', password });
  assert.ok((await addon.listLogins()).some((l) => l.normalizedUrl === key));
  assert.equal(await addon.deleteCredential(url), true);
  const after = await secretTool(['lookup', 'service', 'tfx-auth', 'username', key]);
  assert.equal(after.stdout, '');
});

test('keyring: a legacy tfx-cli login is migrated, read back, and its plaintext deleted', async () => {
  // Exactly the layout tfx-cli 0.23.1 writes: ~/.tfx/<escaped>/.allusers, 0644, no newline.
  const typed = 'http://127.0.0.1:18080/DefaultCollection';
  const token = makeSecret('legacy');
  const folder = join(dirs.HOME, '.tfx', 'http__127.0.0.118080_DefaultCollection');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, '.allusers'), `pat:${token}`, { mode: 0o644 });
  mkdirSync(join(dirs.HOME, '.tfx', 'cache'), { recursive: true });
  writeFileSync(join(dirs.HOME, '.tfx', 'cache', '.connection'), typed);
  writeFileSync(join(dirs.HOME, '.tfx', 'cache', '.skipCertValidation'), 'false');

  const report = await addon.migrateLegacyLogins();
  assert.deepEqual(report.migrated.map((m) => [m.serviceUrl, m.authType]), [[typed, 'pat']]);
  assert.deepEqual(report.skipped, []);
  assert.equal(existsSync(join(folder, '.allusers')), false);
  assert.equal(existsSync(folder), false, 'the emptied folder is removed too');
  const inKeyring = await secretTool(['lookup', 'service', 'tfx-auth', 'username', addon.normalizeServiceUrl(typed)]);
  assert.equal(inKeyring.stdout, `pat:${token}`);
  assert.equal(await addon.getDefaultServiceUrl(), typed);
  assert.equal(await addon.getSkipCertValidation(typed), false);

  const again = await addon.migrateLegacyLogins();
  assert.deepEqual([again.migrated, again.skipped], [[], []]);
  await addon.logout(typed);
});

test('keyring: getCredential moves a legacy login on first use', async () => {
  const typed = 'https://dev.azure.com/LegacyOrg';
  const password = makeSecret('legacy');
  const folder = join(dirs.HOME, '.tfx', 'https__dev.azure.com_LegacyOrg');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, '.allusers'), `basic:fabfiber\\peter:${password}`, { mode: 0o644 });
  assert.deepEqual(await addon.getCredential('https://dev.azure.com/legacyorg/'), { type: 'basic', username: 'fabfiber\\peter', password });
  assert.equal(existsSync(folder), false);
  assert.deepEqual(await addon.getCredential(typed), { type: 'basic', username: 'fabfiber\\peter', password });
  await addon.deleteCredential(typed);
});

test('keyring: a locked collection gives KEYRING_LOCKED and writes nowhere else', async () => {
  // A private keyring of its own, so locking it cannot disturb the other suites.
  const isolated = freshDirs('tfx-auth-locked');
  const url = 'https://dev.azure.com/locked';
  const token = makeSecret('locked');
  const body = `
    await addon.storeCredential(${JSON.stringify(url)}, { type: 'pat', token: 'first-${token}' });
    const { execFileSync } = await import('node:child_process');
    execFileSync('dbus-send', ['--session', '--dest=org.freedesktop.secrets', '--type=method_call', '--print-reply',
      '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login']);
    const results = {};
    for (const [name, call] of Object.entries({
      store: () => addon.storeCredential(${JSON.stringify(url)}, { type: 'pat', token: 'second-${token}' }),
      get: () => addon.getCredential(${JSON.stringify(url)}),
      list: () => addon.listLogins(),
      del: () => addon.deleteCredential(${JSON.stringify(url)}),
    })) {
      try { await call(); results[name] = 'ok'; } catch (e) { results[name] = e.code; results.message = e.message; }
    }
    results.info = addon.storageInfo().backend;
    out(results);`;
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${JSON.stringify(join(ROOT, 'index.js'))})(${JSON.stringify(join(ROOT, 'index.js'))});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
${body}`;
  const env = { ...process.env, HOME: isolated.HOME, XDG_CONFIG_HOME: isolated.XDG_CONFIG_HOME };
  const res = await run(join(ROOT, 'scripts/with-keyring.sh'), [process.execPath, '--input-type=module', '-e', script], { env });
  assert.equal(res.code, 0, res.stderr);
  const results = JSON.parse(res.stdout.trim().split('\n').pop());
  assert.deepEqual(
    { store: results.store, get: results.get, list: results.list, del: results.del, info: results.info },
    { store: 'KEYRING_LOCKED', get: 'KEYRING_LOCKED', list: 'KEYRING_LOCKED', del: 'KEYRING_LOCKED', info: 'keyring' },
  );
  assert.match(results.message, /locked/);
  assert.equal(existsSync(join(isolated.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json')), false, 'no fallback write');
});

test('keyring: without a D-Bus session the file store is chosen, and said so', async () => {
  const isolated = freshDirs('tfx-auth-nobus');
  const env = { ...process.env, HOME: isolated.HOME, XDG_CONFIG_HOME: isolated.XDG_CONFIG_HOME, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
  // The warning comes with the first read or write of a secret, not with the choice itself.
  const res = await runAddonScript(`const info = addon.storageInfo(); console.error('chosen');
    await addon.getCredential('https://dev.azure.com/x'); out(info);`, env);
  const info = JSON.parse(res.stdout);
  assert.ok(res.stderr.startsWith('chosen\n'), res.stderr);
  assert.equal(info.backend, 'file');
  assert.equal(info.persistent, true);
  assert.match(info.reason, /no OS keyring/);
  assert.equal(info.location, join(isolated.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json'));
  const warnings = res.stderr.trim().split('\n').filter((l) => l.startsWith('tfx-auth:'));
  assert.equal(warnings.length, 1, res.stderr);
  assert.match(warnings[0], /storing credentials in .*credentials\.json \(mode 0600\)/);
});

test('keyring: pinned to a keyring that does not answer gives KEYRING_UNAVAILABLE', async () => {
  const isolated = freshDirs('tfx-auth-pinned');
  const env = { ...process.env, HOME: isolated.HOME, XDG_CONFIG_HOME: isolated.XDG_CONFIG_HOME, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', TFX_AUTH_STORE: 'keyring' };
  const res = await runAddonScript(`
    const info = addon.storageInfo();
    try { await addon.storeCredential('https://dev.azure.com/x', { type: 'pat', token: 'tok-${makeSecret()}' }); out({ stored: true }); }
    catch (e) { out({ code: e.code, backend: info.backend, persistent: info.persistent, reason: info.reason }); }`, env);
  const result = JSON.parse(res.stdout);
  assert.equal(result.code, 'KEYRING_UNAVAILABLE');
  assert.equal(result.backend, 'keyring');
  assert.match(result.reason, /pinned by TFX_AUTH_STORE=keyring/);
  assert.equal(existsSync(join(isolated.XDG_CONFIG_HOME, 'tfx-auth')), false);
});

after(() => {
  const leaks = findLeaks({ dirs: [dirs.base] });
  assert.deepEqual(leaks, [], 'no secret in any message, output or file');
});
