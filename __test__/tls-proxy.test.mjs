// HTTPS with a CA generated at test time (by option, by file, by NODE_EXTRA_CA_CERTS, or skipped
// per URL) and a real tinyproxy with Basic auth (by option, by environment, bypassed by NO_PROXY).
// Environment-driven behaviour runs in child processes: the addon reads NODE_EXTRA_CA_CERTS and the
// proxy variables when it builds a client, and caches clients for the life of the process.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { isolateThisProcess, freshDirs, makeSecret, rejection, runAddonScript, findLeaks } from './helpers.mjs';
import { scrubProxyEnv, closedPort, patHeader, pat } from './net-helpers.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';
import { makeTestCA } from './fixtures/ca.mjs';
import { startProxy, hasTinyproxy } from './fixtures/proxy.mjs';

scrubProxyEnv();
delete process.env.NODE_EXTRA_CA_CERTS;
// login() writes; the Secret Service under with-keyring.sh is shared by every suite running in
// parallel, so this file keeps its logins in its own file store.
process.env.TFX_AUTH_STORE = 'file';
const dirs = isolateThisProcess('tfx-auth-tls');
const addon = createRequire(import.meta.url)('../index.js');

const token = makeSecret('pat');
const J = JSON.stringify;
let pki; let secure; let selfSigned; let plain;
const childDirs = [];

before(async () => {
  pki = await makeTestCA(join(dirs.base, 'pki'));
  secure = await startFakeAdo({ https: { key: pki.key, cert: pki.cert }, tokens: [token] });
  selfSigned = await startFakeAdo({ https: { key: pki.selfSignedKey, cert: pki.selfSignedCert }, tokens: [token] });
  plain = await startFakeAdo({ tokens: [token] });
});

after(async () => {
  await Promise.all([secure, selfSigned, plain].map((s) => s?.close()));
  assert.deepEqual(findLeaks({ dirs: [dirs.base, ...childDirs], allowed: [addon.storageInfo().location] }), [],
    'no secret in any message, child output or file');
  rmSync(join(dirs.base, 'pki'), { recursive: true, force: true }); // the throw-away CA key goes too
});

