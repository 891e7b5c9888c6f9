// login / logout / logoutAll: a login is stored only after the server accepted it; every failing
// login leaves the store exactly as it was; logout removes the credential, the certificate choice
// and the default. In this process the logins live in a private file store: the Secret Service
// under with-keyring.sh is shared by every suite running in parallel, and logoutAll (or an exact
// listLogins) would race them. The same flow runs on a real keyring of its own in a child process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isolateThisProcess, freshDirs, makeSecret, rejection, run, findLeaks, ROOT } from './helpers.mjs';
import { scrubProxyEnv, closedPort, pat } from './net-helpers.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';

scrubProxyEnv();
process.env.TFX_AUTH_STORE = 'file';
const dirs = isolateThisProcess('tfx-auth-login');
const addon = createRequire(import.meta.url)('../index.js');

const DOMAIN_USER = 'fabfiber\\peter';
const domainPassword = makeSecret('pw:');
// Every PAT the server accepts; a failing login uses `valid` (so 403 and the like are reachable).
const T = { a: makeSecret('a'), b: makeSecret('b'), c: makeSecret('c'), valid: makeSecret('valid'), child: makeSecret('child') };
const unknown = makeSecret('unknown'); // a PAT no server accepts
const childDirs = [];

let ado;
before(async () => {
  ado = await startFakeAdo({ tokens: Object.values(T), basicUsers: { [DOMAIN_USER]: domainPassword } });
});
after(async () => {
  await ado?.close();
  // With every login removed, no secret may remain anywhere: not in the store file, not in a
  // temp file beside it, not in settings, nor in any message, stack or child output.
  await addon.logoutAll();
  assert.deepEqual(findLeaks({ dirs: [dirs.base, ...childDirs] }), [], 'no secret in any message, output or file');
});

const collection = (name = 'Org') => `${ado.origin}/${name}-${randomBytes(4).toString('hex')}`;
const mine = async (url) => (await addon.listLogins()).find((l) => l.normalizedUrl === addon.normalizeServiceUrl(url));

const SUCCESSES = [
  { name: 'a PAT on a hosted organisation', scenario: 'ok', credential: () => pat(T.a), authType: 'pat', deploymentType: 'hosted' },
  { name: 'DOMAIN\\user Basic on-premises', scenario: 'onprem', credential: () => ({ type: 'basic', username: DOMAIN_USER, password: domainPassword }),
    authType: 'basic', username: DOMAIN_USER, deploymentType: 'onPremises' },
];

for (const row of SUCCESSES) {
  test(`a successful login with ${row.name} stores it, makes it the default and resolves {connection, storage}`, async () => {
    ado.setScenario(row.scenario);
    ado.requests.length = 0;
    const url = collection('FabFiber');
    try {
      const result = await addon.login(url, row.credential());
      assert.deepEqual(Object.keys(result).sort(), ['connection', 'storage']);
      assert.equal(result.connection.serviceUrl, url);
      assert.equal(result.connection.normalizedUrl, url.toLowerCase());
      assert.equal(result.connection.authenticatedUser.id, IDS.user);
      assert.equal(result.connection.deploymentType, row.deploymentType);
      assert.deepEqual(result.storage, addon.storageInfo());
      assert.equal(result.storage.backend, 'file');
      assert.equal(ado.requests.length, 1, 'one request, then stored');

      assert.deepEqual(await addon.getCredential(url), row.credential());
      assert.deepEqual(await addon.getCredential(`${url.toLowerCase()}/`), row.credential(), 'found under any spelling');
      assert.equal(await addon.getDefaultServiceUrl(), url);
      assert.equal(await addon.getSkipCertValidation(url), false);
      const listed = await mine(url);
      assert.deepEqual([listed.serviceUrl, listed.authType, listed.username, listed.isDefault], [url, row.authType, row.username, true]);
    } finally {
      await addon.logout(url);
    }
  });
}

