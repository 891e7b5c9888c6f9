// Which given certificates may sign others (issue 18, item 2). A certificate in caCertificates or
// NODE_EXTRA_CA_CERTS is a trust anchor only when it is a CA (basicConstraints CA:TRUE,
// keyCertSign when it has a key usage) valid now; any other counts only as the exact pinned
// server certificate. The attack: whoever holds the key of a pinned server certificate (CA:FALSE,
// without keyCertSign, or expired) signs a certificate for another host and answers there;
// tfx-auth must refuse it as Node does. Every verdict is compared with Node's own on the same
// files (tls.connect with `ca:`, or NODE_EXTRA_CA_CERTS in a child), certificates made at test time.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { connect } from 'node:tls';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { isolateThisProcess, freshDirs, makeSecret, rejection, run, runAddonScript, findLeaks, ROOT } from './helpers.mjs';
import { scrubProxyEnv, pat } from './net-helpers.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';
import { makeCertificate } from './fixtures/ca.mjs';

scrubProxyEnv();
delete process.env.NODE_EXTRA_CA_CERTS;
process.env.TFX_AUTH_STORE = 'file';
const dirs = isolateThisProcess('tfx-auth-trust-anchors');
const addon = createRequire(import.meta.url)('../index.js');
const token = makeSecret('pat');
const J = JSON.stringify;
const DAY = 86_400_000;
const childDirs = [];
const fileStores = []; // the file stores of child processes: secrets there by design

// The pinned certificates are for 127.0.0.1; the impostors they sign are for localhost.
const PINNED_HOST = 'IP:127.0.0.1';
const SERVER = ['extendedKeyUsage = serverAuth', `subjectAltName = ${PINNED_HOST}`];
const ISSUERS = {
  // A real CA: the control, accepted by Node and tfx-auth alike.
  ca: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign'],
  caFalse: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature,keyEncipherment', ...SERVER],
  noKeyCertSign: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,digitalSignature,keyEncipherment', ...SERVER],
  expired: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,digitalSignature', ...SERVER],
  notYetValid: ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,digitalSignature', ...SERVER],
};
const VALIDITY = {
  expired: [new Date('2020-01-01T00:00:00Z'), new Date('2020-02-01T00:00:00Z')],
  notYetValid: [new Date(Date.now() + 30 * DAY), new Date(Date.now() + 60 * DAY)],
};

const pki = {}; const impostors = {}; const pinnedServers = {};
let folder;

before(async () => {
  folder = join(dirs.base, 'pki');
  for (const [name, ext] of Object.entries(ISSUERS)) {
    pki[name] = makeCertificate(folder, name, { subject: `pinned ${name}`, ext, valid: VALIDITY[name] });
    const leaf = makeCertificate(folder, `${name}-leaf`, {
      subject: 'localhost', issuer: pki[name],
      ext: ['basicConstraints = critical,CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = serverAuth',
        'subjectAltName = DNS:localhost'],
    });
    // The impostor sends its issuer along, to give a verifier every chance to take it as one.
    impostors[name] = await startFakeAdo({ https: { key: leaf.key, cert: leaf.cert + pki[name].cert }, tokens: [token] });
    if (name !== 'ca') pinnedServers[name] = await startFakeAdo({ https: { key: pki[name].key, cert: pki[name].cert }, tokens: [token] });
  }
});

after(async () => {
  await Promise.all([...Object.values(impostors), ...Object.values(pinnedServers)].map((s) => s.close()));
  assert.deepEqual(findLeaks({ dirs: [dirs.base, ...childDirs], allowed: [addon.storageInfo().location, ...fileStores] }), [],
    'no secret in any message, child output or file');
  rmSync(folder, { recursive: true, force: true });
});

const impostorUrl = (name) => `https://localhost:${new URL(impostors[name].url).port}/DefaultCollection`;
const pinnedUrl = (name) => pinnedServers[name].url;
const target = (kind, name) => (kind === 'impostor'
  ? { url: impostorUrl(name), server: impostors[name] }
  : { url: pinnedUrl(name), server: pinnedServers[name] });