/** Validates in a fresh Node process with `env` added; resolves to {ok: userId} or {error, message}. */
async function validateInChild(url, options, env) {
  const d = freshDirs('tfx-auth-tls-child');
  childDirs.push(d.base);
  const base = scrubProxyEnv({ ...process.env });
  delete base.NODE_EXTRA_CA_CERTS;
  const res = await runAddonScript(
    `const info = await addon.validateConnection(${J(url)}, ${J(pat(token))}, ${J(options ?? {})}); out({ ok: info.authenticatedUser.id });`,
    { ...base, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file', ...env },
  );
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

const fresh = (ado) => { ado.requests.length = 0; return ado; };

describe('TLS', () => {
  test('a server whose CA is not trusted is refused with TLS_ERROR before any request', async () => {
    const err = await rejection(addon.validateConnection(fresh(secure).url, pat(token)));
    assert.equal(err.code, 'TLS_ERROR', `${err.code}: ${err.message}`);
    assert.equal(err.status, undefined);
    assert.ok(err.message.includes(secure.url), err.message);
    assert.equal(secure.requests.length, 0);
  });

  const CA_FORMS = { 'PEM text': () => pki.caCertPem, 'a file path': () => pki.caCertPath };
  for (const [form, ca] of Object.entries(CA_FORMS)) {
    test(`caCertificates given as ${form} makes the server trusted`, async () => {
      const info = await addon.validateConnection(fresh(secure).url, pat(token), { caCertificates: [ca()] });
      assert.equal(info.authenticatedUser.id, IDS.user);
      assert.equal(secure.requests.length, 1);
      assert.equal(secure.requests[0].headers.authorization, patHeader(token));
    });
  }

  test('caCertificates that are neither PEM nor a readable file are TLS_ERROR', async () => {
    const err = await rejection(addon.validateConnection(fresh(secure).url, pat(token), { caCertificates: [join(dirs.base, 'no-such.pem')] }));
    assert.equal(err.code, 'TLS_ERROR', err.message);
    assert.equal(secure.requests.length, 0);
  });

  test('NODE_EXTRA_CA_CERTS makes the server trusted (child process)', async () => {
    assert.deepEqual(await validateInChild(secure.url, {}, { NODE_EXTRA_CA_CERTS: pki.caCertPath }), { ok: IDS.user });
    const without = await validateInChild(secure.url, {}, {});
    assert.equal(without.error, 'TLS_ERROR', `without NODE_EXTRA_CA_CERTS: ${J(without)}`);
  });

  // Clients are reused per configuration; one first built for plain http must not serve https
  // without the roots (issue 11, item 4: `tfx-auth status` checks http logins first).
  test('an http URL validated first does not leave https without NODE_EXTRA_CA_CERTS (child process)', async () => {
    const d = freshDirs('tfx-auth-tls-child');
    childDirs.push(d.base);
    const base = scrubProxyEnv({ ...process.env });
    const res = await runAddonScript(
      `const results = [];
      for (const url of [${J(plain.url)}, ${J(secure.url)}]) {
        try { results.push((await addon.validateConnection(url, ${J(pat(token))}, { timeoutMs: 10000 })).authenticatedUser.id); }
        catch (e) { results.push(e.code); }
      }
      out(results);`,
      { ...base, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file', NODE_EXTRA_CA_CERTS: pki.caCertPath },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout.trim().split('\n').pop()), [IDS.user, IDS.user]);
  });

  test('an http URL validated first does not leave https without the per-call CAs', async () => {
    const options = { caCertificates: [pki.caCertPem], timeoutMs: 15000 };
    assert.equal((await addon.validateConnection(fresh(plain).url, pat(token), options)).authenticatedUser.id, IDS.user);
    assert.equal((await addon.validateConnection(fresh(secure).url, pat(token), options)).authenticatedUser.id, IDS.user);
  });

  test('a certificate for another host name is TLS_ERROR even with its CA', async () => {
    const other = await makeTestCA(join(dirs.base, 'pki', 'other-name'), { hosts: ['tfs.example'] });
    const wrongName = await startFakeAdo({ https: { key: other.key, cert: other.cert }, tokens: [token] });
    try {
      const err = await rejection(addon.validateConnection(wrongName.url, pat(token), { caCertificates: [other.caCertPem] }));
      assert.equal(err.code, 'TLS_ERROR', `${err.code}: ${err.message}`);
      assert.equal(wrongName.requests.length, 0);
    } finally {
      await wrongName.close();
    }
  });

  test('a self-signed server is TLS_ERROR, even with another CA, and ok with skipCertValidation', async () => {
    for (const options of [{}, { caCertificates: [pki.caCertPem] }]) {
      const err = await rejection(addon.validateConnection(fresh(selfSigned).url, pat(token), options));
      assert.equal(err.code, 'TLS_ERROR', `${J(Object.keys(options))} -> ${err.code}: ${err.message}`);
      assert.equal(selfSigned.requests.length, 0);
    }
    const info = await addon.validateConnection(selfSigned.url, pat(token), { skipCertValidation: true });
    assert.equal(info.authenticatedUser.id, IDS.user);
    assert.equal(selfSigned.requests.length, 1);
  });

  test('login with skipCertValidation keeps the skip for that URL alone, until logout', async () => {
    const url = selfSigned.url;
    const others = [`${selfSigned.origin}/OtherCollection`, secure.url, plain.url, 'https://dev.azure.com/fabfiber'];
    const result = await addon.login(url, pat(token), { skipCertValidation: true });
    assert.equal(result.connection.authenticatedUser.id, IDS.user);
    assert.equal(await addon.getSkipCertValidation(url), true);
    assert.equal(await addon.getSkipCertValidation(`${url.toLowerCase()}/`), true, 'the same URL spelled differently');
    for (const other of others) assert.equal(await addon.getSkipCertValidation(other), false, other);

    // Another collection on the very same server is still checked.
    const sibling = await rejection(addon.validateConnection(others[0], pat(token)));
    assert.equal(sibling.code, 'TLS_ERROR', sibling.message);

    assert.equal(await addon.logout(url), true);
    assert.equal(await addon.getSkipCertValidation(url), false);
    const again = await rejection(addon.validateConnection(fresh(selfSigned).url, pat(token)));
    assert.equal(again.code, 'TLS_ERROR', again.message);
    assert.equal(selfSigned.requests.length, 0);
  });
});

describe('proxy', { skip: !hasTinyproxy() && 'tinyproxy not installed (apt-get install tinyproxy)' }, () => {
  let proxy;
  const auth = { user: 'tfxproxy', pass: makeSecret('proxy') };
  before(async () => { proxy = await startProxy({ auth }); });
  after(() => proxy?.close());

  // The same behaviours for a plain-http target (absolute-form GET) and an https one (CONNECT).
  const TARGETS = {
    http: () => ({ ado: plain, options: {}, seen: { method: 'GET', target: `${plain.url}/_apis/connectionData` } }),
    https: () => ({ ado: secure, options: { caCertificates: [pki.caCertPem] }, seen: { method: 'CONNECT', target: `127.0.0.1:${secure.port}` } }),
  };
  const ENV_VARS = { http: ['HTTP_PROXY', 'http_proxy'], https: ['HTTPS_PROXY', 'https_proxy'] };

  for (const [scheme, target] of Object.entries(TARGETS)) {
    test(`${scheme}: options.proxy with credentials goes through the proxy`, async () => {
      const { ado, options, seen } = target();
      const [logged, forwarded] = [proxy.requests().length, proxy.forwardedCount()];
      const info = await addon.validateConnection(fresh(ado).url, pat(token), { ...options, proxy: proxy.urlWithAuth });
      assert.equal(info.authenticatedUser.id, IDS.user);
      assert.deepEqual(proxy.requests().slice(logged), [seen]);
      assert.equal(proxy.forwardedCount(), forwarded + 1);
      assert.equal(ado.requests.length, 1);
      assert.equal(ado.requests[0].headers.authorization, patHeader(token));
      assert.equal(ado.requests[0].headers['proxy-authorization'], undefined);
      if (scheme === 'http') assert.match(ado.requests[0].headers.via ?? '', /tinyproxy/);
    });

    test(`${scheme}: options.proxy without credentials is PROXY_ERROR`, async () => {
      const { ado, options, seen } = target();
      const [logged, forwarded] = [proxy.requests().length, proxy.forwardedCount()];
      const err = await rejection(addon.validateConnection(fresh(ado).url, pat(token), { ...options, proxy: proxy.url }));
      assert.equal(err.code, 'PROXY_ERROR', `${err.code}: ${err.message}`);
      assert.deepEqual(proxy.requests().slice(logged), [seen], 'the proxy was asked');
      assert.equal(proxy.forwardedCount(), forwarded, 'and refused');
      assert.equal(ado.requests.length, 0);
      // Over plain http the proxy's 407 is an HTTP answer; CONNECT failures have no status to show.
      if (scheme === 'http') assert.equal(err.status, 407, 'the error carries the proxy\'s HTTP status');
    });

    test(`${scheme}: a proxy on a closed port is PROXY_ERROR`, async () => {
      const { ado, options } = target();
      const err = await rejection(addon.validateConnection(fresh(ado).url, pat(token),
        { ...options, proxy: `http://${auth.user}:${auth.pass}@127.0.0.1:${await closedPort()}`, timeoutMs: 5000 }));
      assert.equal(err.code, 'PROXY_ERROR', `${err.code}: ${err.message}`);
      assert.equal(ado.requests.length, 0);
    });

    test(`${scheme}: ${ENV_VARS[scheme].join(' and ')} in the environment go through the proxy (child process)`, async () => {
      const { ado, options, seen } = target();
      for (const name of ENV_VARS[scheme]) {
        const logged = proxy.requests().length;
        fresh(ado);
        assert.deepEqual(await validateInChild(ado.url, options, { [name]: proxy.urlWithAuth }), { ok: IDS.user }, name);
        assert.deepEqual(proxy.requests().slice(logged), [seen], name);
        assert.equal(ado.requests.length, 1, name);
      }
    });

    test(`${scheme}: NO_PROXY=127.0.0.1 bypasses the proxy (child process)`, async () => {
      const { ado, options } = target();
      const logged = proxy.requests().length;
      fresh(ado);
      const env = { HTTP_PROXY: proxy.urlWithAuth, HTTPS_PROXY: proxy.urlWithAuth, NO_PROXY: '127.0.0.1' };
      assert.deepEqual(await validateInChild(ado.url, options, env), { ok: IDS.user });
      assert.equal(proxy.requests().length, logged, 'the proxy log is unchanged');
      assert.equal(ado.requests.length, 1);
      assert.equal(ado.requests[0].headers.via, undefined);
    });
  }
});
