// Self-signed server certificates (issue 13, item 1): on-premises servers often present one made
// with `openssl req -x509`, which marks it CA:TRUE. Trusted through caCertificates or
// NODE_EXTRA_CA_CERTS, it must be accepted as stock tfx (Node, OpenSSL) accepts it, with the host
// name and the validity period still checked; untrusted, for another host or expired, it is
// TLS_ERROR with advice that fits what is already set. Every certificate is made at test time.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isolateThisProcess, freshDirs, makeSecret, rejection, runAddonScript, findLeaks } from './helpers.mjs';
import { scrubProxyEnv, pat, patHeader } from './net-helpers.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';
import { makeTestCA, makeSelfSigned } from './fixtures/ca.mjs';
import { startPrivateKeyring, commandEnv, tfx, stockTfx, keyringLookup, basicHeader, BANNER } from './tfx-helpers.mjs';

scrubProxyEnv();
delete process.env.NODE_EXTRA_CA_CERTS;
process.env.TFX_AUTH_STORE = 'file';
const dirs = isolateThisProcess('tfx-auth-self-signed');
const addon = createRequire(import.meta.url)('../index.js');
const token = makeSecret('pat');
const J = JSON.stringify;
const childDirs = [];

let pki; let certs; const servers = {};

before(async () => {
  const folder = join(dirs.base, 'pki');
  pki = await makeTestCA(folder);
  certs = {
    usual: makeSelfSigned(folder),
    otherHost: makeSelfSigned(folder, { hosts: ['tfs.example'], name: 'other-host' }),
    expired: makeSelfSigned(folder, { expired: true, name: 'expired' }),
    caFalse: { cert: pki.selfSignedCert, key: pki.selfSignedKey, certPath: pki.selfSignedCertPath },
    caSigned: { cert: pki.cert, key: pki.key, certPath: pki.certPath },
  };
  // A bundle with the self-signed certificate after an unrelated CA: every entry counts.
  certs.bundlePath = join(folder, 'bundle.pem');
  writeFileSync(certs.bundlePath, pki.caCertPem + certs.usual.cert);
  for (const [name, { key, cert }] of Object.entries(certs)) {
    if (key) servers[name] = await startFakeAdo({ https: { key, cert }, tokens: [token] });
  }
});

after(async () => {
  await Promise.all(Object.values(servers).map((s) => s.close()));
  assert.deepEqual(findLeaks({ dirs: [dirs.base, ...childDirs], allowed: [addon.storageInfo().location] }), [],
    'no secret in any message, child output or file');
  rmSync(join(dirs.base, 'pki'), { recursive: true, force: true });
});

test('the certificates are what the tests say they are', () => {
  const x = (name) => new X509Certificate(certs[name].cert);
  assert.equal(x('usual').ca, true, 'openssl req -x509 with the system openssl.cnf marks it CA:TRUE');
  assert.equal(x('expired').ca, true);
  assert.equal(x('caFalse').ca, false);
  for (const name of ['usual', 'otherHost', 'expired', 'caFalse']) assert.equal(x(name).subject, x(name).issuer, name);
  assert.notEqual(x('caSigned').subject, x('caSigned').issuer);
  assert.ok(new Date(x('expired').validTo) < new Date());
});