/** Node's verdict: true when a TLS client trusting exactly `ca` accepts the server at `url`. */
function nodeAccepts(url, ca) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), servername: hostname, ca, rejectUnauthorized: false }, () => {
      resolve({ ok: socket.authorized, why: String(socket.authorizationError ?? '') });
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** tfx-auth's verdict through validateConnection: true, or the error code. */
async function tfxAuthAccepts(url, ca) {
  try {
    const info = await addon.validateConnection(url, pat(token), { caCertificates: ca });
    assert.equal(info.authenticatedUser.id, IDS.user);
    return true;
  } catch (err) {
    await rejection(Promise.reject(err));
    return err.code ?? String(err);
  }
}

// [what, which server (the impostor for localhost or the pinned one's own), the trusted
// certificate (and the server's name), Node's expected verdict]
const CASES = [
  ['a CA with keyCertSign signing a server certificate for localhost', 'impostor', 'ca', true],
  ['a pinned CA:FALSE server certificate signing one for another host', 'impostor', 'caFalse', false],
  ['a pinned CA:TRUE certificate without keyCertSign signing one for another host', 'impostor', 'noKeyCertSign', false],
  ['a pinned expired CA signing a valid certificate for another host', 'impostor', 'expired', false],
  ['a pinned CA not valid yet signing a certificate for another host', 'impostor', 'notYetValid', false],
  // As the exact pinned server certificate each still counts, with dates checked.
  ['the pinned CA:FALSE certificate presented by its own server', 'pinned', 'caFalse', true],
  ['the pinned CA:TRUE certificate without keyCertSign presented by its own server', 'pinned', 'noKeyCertSign', true],
  ['the pinned expired certificate presented by its own server', 'pinned', 'expired', false],
];

describe('caCertificates: tfx-auth decides as Node does', () => {
  for (const [what, kind, trusted, nodeVerdict] of CASES) {
    test(`${what}: ${nodeVerdict ? 'accepted' : 'refused'}`, async () => {
      const ca = [pki[trusted].cert];
      const { url, server } = target(kind, trusted);
      const node = await nodeAccepts(url, ca);
      assert.equal(node.ok, nodeVerdict, `Node's verdict (${node.why}) is what this case says`);
      server.requests.length = 0;
      assert.equal(await tfxAuthAccepts(url, ca), nodeVerdict ? true : 'TLS_ERROR', what);
      if (!nodeVerdict) assert.equal(server.requests.length, 0, `${what}: nothing was sent`);
    });
  }
});

/** Node (https.get) and tfx-auth in one fresh process with only NODE_EXTRA_CA_CERTS set. */
async function bothInChild(url, extraCaCerts) {
  const d = freshDirs('tfx-auth-trust-anchors-child');
  childDirs.push(d.base);
  const env = scrubProxyEnv({ ...process.env, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file',
    NODE_EXTRA_CA_CERTS: extraCaCerts });
  const res = await runAddonScript(`
const https = await import('node:https');
const node = await new Promise((resolve) => https.get(${J(`${url}/_apis/connectionData`)}, (r) => { r.resume(); resolve(true); })
  .on('error', (e) => resolve(e.code)));
let ours;
try { await addon.validateConnection(${J(url)}, ${J(pat(token))}); ours = true; } catch (e) { ours = e.code; }
out({ node, ours });`, env);
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop());
}

describe('NODE_EXTRA_CA_CERTS (child processes): tfx-auth decides as Node does', () => {
  for (const [what, kind, trusted, nodeVerdict] of CASES) {
    test(`${what}: ${nodeVerdict ? 'accepted' : 'refused'}`, async () => {
      const { node, ours } = await bothInChild(target(kind, trusted).url, pki[trusted].certPath);
      assert.equal(node === true, nodeVerdict, `Node's verdict (${node})`);
      assert.equal(ours, nodeVerdict ? true : 'TLS_ERROR', what);
    });
  }
});

test('tfx-auth status does not send another login\'s PAT to a host a pinned certificate vouches for', async () => {
  const d = freshDirs('tfx-auth-trust-anchors-status');
  childDirs.push(d.base);
  const env = scrubProxyEnv({ ...process.env, HOME: d.HOME, XDG_CONFIG_HOME: d.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file' });
  delete env.NODE_EXTRA_CA_CERTS;
  fileStores.push(join(d.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json'));
  // Two logins: the pinned on-premises server, and another one at localhost.
  const other = makeSecret('otherpat');
  const stored = await runAddonScript(`
await addon.storeCredential(${J(pinnedUrl('caFalse'))}, ${J(pat(token))});
await addon.storeCredential(${J(impostorUrl('caFalse'))}, ${J(pat(other))});
out('ok');`, env);
  assert.equal(stored.stdout, '"ok"\n', stored.stderr);
  const impostor = impostors.caFalse;
  impostor.requests.length = 0;
  const r = await run(process.execPath, [join(ROOT, 'bin', 'tfx-auth.js'), 'status', '--json'],
    { env: { ...env, NODE_EXTRA_CA_CERTS: pki.caFalse.certPath } });
  assert.equal(r.code, 1, r.stderr);
  const logins = JSON.parse(r.stdout).logins;
  const byUrl = Object.fromEntries(logins.map((l) => [l.serviceUrl, l]));
  assert.equal(byUrl[pinnedUrl('caFalse')]?.valid, true, J(logins));
  const refused = byUrl[impostorUrl('caFalse')];
  assert.equal(refused.valid, false, J(refused));
  assert.equal(refused.error.code, 'TLS_ERROR', J(refused));
  assert.deepEqual(impostor.requests, [], 'the impostor received nothing, the other PAT least of all');
});
