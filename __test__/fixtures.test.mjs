// Self-tests of the test fixtures: the fake Azure DevOps server, the throw-away CA and the
// tinyproxy wrapper. They use node's own http/https clients only, so a failure here is a fixture
// bug, not an addon bug. Run: node --test __test__/fixtures.test.mjs
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startFakeAdo, IDS, SCENARIO_NAMES } from './fixtures/fake-ado.mjs';
import { makeTestCA } from './fixtures/ca.mjs';
import { startProxy, hasTinyproxy } from './fixtures/proxy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const basic = (user, pass) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
const GOOD = basic('', 'good-pat');
const DOMAIN_USER = 'fabfiber\\peter';
const DOMAIN_PASS = 'P@ss:w0rd';

// One request with node's client; resolves {status, headers, body}. `proxy` sends it as an
// absolute-form request to an HTTP proxy.
function request(url, { method = 'GET', headers = {}, ca, proxy, body } = {}) {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  // agent: false -> a fresh connection per request, so no test depends on keep-alive reuse
  // (tinyproxy closes after each answer, and Node 20's global agent keeps sockets alive).
  const opts = proxy
    ? { host: new URL(proxy).hostname, port: new URL(proxy).port, path: url, method, headers, agent: false }
    : { method, headers, ca, agent: false };
  return new Promise((resolve, reject) => {
    const onResponse = (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = proxy ? http.request(opts, onResponse) : lib.request(url, opts, onResponse);
    req.on('error', reject);
    req.end(body);
  });
}
const cd = (base) => `${base}/_apis/connectionData`;
const json = (r) => JSON.parse(r.body);

// Every suite has a timeout: a fixture that stops ending responses must fail, not block CI.
const LIMIT = { timeout: 15_000 };

describe('fake-ado ok scenario', LIMIT, () => {
  let ado;
  before(async () => { ado = await startFakeAdo({ basicUsers: { [DOMAIN_USER]: DOMAIN_PASS }, bearerTokens: ['entra-token'] }); });
  after(() => ado.close());

  test('good PAT: realistic connectionData and headers, request recorded', async () => {
    ado.requests.length = 0;
    const r = await request(cd(ado.url), { headers: { Authorization: GOOD, 'X-TFS-FedAuthRedirect': 'Suppress' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(r.headers['x-vss-userdata'], `${IDS.user}:peter@fabfiber.com`);
    const b = json(r);
    assert.equal(b.authenticatedUser.id, IDS.user);
    assert.equal(b.authorizedUser.properties.Account.$value, 'peter@fabfiber.com');
    assert.equal(b.deploymentType, 'hosted');
    assert.equal(b.instanceId, IDS.instance);
    assert.ok(b.locationServiceData.lastChangeId64);
    assert.equal(ado.requests.length, 1);
    const rec = ado.requests[0];
    assert.equal(rec.method, 'GET');
    assert.equal(rec.path, '/DefaultCollection/_apis/connectionData');
    assert.equal(rec.headers.authorization, GOOD);
    assert.equal(rec.headers['x-tfs-fedauthredirect'], 'Suppress');
    assert.equal(rec.listener, 'main');
  });

  test('bad PAT: 401 JSON with challenges, or 203 sign-in page without FedAuthRedirect', async () => {
    const r = await request(cd(ado.url), { headers: { Authorization: basic('x', 'bad'), 'X-TFS-FedAuthRedirect': 'Suppress' } });
    assert.equal(r.status, 401);
    assert.equal(json(r).typeKey, 'UnauthorizedRequestException');
    assert.match(json(r).message, /^TF400813/);
    assert.match(r.headers['www-authenticate'], /Bearer authorization_uri=https:\/\/login\.microsoftonline\.com\//);
    assert.match(r.headers['www-authenticate'], /Basic realm=/);
    assert.equal(r.headers['x-vss-resourcetenant'], IDS.tenant);
    const noAuth = await request(cd(ado.url));
    assert.equal(noAuth.status, 203);
    assert.match(noAuth.body, /<title>Azure DevOps Services \| Sign In<\/title>/);
  });

  test('Basic domain user, Bearer token, org-style and case-insensitive paths', async () => {
    const d = await request(`${ado.origin}/myorg/_apis/ConnectionData`, { headers: { Authorization: basic(DOMAIN_USER, DOMAIN_PASS) } });
    assert.equal(d.status, 200);
    assert.equal(json(d).authenticatedUser.properties.Account.$value, DOMAIN_USER);
    const wrongCase = await request(cd(ado.url), { headers: { Authorization: basic('FABFIBER\\Peter', DOMAIN_PASS) } });
    assert.equal(wrongCase.status, 200, 'Windows user names compare case-insensitively');
    const b = await request(cd(ado.url), { headers: { Authorization: 'Bearer entra-token' } });
    assert.equal(b.status, 200);
    const bad = await request(cd(ado.url), { headers: { Authorization: 'Bearer other', 'X-TFS-FedAuthRedirect': 'Suppress' } });
    assert.equal(bad.status, 401);
  });

  test('tfx-cli routes: locations, resourceAreas, builds, gallery', async () => {
    const h = { Authorization: GOOD };
    const loc = json(await request(`${ado.url}/_apis/Location`, { method: 'OPTIONS', headers: h }));
    assert.ok(loc.value.some((l) => l.id === '00d9565f-ed9c-4a06-9a50-00e7896ccab4' && l.maxVersion && l.releasedVersion && l.resourceVersion));
    assert.deepEqual(json(await request(`${ado.url}/_apis/resourceAreas`, { headers: h })).value, []);
    const build = json(await request(`${ado.url}/_apis/build`, { method: 'OPTIONS', headers: h }));
    assert.equal(build.value[0].id, '0cd358e1-9217-4d94-8269-1c1ee6f93dcf');
    assert.deepEqual(json(await request(`${ado.url}/P/_apis/build/builds`, { headers: h })).value, []);
    const gal = json(await request(`${ado.origin}/_apis/gallery`, { method: 'OPTIONS', headers: h }));
    assert.ok(gal.value.some((l) => l.id === 'e11ea35a-16fe-4b80-ab11-c4cab88a0966'));
    const ext = await request(`${ado.origin}/_apis/public/gallery/publishers/pub/extensions/ext?flags=15`, { headers: h });
    assert.equal(json(ext).extensionName, 'ext');
    const unauth = await request(`${ado.url}/_apis/Location`, { method: 'OPTIONS', headers: { 'X-TFS-FedAuthRedirect': 'Suppress' } });
    assert.equal(unauth.status, 401, 'every route but the health probe needs auth');
    assert.equal((await request(`${ado.origin}/_fake/health`)).status, 200);
  });
});

describe('fake-ado failure scenarios', LIMIT, () => {
  let ado;
  before(async () => { ado = await startFakeAdo({ basicUsers: { [DOMAIN_USER]: DOMAIN_PASS } }); });
  after(() => ado.close());
  const get = (headers = { Authorization: GOOD, 'X-TFS-FedAuthRedirect': 'Suppress' }) => request(cd(ado.url), { headers });

  const table = {
    'unauthorized-json': (r) => { assert.equal(r.status, 401); assert.equal(json(r).typeKey, 'UnauthorizedRequestException'); },
    'unauthorized-html': (r) => {
      assert.equal(r.status, 401);
      assert.match(r.headers['content-type'], /^text\/html/);
      assert.match(r.body, /<title>401 - Unauthorized: Access is denied due to invalid credentials\.<\/title>/);
    },
    'signin-203': (r) => { assert.equal(r.status, 203); assert.match(r.body, /Sign In/); assert.match(r.headers['content-type'], /^text\/html/); },
    'signin-200-html': (r) => { assert.equal(r.status, 200); assert.match(r.headers['content-type'], /^text\/html/); },
    anonymous: (r) => { assert.equal(r.status, 200); assert.equal(json(r).authenticatedUser.id, IDS.anonymous); assert.equal(json(r).authenticatedUser.providerDisplayName, 'Anonymous'); },
    forbidden: (r) => { assert.equal(r.status, 403); assert.ok(json(r).message); },
    'not-found': (r) => { assert.equal(r.status, 404); assert.match(r.headers['content-type'], /^text\/html/); },
    'server-error': (r) => { assert.equal(r.status, 500); assert.ok(json(r).message); },
    'invalid-json': (r) => { assert.equal(r.status, 200); assert.match(r.headers['content-type'], /json/); assert.throws(() => JSON.parse(r.body)); },
    'wrong-shape': (r) => { assert.equal(r.status, 200); assert.deepEqual(json(r), {}); },
    'not-json': (r) => { assert.equal(r.status, 200); assert.equal(r.headers['content-type'], 'text/plain'); assert.equal(r.body, 'hello'); },
  };
  for (const [name, check] of Object.entries(table)) {
    test(name, async () => { ado.setScenario(name); check(await get()); });
  }

  test('onprem: PAT and DOMAIN\\user work; failures are IIS HTML with three challenges', async () => {
    ado.setScenario('onprem');
    const r = await get({ Authorization: basic(DOMAIN_USER, DOMAIN_PASS) });
    assert.equal(json(r).deploymentType, 'onPremises');
    assert.equal((await get()).status, 200);
    const bad = await get({ Authorization: basic(DOMAIN_USER, 'nope') });
    assert.equal(bad.status, 401);
    assert.match(bad.body, /401 - Unauthorized/);
    assert.equal(bad.headers['www-authenticate'], 'Negotiate, NTLM, Basic realm="server"');
  });

  test('reset: the body breaks off', async () => {
    ado.setScenario('reset');
    await assert.rejects(get(), (err) => /aborted|ECONNRESET|socket hang up/i.test(`${err.code} ${err.message}`));
  });

  test('same-host and cross-host redirects', async () => {
    ado.setScenario('redirect-same-host');
    const first = await get();
    assert.equal(first.status, 302);
    assert.equal(new URL(first.headers.location).origin, ado.origin);
    assert.equal((await request(first.headers.location, { headers: { Authorization: GOOD } })).status, 200);

    ado.setScenario('redirect-cross-host');
    ado.requests.length = 0;
    const hop = await get();
    assert.equal(hop.status, 302);
    const target = new URL(hop.headers.location);
    assert.equal(target.hostname, 'localhost');
    assert.notEqual(target.port, String(ado.port));
    const landed = await request(hop.headers.location); // no Authorization: the target must not care
    assert.equal(json(landed).authenticatedUser.id, IDS.user);
    assert.deepEqual(ado.requests.map((q) => q.listener), ['main', 'redirect-target']);
  });

  test('slow and delayMs', async () => {
    ado.setScenario('ok');
    const slow = await startFakeAdo({ scenario: 'slow', delayMs: 300 });
    try {
      const t0 = Date.now();
      const r = await request(cd(slow.url), { headers: { Authorization: GOOD } });
      assert.equal(r.status, 200);
      assert.ok(Date.now() - t0 >= 290, 'slow waits delayMs');
    } finally { await slow.close(); }
  });

  test('unknown scenario and non-loopback host are refused', async () => {
    assert.throws(() => ado.setScenario('nope'), /unknown scenario/);
    await assert.rejects(startFakeAdo({ host: '0.0.0.0' }), /a loopback address \(127\.0\.0\.0\/8, ::1\)/);
    await assert.rejects(startFakeAdo({ host: '128.0.0.1' }), /a loopback address/);
    assert.deepEqual([...SCENARIO_NAMES].sort(), ['anonymous', 'forbidden', 'hang', 'huge', 'invalid-json', 'no-response',
      'not-found', 'not-json', 'ok', 'onprem', 'open', 'redirect-all', 'redirect-builds', 'redirect-cross-host', 'redirect-same-host',
      'reset', 'resource-area-elsewhere', 'server-error',
      'signin-200-html', 'signin-203', 'slow', 'unauthorized-html', 'unauthorized-json', 'wrong-shape']);
  });
});

describe('fake-ado endless responses end on close()', LIMIT, () => {
  test('hang trickles a byte a second until close()', async () => {
    const ado = await startFakeAdo({ scenario: 'hang' });
    const ended = new Promise((resolve) => {
      http.get(cd(ado.url), { headers: { Authorization: GOOD } }, (res) => {
        assert.equal(res.statusCode, 200);
        let bytes = 0;
        res.on('data', (c) => { bytes += c.length; if (bytes === 2) ado.close(); });
        res.on('error', () => resolve('error'));
        res.on('close', () => resolve('closed'));
      }).on('error', () => resolve('error'));
    });
    assert.ok(await ended);
  });

  test('no-response: close() fails the pending request', async () => {
    const ado = await startFakeAdo({ scenario: 'no-response' });
    const pending = request(cd(ado.url), { headers: { Authorization: GOOD } });
    setTimeout(() => ado.close(), 100);
    await assert.rejects(pending, /socket hang up|ECONNRESET/);
  });

  test('huge streams its declared size and stops when the client leaves', async () => {
    const ado = await startFakeAdo({ scenario: 'huge' });
    try {
      const seen = await new Promise((resolve, reject) => {
        http.get(cd(ado.url), { headers: { Authorization: GOOD } }, (res) => {
          let n = 0;
          assert.ok(Number(res.headers['content-length']) > 100 * 1024 * 1024);
          res.on('data', (c) => { n += c.length; if (n > 2 * 1024 * 1024) { res.destroy(); resolve(n); } });
        }).on('error', reject);
      });
      assert.ok(seen > 2 * 1024 * 1024);
    } finally { await ado.close(); }
    const small = await startFakeAdo({ scenario: 'huge', hugeBytes: 100_000 });
    try {
      const r = await request(cd(small.url), { headers: { Authorization: GOOD } });
      assert.equal(json(r).authenticatedUser.providerDisplayName.length, 100_000);
    } finally { await small.close(); }
  });
});

describe('https with a generated CA', LIMIT, () => {
  let dir; let pki;
  before(async () => { dir = mkdtempSync(path.join(os.tmpdir(), 'tfx-auth-ca-')); pki = await makeTestCA(dir); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const host of ['127.0.0.1', '::1']) {
    test(`CA-signed server on ${host}: trusted with the CA, refused without`, async () => {
      const ado = await startFakeAdo({ host, https: { key: pki.key, cert: pki.cert } });
      try {
        assert.match(ado.url, /^https:/);
        const r = await request(cd(ado.url), { headers: { Authorization: GOOD }, ca: pki.caCertPem });
        assert.equal(r.status, 200);
        await assert.rejects(request(cd(ado.url), { headers: { Authorization: GOOD } }), (e) => e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      } finally { await ado.close(); }
    });
  }

  test('self-signed server is not trusted by the CA', async () => {
    const ado = await startFakeAdo({ https: { key: pki.selfSignedKey, cert: pki.selfSignedCert } });
    try {
      await assert.rejects(request(cd(ado.url), { headers: { Authorization: GOOD }, ca: pki.caCertPem }), (e) => e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally { await ado.close(); }
  });

  test('certificates carry what rustls checks', () => {
    const leaf = new X509Certificate(pki.cert);
    const ca = new X509Certificate(pki.caCertPem);
    assert.ok(leaf.subjectAltName.includes('IP Address:127.0.0.1') && leaf.subjectAltName.includes('DNS:localhost'));
    assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
    assert.equal(ca.ca, true);
    assert.equal(leaf.ca, false);
    assert.ok(existsSync(pki.caCertPath));
  });
});

describe('tinyproxy', { ...LIMIT, skip: !hasTinyproxy() && 'tinyproxy not installed (apt-get install tinyproxy)' }, () => {
  let ado; let dir; let pki;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tfx-auth-px-'));
    pki = await makeTestCA(dir);
    ado = await startFakeAdo();
  });
  after(async () => { await ado.close(); rmSync(dir, { recursive: true, force: true }); });

  test('forwards plain http with credentials; 407 without, 401 with wrong ones', async () => {
    const proxy = await startProxy({ auth: { user: 'alice', pass: 's3cret' } });
    try {
      ado.requests.length = 0;
      const ok = await request(cd(ado.url), { proxy: proxy.url, headers: { Authorization: GOOD, 'Proxy-Authorization': basic('alice', 's3cret') } });
      assert.equal(ok.status, 200);
      assert.equal(ado.requests.length, 1);
      assert.match(ado.requests[0].headers.via, /tinyproxy/);
      assert.equal(ado.requests[0].headers['proxy-authorization'], undefined);
      const none = await request(cd(ado.url), { proxy: proxy.url, headers: { Authorization: GOOD } });
      assert.equal(none.status, 407);
      assert.match(none.headers['proxy-authenticate'], /Basic/);
      const wrong = await request(cd(ado.url), { proxy: proxy.url, headers: { Authorization: GOOD, 'Proxy-Authorization': basic('alice', 'x') } });
      assert.equal(wrong.status, 401, 'tinyproxy answers wrong proxy credentials with 401, not 407');
      assert.equal(ado.requests.length, 1, 'refused requests never reach the server');
      assert.equal(proxy.requests().length, 3);
      assert.equal(proxy.forwardedCount(), 1);
    } finally { await proxy.close(); }
  });

  test('CONNECT to an https server on a random loopback port', async () => {
    const proxy = await startProxy();
    const secure = await startFakeAdo({ https: { key: pki.key, cert: pki.cert } });
    try {
      const socket = await new Promise((resolve, reject) => {
        http.request({ host: '127.0.0.1', port: proxy.port, method: 'CONNECT', path: `127.0.0.1:${secure.port}` })
          .on('connect', (res, s) => (res.statusCode === 200 ? resolve(s) : reject(new Error(`CONNECT ${res.statusCode}`))))
          .on('error', reject).end();
      });
      const r = await new Promise((resolve, reject) => {
        https.get(cd(secure.url), { createConnection: () => tls.connect({ socket, ca: pki.caCertPem, servername: undefined }), headers: { Authorization: GOOD } }, (res) => {
          res.resume(); res.on('end', () => resolve(res.statusCode));
        }).on('error', reject);
      });
      assert.equal(r, 200);
      assert.deepEqual(proxy.requests().map((q) => q.method), ['CONNECT']);
    } finally { await secure.close(); await proxy.close(); }
  });

  test('refuses credentials tinyproxy cannot parse', async () => {
    await assert.rejects(startProxy({ auth: { user: 'a', pass: 'p:ss' } }), /A-Za-z0-9/);
  });
});

test('CLI prints its URL and stops on SIGTERM', LIMIT, async () => {
  const child = spawn(process.execPath, [path.join(here, 'fixtures/fake-ado.mjs'), '--port', '0', '--token', 'cli-pat'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  const { url, port } = JSON.parse(line);
  assert.ok(port > 0);
  assert.equal((await request(cd(url), { headers: { Authorization: basic('', 'cli-pat') } })).status, 200);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});

// The real tfx-cli accepts the fake server. Skipped unless tfx-cli 0.23.1 is installed somewhere
// known (TFX_CLI_JS, ./node_modules, or the /tmp/tfxstock reference install).
const tfxJs = [process.env.TFX_CLI_JS, path.join(here, '../node_modules/tfx-cli/_build/tfx-cli.js'),
  '/tmp/tfxstock/node_modules/tfx-cli/_build/tfx-cli.js'].find((p) => p && existsSync(p));
test('stock tfx-cli logs in, lists builds and shows an extension', { ...LIMIT, skip: !tfxJs && 'tfx-cli not installed' }, async () => {
  const ado = await startFakeAdo();
  // A fresh HOME: tfx-cli keeps its plaintext ~/.tfx store there.
  const home = mkdtempSync(path.join(os.tmpdir(), 'tfx-auth-home-'));
  const tfx = (...args) => new Promise((resolve) => {
    execFile(process.execPath, [tfxJs, ...args, '--no-color'], { env: { ...process.env, HOME: home } },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, out: stdout + stderr }));
  });
  try {
    const login = await tfx('login', '--service-url', ado.url, '--token', 'good-pat', '--no-prompt');
    assert.match(login.out, /Logged in successfully/);
    assert.equal((await tfx('build', 'list', '--project', 'P')).code, 0);
    const show = await tfx('extension', 'show', '--publisher', 'pub', '--extension-id', 'ext', '--service-url', ado.origin, '--token', 'good-pat', '--json');
    assert.equal(show.code, 0, show.out);
    assert.match(show.out, /"extensionName": "ext"/);
  } finally { await ado.close(); rmSync(home, { recursive: true, force: true }); }
});
