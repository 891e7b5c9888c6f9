// The JavaScript API as a careless or hostile caller uses it (issue 11): wrong argument types get
// INVALID_ARGUMENT (sync functions throw, promise ones reject), timeoutMs is checked, a caller's
// signal.onabort is left alone, CA files are read with a cap, warmUp() in a loop never crashes,
// and 5,000 concurrent reads of the real keyring all succeed while a hung keyring still fails
// after its timeout. The API under test is the package's main (binding.js), as `require('tfx-auth')`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { isolateThisProcess, makeSecret, rejection, run, findLeaks, freshDirs, ROOT } from './helpers.mjs';
import { scrubProxyEnv, pat } from './net-helpers.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';

assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, 'run through scripts/with-keyring.sh (npm test does)');
scrubProxyEnv();
delete process.env.TFX_AUTH_STORE;
delete process.env.NODE_EXTRA_CA_CERTS;
const dirs = isolateThisProcess('tfx-auth-api');
const require = createRequire(import.meta.url);
const auth = require('../binding.js');
const native = require('../index.js');
const token = makeSecret('pat');
let ado;

before(async () => { ado = await startFakeAdo({ tokens: [token], scenario: 'ok' }); });
after(async () => {
  await ado?.close();
  assert.deepEqual(findLeaks({ dirs: [dirs.base] }), []);
});

/** Runs an ESM body in a fresh Node process with `auth` (binding.js) and `out` in scope. */
function child(body, env = {}, { wrapper = [], timeoutMs = 120_000 } = {}) {
  const main = JSON.stringify(join(ROOT, 'binding.js'));
  const script = `import { createRequire } from 'node:module';
const auth = createRequire(${main})(${main});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
${body}`;
  const d = freshDirs('tfx-auth-api-child');
  const fullEnv = { ...process.env, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, ...env };
  const [cmd, ...pre] = wrapper.length ? wrapper : [process.execPath];
  const args = [...pre, ...(wrapper.length ? [process.execPath] : []), '--input-type=module', '-e', script];
  return run(cmd, args, { env: fullEnv, timeoutMs });
}
const lastLine = (r) => JSON.parse(r.stdout.trim().split('\n').pop());

const goodCred = () => pat(token);
const WRONG = [5, {}, [], true, null, Symbol('s'), () => 'x'];

