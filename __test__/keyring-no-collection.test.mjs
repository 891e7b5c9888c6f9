// A Secret Service that answers but has no default collection: gnome-keyring started without
// ever creating the login keyring (as over SSH on a machine where nobody logged in to a desktop).
// Each test runs its script in a private D-Bus session of its own (scripts/with-keyring.sh with
// TFX_TEST_KEYRING_NO_COLLECTION=1): a real gnome-keyring, with no collection.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeSecret, run, findLeaks, freshDirs, ROOT } from './helpers.mjs';

const bases = [];
const fallbackFiles = [];

async function inSessionWithoutCollection(body, extraEnv = {}) {
  const isolated = freshDirs('tfx-auth-nocollection');
  bases.push(isolated.base);
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${JSON.stringify(join(ROOT, 'index.js'))})(${JSON.stringify(join(ROOT, 'index.js'))});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
// The session really has a Secret Service, and it really has no default collection.
const { execFileSync } = await import('node:child_process');
const alias = execFileSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.secrets',
  '/org/freedesktop/secrets', 'org.freedesktop.Secret.Service.ReadAlias', 'string:default'], { encoding: 'utf8' });
try { ${body} } catch (e) { out({ error: e.code ?? String(e), message: e.message, alias }); }`;
  const env = {
    ...process.env, ...extraEnv, HOME: isolated.HOME, XDG_CONFIG_HOME: isolated.XDG_CONFIG_HOME,
    TFX_TEST_KEYRING_NO_COLLECTION: '1',
  };
  delete env.TFX_TEST_DBUS_NO_ACTIVATION;
  if (!('TFX_AUTH_STORE' in extraEnv)) delete env.TFX_AUTH_STORE;
  const res = await run(join(ROOT, 'scripts/with-keyring.sh'), [process.execPath, '--input-type=module', '-e', script], { env });
  assert.equal(res.code, 0, res.stderr);
  return { isolated, res, result: JSON.parse(res.stdout.trim().split('\n').pop()) };
}

test('no default collection: logins fall back to the file, with a warning that names the fix', async () => {
  const token = makeSecret('pat');
  const { isolated, res, result } = await inSessionWithoutCollection(`
    const info = addon.storageInfo();
    await addon.storeCredential('https://dev.azure.com/nocollection', { type: 'pat', token: ${JSON.stringify(token)} });
    const back = await addon.getCredential('https://dev.azure.com/nocollection');
    const listed = (await addon.listLogins()).map((l) => l.normalizedUrl);
    out({ info, roundTrip: back.type === 'pat' && back.token === ${JSON.stringify(token)}, listed, alias });`);
  assert.match(result.alias, /object path "\/"/, 'the Secret Service answers with no default collection');
  assert.equal(result.info.backend, 'file');
  assert.match(result.info.reason, /no OS keyring \(the Secret Service has no default collection/);
  assert.equal(result.roundTrip, true);
  assert.deepEqual(result.listed, ['https://dev.azure.com/nocollection']);
  const file = join(isolated.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json');
  assert.equal(result.info.location, file);
  assert.ok(existsSync(file));
  fallbackFiles.push(file);
  const warnings = res.stderr.trim().split('\n').filter((l) => l.startsWith('tfx-auth:'));
  assert.equal(warnings.length, 1, res.stderr);
  assert.match(warnings[0], /no default collection; create and unlock a login keyring .*gnome-keyring-daemon --replace --unlock/);
  assert.match(warnings[0], /storing credentials in .*credentials\.json \(mode 0600\)\. Set TFX_AUTH_STORE=file to silence this\./);
});

test('no default collection: pinned with TFX_AUTH_STORE=keyring fails clearly and writes nothing', async () => {
  const { isolated, result } = await inSessionWithoutCollection(`
    const info = addon.storageInfo();
    try { await addon.storeCredential('https://dev.azure.com/pinned', { type: 'pat', token: 'tok-${makeSecret()}' }); out({ stored: true }); }
    catch (e) { out({ code: e.code, message: e.message, backend: info.backend, reason: info.reason }); }`, { TFX_AUTH_STORE: 'keyring' });
  assert.equal(result.code, 'KEYRING_UNAVAILABLE');
  assert.equal(result.backend, 'keyring');
  assert.match(result.reason, /^pinned by TFX_AUTH_STORE=keyring, but the Secret Service has no default collection/);
  assert.match(result.message, /no default collection; create and unlock a login keyring/);
  assert.equal(existsSync(join(isolated.XDG_CONFIG_HOME, 'tfx-auth')), false);
});

after(() => {
  assert.deepEqual(findLeaks({ dirs: bases, allowed: fallbackFiles }), [], 'no secret in any message, output or file');
});
