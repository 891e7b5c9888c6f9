// The addon on Windows, for real: a Windows node.exe loads the windows-gnu build under Wine
// (scripts/test-windows.sh, `npm run test:windows`) and logs in against the loopback fake Azure
// DevOps server and fake Entra authority. Every login lands in Wine's real Credential Manager
// (advapi32 Cred*), which keeps its generic credentials under one registry key: the tests read
// that key with reg.exe to see the target names and the persistence the store chose.
// Not matched by the Linux suites' glob (__test__/*.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import { startFakeAdo } from '../fixtures/fake-ado.mjs';
import { startFakeAuthority } from '../fixtures/fake-authority.mjs';

assert.equal(process.platform, 'win32', 'run by node.exe: npm run test:windows');
// The fake servers are plain http on loopback: Entra tokens go there only when it is listed.
process.env.TFX_AUTH_ENTRA_HOSTS = '127.0.0.1';
const addon = createRequire(import.meta.url)('../../index.js');

const WINE_CREDENTIALS = 'HKCU\\Software\\Wine\\Credential Manager';
const closers = [];

/** The target names of the generic credentials in Wine's Credential Manager. */
function targets() {
  const out = execFileSync('reg', ['query', WINE_CREDENTIALS], { encoding: 'utf8' });
  return out
    .split(/\r?\n/)
    .map((line) => /\\Generic: (.+)$/.exec(line.trim())?.[1])
    .filter(Boolean)
    // reg.exe escapes `#` in key names.
    .map((name) => name.replace(/\\#/g, '#'));
}

function persistence(target) {
  const out = execFileSync('reg', ['query', `${WINE_CREDENTIALS}\\Generic: ${target}`, '/v', 'Persist'], { encoding: 'utf8' });
  // CRED_PERSIST_LOCAL_MACHINE is 2, CRED_PERSIST_ENTERPRISE 3.
  return { '0x2': 'local', '0x3': 'enterprise' }[/Persist\s+REG_DWORD\s+(0x[0-9a-f]+)/i.exec(out)?.[1]];
}

const ours = (url) => targets().filter((t) => t.startsWith(`tfx-auth:${addon.normalizeServiceUrl(url)}`)).sort();

before(async () => {
  // The Wine prefix is the test's own and outlives a run: start from no logins.
  await addon.logoutAll();
  assert.deepEqual(await addon.listLogins(), []);
  assert.deepEqual(targets().filter((t) => t.startsWith('tfx-auth:')), []);
});

after(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

test('storageInfo: the OS keyring is Windows Credential Manager, no fallback', () => {
  const info = addon.storageInfo();
  assert.equal(info.backend, 'keyring');
  assert.equal(info.persistent, true);
  assert.match(info.location, /^Windows Credential Manager, generic credentials tfx-auth:<url> \(persistence: local computer\)$/);
  assert.equal(info.reason, 'the OS keyring answered');
  assert.equal(info.warning, undefined);
});

test('login with a PAT stores a local generic credential tfx-auth:<url>; getCredential, listLogins, logout', async () => {
  const token = `pat-${Date.now()}-win`;
  const ado = await startFakeAdo({ tokens: [token] });
  closers.push(() => ado.close());
  const result = await addon.login(ado.url, { type: 'pat', token });
  assert.equal(result.storage.backend, 'keyring');
  assert.match(result.storage.location, /^Windows Credential Manager/);
  assert.equal(result.connection.authenticatedUser.uniqueName, 'peter@fabfiber.com');

  const key = addon.normalizeServiceUrl(ado.url);
  assert.deepEqual(ours(ado.url), [`tfx-auth:${key}`]);
  assert.equal(persistence(`tfx-auth:${key}`), 'local');
  assert.deepEqual(await addon.getCredential(ado.url), { type: 'pat', token });
  assert.deepEqual(await addon.listLogins(), [
    { serviceUrl: ado.url, normalizedUrl: key, authType: 'pat', isDefault: true },
  ]);
  assert.equal(await addon.getDefaultServiceUrl(), ado.url);

  // `tfx-auth status` (another node.exe) names the store and checks the login live (against
  // the fake server in this process: not a blocking spawnSync).
  const status = await promisify(execFile)(process.execPath, ['bin/tfx-auth.js', 'status'], { encoding: 'utf8' });
  assert.match(status.stdout, /OS keyring: Windows Credential Manager, generic credentials tfx-auth:<url> \(persistence: local computer\)/);
  assert.ok(status.stdout.includes(ado.url), status.stdout);

  // A Basic login over it replaces the one credential.
  await addon.storeCredential(ado.url, { type: 'basic', username: 'fabfiber\\peter', password: 'P@ss:wörd' });
  assert.deepEqual(await addon.getCredential(ado.url), { type: 'basic', username: 'fabfiber\\peter', password: 'P@ss:wörd' });
  assert.deepEqual(ours(ado.url), [`tfx-auth:${key}`]);

  assert.equal(await addon.logout(ado.url), true);
  assert.equal(await addon.logout(ado.url), false);
  assert.equal(await addon.getCredential(ado.url), null);
  assert.deepEqual(await addon.listLogins(), []);
  assert.deepEqual(ours(ado.url), []);
});

test('an Entra login (bigger than one credential blob) round-trips through parts, and logout leaves none', async () => {
  const authority = await startFakeAuthority();
  const ado = await startFakeAdo({ bearerTokens: authority.acceptsAccessToken });
  closers.push(() => ado.close(), () => authority.close());
  const signIn = await addon.startEntraLogin(ado.url, { authority: authority.url });
  const completing = signIn.complete();
  authority.approve(signIn.userCode);
  const result = await completing;
  assert.equal(result.storage.backend, 'keyring');

  const key = addon.normalizeServiceUrl(ado.url);
  const stored = ours(ado.url);
  assert.equal(stored[0], `tfx-auth:${key}`);
  assert.ok(stored.length >= 3, `a head and at least two parts: ${stored.join(', ')}`);
  assert.ok(stored.slice(1).every((t) => /#part-[0-9a-f]+-\d+$/.test(t)), stored.join(', '));
  assert.ok(stored.every((t) => persistence(t) === 'local'));

  const credential = await addon.getCredential(ado.url);
  assert.equal(credential.type, 'entra');
  assert.ok(authority.acceptsAccessToken(credential.accessToken), 'the access token the authority issued');
  assert.ok(credential.accessToken.length > 1000);
  const [login] = await addon.listLogins();
  assert.deepEqual([login.normalizedUrl, login.authType, login.isDefault], [key, 'entra', true]);

  // A PAT over the Entra login: the parts go.
  await addon.storeCredential(ado.url, { type: 'pat', token: 'small' });
  assert.deepEqual(ours(ado.url), [`tfx-auth:${key}`]);
  assert.equal(await addon.logout(ado.url), true);
  assert.deepEqual(ours(ado.url), []);
});