test('wrong argument types: sync functions throw INVALID_ARGUMENT, promise ones reject with it', async () => {
  const syncCases = [
    ['normalizeServiceUrl', [5]], ['normalizeServiceUrl', []], ['accessTokenInfo', [{}]], ['warmUp', [42]], ['warmUp', [['u']]],
    ['authorizationHeader', [5, goodCred()]], ['authorizationHeader', [ado.url, 'pat:x']],
    ['authorizationHeader', [ado.url, goodCred(), { extensionCommand: 'yes' }]], ['proxyFor', [{}]],
  ];
  for (const [name, args] of syncCases) {
    let thrown;
    try { auth[name](...args); } catch (err) { thrown = err; }
    assert.ok(thrown, `${name} threw`);
    assert.equal(thrown.code, 'INVALID_ARGUMENT', `${name}: ${thrown.code} ${thrown.message}`);
    assert.ok(!(thrown instanceof TypeError), name);
  }
  const url = ado.url;
  const promiseCases = [
    ...WRONG.map((w) => ['getCredential', [w]]),
    ['getCredential', []],
    ['deleteCredential', [1]], ['getSkipCertValidation', [{}]], ['setSkipCertValidation', [url, 'yes']],
    ['setSkipCertValidation', [url]], ['logout', [7]],
    ['storeCredential', [url, 'pat:x']], ['storeCredential', [url, { type: 5, token: 'x' }]],
    ['storeCredential', [url, { type: 'pat', token: 123456 }]], ['storeCredential', [url, { type: 'entra', accessToken: 'a', expiresOn: '1' }]],
    ['validateConnection', [url, goodCred(), 'fast']], ['validateConnection', [url, goodCred(), { proxy: 8080 }]],
    ['validateConnection', [url, goodCred(), { caCertificates: 'ca.pem' }]], ['validateConnection', [url, goodCred(), { caCertificates: [1] }]],
    ['validateConnection', [url, goodCred(), { skipCertValidation: 'no' }]], ['validateConnection', [url, goodCred(), { timeoutMs: '100' }]],
    ['validateConnection', [url, goodCred(), { signal: {} }]], ['validateConnection', [url, goodCred(), { signal: 'abort' }]],
    ['login', [url, null]], ['login', [url, goodCred(), []]],
    ['startEntraLogin', [url, { tenant: 5 }]], ['startEntraLogin', [url, { clientId: {} }]], ['startEntraLogin', [null]],
    ['getRequestHandler', [5]], ['getRequestHandler', [url, 'fast']], ['getRequestHandler', [url, { service: 'gallery' }]],
    ['getWebApi', [null]], ['getWebApi', [url, { nodeApi: 5 }]], ['getWebApi', [url, { requestOptions: 'x' }]],
    ['getAuthorizationHeader', [[url]]], ['getAuthorizationHeader', [url, { service: 1 }]],
  ];
  for (const [name, args] of promiseCases) {
    let result;
    assert.doesNotThrow(() => { result = auth[name](...args); }, `${name} must not throw synchronously`);
    assert.ok(result instanceof Promise, name);
    const err = await rejection(result);
    assert.equal(err.code, 'INVALID_ARGUMENT', `${name}(${args.map(String).join(', ')}): ${err.code} ${err.message}`);
    assert.ok(!(err instanceof TypeError), name);
    assert.ok(!err.message.includes(token), 'no secret in the message');
  }
  assert.equal(ado.requests.length, 0, 'nothing reached the server');
  // Values of the right type keep their own codes.
  assert.equal((await rejection(auth.getCredential('not a url'))).code, 'INVALID_URL');
  assert.equal((await rejection(auth.storeCredential(ado.url, { type: 'pat' }))).code, 'INVALID_CREDENTIAL');
});

test('timeoutMs: a whole number of milliseconds from 1 to 600000, checked by the core', async () => {
  for (const timeoutMs of [-1, 0, 0.5, 600_001, 1e20, 4294967396, NaN, Infinity, -Infinity]) {
    for (const [api, label] of [[auth, 'binding.js'], [native, 'index.js']]) {
      const err = await rejection(api.validateConnection(ado.url, goodCred(), { timeoutMs }));
      assert.equal(err.code, 'INVALID_ARGUMENT', `${label} timeoutMs ${timeoutMs}: ${err.code} ${err.message}`);
    }
  }
  assert.equal(ado.requests.length, 0);
  for (const timeoutMs of [1000, 600_000]) {
    const info = await auth.validateConnection(ado.url, goodCred(), { timeoutMs });
    assert.equal(info.authenticatedUser.id, IDS.user);
  }
});

test('signal: the caller\'s own onabort still fires, and the call rejects with ABORTED', async () => {
  const hang = await startFakeAdo({ tokens: [token], scenario: 'hang' });
  try {
    for (const api of [auth, native]) {
      const controller = new AbortController();
      const seen = [];
      const mine = () => seen.push('onabort');
      controller.signal.onabort = mine;
      controller.signal.addEventListener('abort', () => seen.push('listener'));
      const pending = api.validateConnection(hang.url, goodCred(), { signal: controller.signal, timeoutMs: 20_000 });
      setTimeout(() => controller.abort(), 200);
      const err = await rejection(pending);
      assert.equal(err.code, 'ABORTED', err.message);
      assert.equal(controller.signal.onabort, mine, 'onabort was not replaced');
      assert.deepEqual(seen.sort(), ['listener', 'onabort']);
    }
    const aborted = AbortSignal.abort();
    assert.equal((await rejection(auth.validateConnection(hang.url, goodCred(), { signal: aborted }))).code, 'ABORTED');
  } finally {
    await hang.close();
  }
});

