// The read-ahead never outlives the login (issue 18, item 7): after warmUp(url), a logout or a
// new login for that URL in the same process makes the next getCredential read the store again,
// so it never returns the removed or replaced secret. Real gnome-keyring (a private one), a fake
// Azure DevOps server on loopback for the validated login.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { isolateThisProcess, makeSecret, findLeaks } from './helpers.mjs';
import { scrubProxyEnv, pat } from './net-helpers.mjs';
import { startPrivateKeyring } from './tfx-helpers.mjs';

scrubProxyEnv();
const dirs = isolateThisProcess('tfx-auth-read-ahead');
delete process.env.TFX_AUTH_STORE;
let keyring; let addon; let ado;
const [oldToken, newToken] = [makeSecret('oldpat'), makeSecret('newpat')];

before(async () => {
  keyring = await startPrivateKeyring();
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  addon = createRequire(import.meta.url)('../index.js');
  ado = await startFakeAdo({ tokens: [oldToken, newToken] });
});

after(async () => {
  await addon.logoutAll();
  await ado.close();
  await keyring?.stop();
  assert.deepEqual(findLeaks({ dirs: [dirs.base] }), [], 'no secret in any message or file');
  rmSync(dirs.base, { recursive: true, force: true });
});

// warmUp returns at once and reports nothing; the read it starts takes one keyring round trip.
const readAheadDone = () => new Promise((r) => setTimeout(r, 1500));
// Each URL is read ahead once per process, so every case has its own.
const url = (name) => `${ado.url.replace(/\/DefaultCollection$/, '')}/${name}`;

test('the backend is the keyring, where the read-ahead saves a round trip', () => {
  assert.equal(addon.storageInfo().backend, 'keyring');
});

test('warmUp, then logout: getCredential is null', async () => {
  const u = url('LoggedOut');
  await addon.storeCredential(u, pat(oldToken));
  addon.warmUp(u);
  await readAheadDone();
  assert.equal(await addon.logout(u), true);
  assert.equal(await addon.getCredential(u), null);
});

test('warmUp, then a new validated login: getCredential is the new token', async () => {
  const u = url('Replaced');
  await addon.storeCredential(u, pat(oldToken));
  addon.warmUp(u);
  await readAheadDone();
  await addon.login(u, pat(newToken));
  assert.deepEqual(await addon.getCredential(u), pat(newToken));
});

test('warmUp, then storeCredential: getCredential is the stored one', async () => {
  const u = url('Stored');
  await addon.storeCredential(u, pat(oldToken));
  addon.warmUp(u);
  await readAheadDone();
  await addon.storeCredential(u, pat(newToken));
  assert.deepEqual(await addon.getCredential(u), pat(newToken));
});

test('warmUp of the default URL, then logoutAll: getCredential is null', async () => {
  const u = url('Default');
  await addon.login(u, pat(oldToken));
  addon.warmUp();
  await readAheadDone();
  assert.ok(await addon.logoutAll() >= 1);
  assert.equal(await addon.getCredential(u), null);
});