describe('a failing login stores nothing and leaves an earlier login and the default intact', () => {
  let a; let b; let down; let downUrl; let snapshot;
  before(async () => {
    ado.setScenario('ok');
    // An earlier login on a server that then goes away, one on `a` (the URL the failures target),
    // and one on `b`, which is the default when the failures run.
    down = await startFakeAdo({ tokens: [T.c, T.valid] });
    downUrl = down.url;
    await addon.login(downUrl, pat(T.c));
    await down.close();
    a = collection('Target');
    b = collection('Default');
    await addon.login(a, pat(T.a));
    await addon.login(b, pat(T.b));
    snapshot = await addon.listLogins();
    assert.equal(snapshot.length, 3);
  });
  after(async () => {
    for (const url of [a, b, downUrl]) await addon.logout(url);
  });

  const FAILURES = [
    { name: '401: the PAT is rejected', scenario: 'ok', token: () => unknown, code: 'AUTH_REJECTED', status: 401 },
    { name: '401: IIS page', scenario: 'unauthorized-html', code: 'AUTH_REJECTED', status: 401 },
    { name: '203: sign-in page', scenario: 'signin-203', code: 'SIGN_IN_PAGE', status: 203 },
    { name: 'anonymous identity', scenario: 'anonymous', code: 'ANONYMOUS_USER', status: 200 },
    { name: '403', scenario: 'forbidden', code: 'FORBIDDEN', status: 403 },
    { name: '404', scenario: 'not-found', code: 'NOT_AZURE_DEVOPS', status: 404 },
    { name: '500', scenario: 'server-error', code: 'SERVER_ERROR', status: 500 },
    { name: 'timeout', scenario: 'hang', code: 'TIMEOUT', options: { timeoutMs: 300 } },
    { name: 'server down (closed port)', down: true, code: 'NETWORK_ERROR' },
  ];

  for (const row of FAILURES) {
    test(row.name, async () => {
      ado.setScenario(row.scenario ?? 'ok');
      const existing = row.down ? downUrl : a;
      const brandNew = row.down ? `http://127.0.0.1:${await closedPort()}/Fresh` : collection('Fresh');
      const earlier = await addon.getCredential(existing);
      for (const url of [existing, brandNew]) {
        const credential = pat(row.token ? row.token() : T.valid);
        // skipCertValidation too, to show the certificate choice is not kept either.
        const err = await rejection(addon.login(url, credential, { skipCertValidation: true, timeoutMs: 5000, ...row.options }));
        assert.equal(err.code, row.code, `${url}: ${err.message}`);
        assert.equal(err.status, row.status);
        assert.equal(await addon.getSkipCertValidation(url), false, `no certificate choice kept for ${url}`);
      }
      assert.deepEqual(await addon.listLogins(), snapshot, 'listLogins unchanged');
      assert.deepEqual(await addon.getCredential(existing), earlier, 'the earlier login is intact');
      assert.deepEqual(await addon.getCredential(a), pat(T.a));
      assert.equal(await addon.getCredential(brandNew), null);
      assert.equal(await addon.getDefaultServiceUrl(), b, 'the default is unchanged');
    });
  }
});

test('logout(url) removes the credential, the certificate choice and the default', async () => {
  ado.setScenario('ok');
  const other = collection('Other');
  const url = collection('LogMeOut');
  await addon.login(other, pat(T.b));
  await addon.login(url, pat(T.a), { skipCertValidation: true });
  assert.equal(await addon.getSkipCertValidation(url), true);
  assert.equal(await addon.getDefaultServiceUrl(), url);

  assert.equal(await addon.logout(`${url.toLowerCase()}/`), true, 'any spelling of the URL');
  assert.equal(await addon.getCredential(url), null);
  assert.equal(await addon.getSkipCertValidation(url), false);
  assert.equal(await addon.getDefaultServiceUrl(), null);
  assert.equal(await mine(url), undefined);
  assert.deepEqual(await addon.getCredential(other), pat(T.b), 'another login is untouched');
  assert.equal(await addon.logout(url), false, 'nothing left to remove');

  // Logging out of a URL that is not the default leaves the default alone.
  await addon.login(url, pat(T.a));
  assert.equal(await addon.logout(other), true);
  assert.equal(await addon.getDefaultServiceUrl(), url);
  await addon.logout(url);
});