test('caCertificates and NODE_EXTRA_CA_CERTS: a huge file, /dev/zero or a FIFO fail fast with bounded memory', async () => {
  const big = join(dirs.base, 'big.pem');
  writeFileSync(big, Buffer.alloc(2 * 1024 * 1024, 'A'));
  const fifo = join(dirs.base, 'ca.fifo');
  execFileSync('mkfifo', [fifo]);
  // A 3 GiB address-space cap: a reader without a size cap dies on /dev/zero instead of eating the machine.
  const capped = ['bash', '-c', 'ulimit -v 3145728 && exec "$@"', 'capped'];
  const res = await child(`
    const results = {};
    for (const ca of ${JSON.stringify(['/dev/zero', big, fifo])}) {
      const start = Date.now();
      try { await auth.validateConnection(${JSON.stringify(ado.url)}, ${JSON.stringify(goodCred())}, { caCertificates: [ca] }); results[ca] = 'OK'; }
      catch (e) { results[ca] = e.code; }
      results[ca + ' ms'] = Date.now() - start;
    }
    out(results);`, { TFX_AUTH_STORE: 'file' }, { wrapper: capped, timeoutMs: 30_000 });
  assert.equal(res.signal, null, `killed by ${res.signal}: ${res.stderr} ${res.stdout}`);
  assert.equal(res.code, 0, res.stderr);
  const results = lastLine(res);
  for (const ca of ['/dev/zero', big, fifo]) {
    assert.equal(results[ca], 'TLS_ERROR', `${ca}: ${JSON.stringify(results)}`);
    assert.ok(results[`${ca} ms`] < 2000, `${ca} took ${results[`${ca} ms`]} ms`);
  }
  // (Not a FIFO here: Node itself opens NODE_EXTRA_CA_CERTS at start-up and would block.)
  for (const extra of ['/dev/zero', big]) {
    const r = await child(`const info = await auth.validateConnection(${JSON.stringify(ado.url)}, ${JSON.stringify(goodCred())}); out(info.authenticatedUser.id);`,
      { TFX_AUTH_STORE: 'file', NODE_EXTRA_CA_CERTS: extra }, { wrapper: capped, timeoutMs: 30_000 });
    assert.equal(r.signal, null, `${extra}: killed by ${r.signal}`);
    assert.deepEqual([r.code, lastLine(r)], [0, IDS.user], r.stderr);
    assert.match(r.stderr, /warning: ignoring NODE_EXTRA_CA_CERTS/);
  }
  rmSync(fifo);
});

test('warmUp: 50,000 calls (one URL and many) never crash, and getCredential still works after', async () => {
  const url = `${ado.url}/warm-${randomUUID()}`;
  const res = await child(`
    await auth.storeCredential(${JSON.stringify(url)}, ${JSON.stringify(goodCred())});
    for (let i = 0; i < 50000; i++) auth.warmUp(i % 2 ? ${JSON.stringify(url)} : 'https://dev.azure.com/org' + i);
    auth.warmUp(); auth.warmUp(null);
    const credential = await auth.getCredential(${JSON.stringify(url)});
    await auth.deleteCredential(${JSON.stringify(url)});
    out(credential?.token === ${JSON.stringify(token)});`, {}, { timeoutMs: 120_000 });
  assert.equal(res.signal, null, `killed by ${res.signal}: ${res.stderr.slice(-2000)}`);
  assert.equal(res.code, 0, res.stderr.slice(-2000));
  assert.equal(lastLine(res), true, 'the stored credential, read after the warm-ups');
});