// The reasons TLS_ERROR messages give, and the advice they must not give when it is already taken.
const UNTRUSTED = /not signed by a trusted certificate authority/;
const MISMATCH = /does not match its host name/;
const EXPIRED = /has expired/;
const SET_THE_VARIABLE = /pass (its|the server's) certificate .*NODE_EXTRA_CA_CERTS/i;

// [what, server, trusted certificates, expected: 'ok' or the message's reason]
const CASES = [
  ['a CA:TRUE self-signed certificate (openssl req -x509) that is trusted', 'usual', ['usual'], 'ok'],
  ['a CA:FALSE self-signed certificate that is trusted', 'caFalse', ['caFalse'], 'ok'],
  ['a trusted self-signed certificate among other trusted certificates', 'usual', ['caFalse', 'usual'], 'ok'],
  ['a CA:TRUE self-signed certificate that is not trusted', 'usual', [], UNTRUSTED],
  ['a CA:TRUE self-signed certificate while another one is trusted', 'usual', ['caFalse'], UNTRUSTED],
  ['a CA:FALSE self-signed certificate while another one is trusted', 'caFalse', ['usual'], UNTRUSTED],
  ['a trusted self-signed certificate for another host name', 'otherHost', ['otherHost'], MISMATCH],
  ['an expired trusted self-signed certificate', 'expired', ['expired'], EXPIRED],
  // Only a certificate that is its own issuer stands alone (as in OpenSSL without partial chains).
  ['a CA-signed server certificate trusted by itself, without its CA', 'caSigned', ['caSigned'], UNTRUSTED],
];

function checkRefusal(what, err, expected, server) {
  assert.equal(err.code ?? err.error, 'TLS_ERROR', `${what}: ${J(err)}`);
  assert.match(err.message, expected, what);
  assert.doesNotMatch(err.message, /CaUsedAsEndEntity/, what);
  assert.equal(server.requests.length, 0, `${what}: nothing was sent`);
}

describe('caCertificates', () => {
  for (const [what, name, trusted, expected] of CASES) {
    test(`${what}: ${expected === 'ok' ? 'accepted' : `TLS_ERROR ${expected.source}`}`, async () => {
      const server = servers[name];
      server.requests.length = 0;
      const options = trusted.length ? { caCertificates: trusted.map((t) => certs[t].cert) } : {};
      const outcome = addon.validateConnection(server.url, pat(token), options);
      if (expected === 'ok') {
        assert.equal((await outcome).authenticatedUser.id, IDS.user);
        assert.equal(server.requests.length, 1);
        assert.equal(server.requests[0].headers.authorization, patHeader(token));
        return;
      }
      const err = await rejection(outcome);
      checkRefusal(what, err, expected, server);
      if (trusted.length) {
        assert.doesNotMatch(err.message, SET_THE_VARIABLE, `${what}: the certificates were passed`);
        if (expected === UNTRUSTED) assert.match(err.message, /caCertificates .*do(es)? not hold/, what);
      }
    });
  }

  test('the same certificate by file path is trusted too', async () => {
    const info = await addon.validateConnection(servers.usual.url, pat(token), { caCertificates: [certs.usual.certPath] });
    assert.equal(info.authenticatedUser.id, IDS.user);
  });

  test('with nothing trusted, the advice is to pass the certificate', async () => {
    const err = await rejection(addon.validateConnection(servers.usual.url, pat(token)));
    assert.match(err.message, /NODE_EXTRA_CA_CERTS or caCertificates/, err.message);
  });
});

/** Validates in a fresh Node process with NODE_EXTRA_CA_CERTS (and nothing else) set. */
async function validateInChild(url, extraCaCerts) {
  const d = freshDirs('tfx-auth-self-signed-child');
  childDirs.push(d.base);
  const env = scrubProxyEnv({ ...process.env, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file' });
  delete env.NODE_EXTRA_CA_CERTS;
  if (extraCaCerts) env.NODE_EXTRA_CA_CERTS = extraCaCerts;
  const res = await runAddonScript(
    `const info = await addon.validateConnection(${J(url)}, ${J(pat(token))}); out({ ok: info.authenticatedUser.id });`, env);
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

describe('NODE_EXTRA_CA_CERTS (child processes)', () => {
  for (const [what, name, trusted, expected] of CASES) {
    if (trusted.length > 1) continue; // the bundle case below
    test(`${what}: ${expected === 'ok' ? 'accepted' : `TLS_ERROR ${expected.source}`}`, async () => {
      const server = servers[name];
      server.requests.length = 0;
      const result = await validateInChild(server.url, trusted.length ? certs[trusted[0]].certPath : undefined);
      if (expected === 'ok') {
        assert.deepEqual(result, { ok: IDS.user });
        return;
      }
      checkRefusal(what, result, expected, server);
      if (trusted.length) {
        assert.doesNotMatch(result.message, SET_THE_VARIABLE, `${what}: NODE_EXTRA_CA_CERTS is set`);
        if (expected === UNTRUSTED) {
          assert.ok(result.message.includes(`NODE_EXTRA_CA_CERTS (${certs[trusted[0]].certPath}) does not hold`), result.message);
        }
      }
    });
  }

  test('a bundle holding a CA and the self-signed certificate is accepted', async () => {
    assert.deepEqual(await validateInChild(servers.usual.url, certs.bundlePath), { ok: IDS.user });
  });
});

describe('tfx login and build list against a self-signed server, as with stock tfx', () => {
  let keyring; let base;
  const PATH = [dirname(process.execPath), ...(process.env.PATH || '').split(':')].join(':');
  before(async () => {
    keyring = await startPrivateKeyring();
    base = mkdtempSync(join(tmpdir(), 'tfx-self-signed-'));
  });
  after(async () => {
    await keyring?.stop();
    if (base) rmSync(base, { recursive: true, force: true });
  });

  test('NODE_EXTRA_CA_CERTS holding the server\'s own CA:TRUE certificate: login, then build list', async () => {
    const s = servers.usual;
    const env = (label) => commandEnv(base, label, keyring.address, { PATH, NODE_EXTRA_CA_CERTS: certs.usual.certPath }).env;
    const login = ['login', '--service-url', s.url, '--token', token, '--no-prompt'];
    const loggedIn = `${BANNER}Logged in successfully\n`;

    const stock = await stockTfx(login, env('stock'));
    assert.deepEqual([stock.code, stock.stdout, stock.stderr], [0, loggedIn, ''], 'stock tfx accepts the certificate');

    const e = env('ours');
    const ours = await tfx(login, e);
    assert.deepEqual([ours.code, ours.stdout, ours.stderr], [0, loggedIn, '']);
    assert.equal(await keyringLookup(addon.normalizeServiceUrl(s.url), keyring.address), `pat:${token}`);

    s.requests.length = 0;
    const list = await tfx(['build', 'list', '--project', 'P'], e);
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
    const builds = s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));
    assert.equal(builds.length, 1);
    assert.equal(builds[0].headers.authorization, basicHeader('OAuth', token));
  });
});