test('logout() without a URL logs out of the default', async () => {
  ado.setScenario('ok');
  const first = collection('First');
  const second = collection('Second');
  await addon.login(first, pat(T.a));
  await addon.login(second, pat(T.b));
  assert.equal(await addon.logout(), true);
  assert.equal(await addon.getCredential(second), null);
  assert.equal(await addon.getDefaultServiceUrl(), null);
  assert.deepEqual(await addon.getCredential(first), pat(T.a));
  assert.equal(await addon.logout(), false, 'no default, nothing removed');
  assert.deepEqual(await addon.getCredential(first), pat(T.a));
  await addon.logout(first);
});

test('logoutAll removes every login and the default', async () => {
  ado.setScenario('ok');
  const urls = [collection('One'), collection('Two')];
  await addon.login(urls[0], pat(T.a), { skipCertValidation: true });
  await addon.login(urls[1], pat(T.b));
  const count = (await addon.listLogins()).length;
  assert.ok(count >= 2);
  assert.equal(await addon.logoutAll(), count);
  assert.deepEqual(await addon.listLogins(), []);
  assert.equal(await addon.getDefaultServiceUrl(), null);
  for (const url of urls) {
    assert.equal(await addon.getCredential(url), null);
    assert.equal(await addon.getSkipCertValidation(url), false);
  }
  assert.equal(await addon.logoutAll(), 0);
});

test('keyring: login, failing logins, logout and logoutAll on a private Secret Service', async () => {
  ado.setScenario('ok');
  const d = freshDirs('tfx-auth-login-keyring');
  childDirs.push(d.base);
  const J = JSON.stringify;
  const first = collection('KeyringFirst');
  const second = collection('KeyringSecond');
  const downUrl = `http://127.0.0.1:${await closedPort()}/Down`;
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${J(join(ROOT, 'index.js'))})(${J(join(ROOT, 'index.js'))});
const code = (p) => p.then(() => 'ok', (e) => { process.stderr.write(e.message + '\\n'); return e.code; });
const r = { backend: addon.storageInfo().backend };
r.stored = (await addon.login(${J(first)}, ${J(pat(T.a))})).storage.backend;
await addon.login(${J(second)}, ${J(pat(T.child))});
const before = await addon.listLogins();
r.failures = [
  await code(addon.login(${J(first)}, ${J(pat(unknown))})),
  await code(addon.login(${J(downUrl)}, ${J(pat(T.valid))})),
];
r.unchanged = JSON.stringify(await addon.listLogins()) === JSON.stringify(before);
r.firstIntact = (await addon.getCredential(${J(first)}))?.token === ${J(T.a)};
r.default = await addon.getDefaultServiceUrl();
r.logout = await addon.logout();
r.afterLogout = (await addon.listLogins()).map((l) => l.serviceUrl);
await addon.login(${J(second)}, ${J(pat(T.child))});
r.logoutAll = await addon.logoutAll();
r.final = [await addon.listLogins(), await addon.getDefaultServiceUrl(), await addon.getCredential(${J(first)})];
process.stdout.write(JSON.stringify(r) + '\\n');`;
  const env = { ...scrubProxyEnv({ ...process.env }), HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'keyring' };
  const res = await run(join(ROOT, 'scripts/with-keyring.sh'), [process.execPath, '--input-type=module', '-e', script], { env });
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(res.stdout.trim().split('\n').pop());
  assert.deepEqual(r, {
    backend: 'keyring',
    stored: 'keyring',
    failures: ['AUTH_REJECTED', 'NETWORK_ERROR'],
    unchanged: true,
    firstIntact: true,
    default: second,
    logout: true,
    afterLogout: [first],
    logoutAll: 2,
    final: [[], null, null],
  });
});