// A private keyring (fresh gnome-keyring) and a 1 s keyring timeout: a burst of 5,000 reads takes
// longer than that when every call is timed on its own (the late ones then "time out" behind the
// others); measured as "no progress for 1 s", none may fail.
test('5,000 concurrent getCredential calls on the real keyring all get the stored credential', async (t) => {
  const urls = [1, 2, 3, 4, 5].map((i) => `${ado.origin}/many${i}-${randomUUID()}`);
  const secrets = urls.map(() => makeSecret('pat'));
  const res = await child(`
    const urls = ${JSON.stringify(urls)};
    const secrets = ${JSON.stringify(secrets)};
    await Promise.all(urls.map((u, i) => auth.storeCredential(u, { type: 'pat', token: secrets[i] })));
    const report = { backend: auth.storageInfo().backend };
    for (const spread of [1, 5]) {
      const start = Date.now();
      const results = await Promise.allSettled(Array.from({ length: 5000 }, (_, i) => auth.getCredential(urls[i % spread])));
      report[spread] = {
        ms: Date.now() - start,
        failed: [...new Set(results.filter((r) => r.status === 'rejected').map((r) => r.reason.code))],
        wrong: results.filter((r, i) => r.status === 'fulfilled' && r.value?.token !== secrets[i % spread]).length,
      };
    }
    out(report);`, { TFX_AUTH_KEYRING_TIMEOUT_MS: '1000', TFX_TEST_DBUS_NO_ACTIVATION: '1' }, { wrapper: [join(ROOT, 'scripts/with-keyring.sh')] });
  assert.equal(res.code, 0, res.stderr);
  const report = lastLine(res);
  assert.equal(report.backend, 'keyring');
  for (const spread of ['1', '5']) {
    assert.deepEqual([report[spread].failed, report[spread].wrong], [[], 0], `${spread} URL(s): ${JSON.stringify(report[spread])}`);
    t.diagnostic(`${spread} URL(s): 5000 concurrent reads in ${report[spread].ms} ms`);
  }
});

test('a hung keyring fails every waiting call with KEYRING_UNAVAILABLE after the timeout, not before', async () => {
  const res = await child(`
    const url = 'https://dev.azure.com/hung';
    await auth.storeCredential(url, ${JSON.stringify(goodCred())});
    const { execFileSync } = await import('node:child_process');
    const reply = execFileSync('dbus-send', ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus',
      'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'], { encoding: 'utf8' });
    const pid = Number(/uint32 (\\d+)/.exec(reply)[1]);
    process.kill(pid, 'SIGSTOP');
    const start = Date.now();
    const calls = [...Array.from({ length: 50 }, () => auth.getCredential(url)), auth.storeCredential(url, { type: 'pat', token: 'other' }), auth.listLogins()];
    const settled = await Promise.allSettled(calls);
    const ms = Date.now() - start;
    process.kill(pid, 'SIGCONT');
    out({ codes: [...new Set(settled.map((s) => s.status === 'rejected' ? s.reason.code : 'OK'))], ms });`,
  { TFX_AUTH_KEYRING_TIMEOUT_MS: '1500', TFX_TEST_DBUS_NO_ACTIVATION: '1' }, { wrapper: [join(ROOT, 'scripts/with-keyring.sh')] });
  assert.equal(res.code, 0, res.stderr);
  const { codes, ms } = lastLine(res);
  assert.deepEqual(codes, ['KEYRING_UNAVAILABLE']);
  assert.ok(ms >= 1400 && ms < 1500 + 2500, `answered after ${ms} ms (timeout 1500 ms)`);
});

test('ESM: every export of the loader, and the Node-scripts helpers, are named exports of the package main', async () => {
  const scripts = ['getAuthorizationHeader', 'getRequestHandler', 'getWebApi']; // script-api.js, JavaScript only
  const names = [...Object.keys(native).filter((n) => n !== 'default'), ...scripts].sort();
  assert.deepEqual(Object.keys(auth).sort(), names);
  const res = await run(process.execPath, ['--input-type=module', '-e', `
    import * as all from ${JSON.stringify(join(ROOT, 'binding.js'))};
    import { getCredential } from ${JSON.stringify(join(ROOT, 'binding.js'))};
    const err = await getCredential(5).catch((e) => e);
    // Node 23+ also names the CommonJS object itself 'module.exports'.
    const own = Object.keys(all).filter((n) => n !== 'default' && n !== 'module.exports');
    console.log(JSON.stringify({ names: own.sort(), code: err.code }));`],
  { env: { ...process.env, TFX_AUTH_STORE: 'file' } });
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), { names, code: 'INVALID_ARGUMENT' });
});
