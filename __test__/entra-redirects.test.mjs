// The sign-in authority's redirects are never followed (issue 18, item 4). A 307/308 from the
// device-code or token endpoint would make an HTTP client re-post the form (client id and scope,
// the device code, the refresh token) to wherever it points, https to http on the same host
// included; a 301/302 would still send a request there. tfx-auth treats any 3xx from an OAuth
// endpoint as AUTHORITY_ERROR. A front server stands before the fake authority, passes requests
// through, and answers the chosen endpoint with a redirect to a recording server on another port:
// that one must receive nothing, whatever the status and scheme.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { startFakeAuthority } from './fixtures/fake-authority.mjs';
import { makeTestCA } from './fixtures/ca.mjs';
import { isolateThisProcess, rememberSecret, rejection, findLeaks } from './helpers.mjs';
import { scrubProxyEnv } from './net-helpers.mjs';

scrubProxyEnv();
const dirs = isolateThisProcess('tfx-auth-entra-redirects');
process.env.TFX_AUTH_STORE = 'file';
// Loopback fakes are allowed Entra hosts (issue 18, item 3; ignored where that rule is not in).
process.env.TFX_AUTH_ENTRA_HOSTS = '127.0.0.1';
const addon = createRequire(import.meta.url)('../index.js');

let pki;
const closers = [];
before(async () => {
  pki = await makeTestCA(join(dirs.base, 'pki'));
});
afterEach(async () => {
  await addon.logoutAll();
  await Promise.all(closers.splice(0).map((close) => close()));
});
after(() => {
  assert.deepEqual(findLeaks({ dirs: [dirs.base], allowed: [addon.storageInfo().location] }), [],
    'no token or device code in any message or file');
});

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));

/** Records every request it gets; answers like a token endpoint would, so a follower would go on. */
async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, body });
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
    });
  });
  const port = await listen(server);
  closers.push(() => new Promise((r) => server.close(r)));
  return { requests, origin: `http://127.0.0.1:${port}` };
}

/**
 * Passes every request through to `authority`, except those whose path matches `redirect.path`
 * (while set): those get `redirect.status` to the same path at `to`.
 */
async function startFront(authority, to, { tls = false } = {}) {
  const state = { redirect: null, redirected: [] };
  const handler = (req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      if (state.redirect && state.redirect.path.test(req.url)) {
        state.redirected.push(req.url);
        res.writeHead(state.redirect.status, { location: `${to.origin}${req.url}` }).end();
        return;
      }
      const forward = http.request(`${authority.url}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(authority.url).host } }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      forward.end(Buffer.concat(chunks));
    });
  };
  const server = tls ? https.createServer({ key: pki.key, cert: pki.cert }, handler) : http.createServer(handler);
  const port = await listen(server);
  closers.push(() => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }));
  return { state, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}` };
}

async function setUp({ tls = false, accessTokenTtl } = {}) {
  const authority = await startFakeAuthority({ onSecret: rememberSecret, accessTokenTtl });
  const ado = await startFakeAdo({ bearerTokens: authority.acceptsAccessToken });
  closers.push(() => ado.close(), () => authority.close());
  const recorder = await startRecorder();
  const front = await startFront(authority, recorder, { tls });
  const options = { authority: front.url, ...(tls ? { caCertificates: [pki.caCertPem] } : {}) };
  return { authority, ado, recorder, front, options };
}

const DEVICE_CODE = /\/oauth2\/v2\.0\/devicecode$/;
const TOKEN = /\/oauth2\/v2\.0\/token$/;

function assertRefused(err, status, recorder, front) {
  assert.equal(err.code, 'AUTHORITY_ERROR', err.message);
  assert.equal(err.status, status, err.message);
  assert.match(err.message, new RegExp(`redirect \\(HTTP ${status}\\)`), err.message);
  assert.doesNotMatch(err.message, new RegExp(recorder.origin.replace(/[.:/]/g, '\\$&')), 'the target is not shown');
  assert.equal(front.state.redirected.length, 1, 'the redirect was answered once, not retried');
  assert.deepEqual(recorder.requests, [], 'nothing reached the redirect target');
}

for (const [status, tls] of [[307, false], [308, false], [302, false], [307, true], [308, true]]) {
  const how = `${status}${tls ? ' from https to http on the same host' : ' to another port'}`;

  test(`device code endpoint answering ${how}: AUTHORITY_ERROR, nothing re-posted`, async () => {
    const { recorder, front, ado, options } = await setUp({ tls });
    front.state.redirect = { path: DEVICE_CODE, status };
    const err = await rejection(addon.startEntraLogin(ado.url, options));
    assertRefused(err, status, recorder, front);
  });

  test(`token endpoint (device code poll) answering ${how}: AUTHORITY_ERROR, the device code not re-posted, nothing stored`, async () => {
    const { recorder, front, ado, options } = await setUp({ tls });
    const signIn = await addon.startEntraLogin(ado.url, options);
    front.state.redirect = { path: TOKEN, status };
    const err = await rejection(signIn.complete());
    assertRefused(err, status, recorder, front);
    assert.deepEqual(await addon.listLogins(), []);
  });
}

test('refresh grant answering 307 or 308: the refresh token is not re-posted; the login stays', async () => {
  const { authority, recorder, front, ado, options } = await setUp({ accessTokenTtl: 3 });
  const signIn = await addon.startEntraLogin(ado.url, options);
  authority.approve(signIn.userCode);
  await signIn.complete();
  const before = await addon.getCredential(ado.url).catch(() => null);
  assert.equal(authority.refreshes().length, 1, 'the 3 s token was renewed once, through the front');

  // Still valid (3 s left of the renewed one): a failed renewal keeps it, and sends nothing elsewhere.
  front.state.redirect = { path: TOKEN, status: 307 };
  const kept = await addon.getCredential(ado.url);
  assert.equal(kept.accessToken, before.accessToken);
  assert.equal(front.state.redirected.length, 1);
  assert.deepEqual(recorder.requests, [], 'nothing reached the redirect target');

  // Expired: the failed renewal is the answer.
  await new Promise((r) => setTimeout(r, Math.max(0, kept.expiresOn - Date.now()) + 200));
  front.state.redirected.length = 0;
  front.state.redirect = { path: TOKEN, status: 308 };
  const err = await rejection(addon.getCredential(ado.url));
  assertRefused(err, 308, recorder, front);
  assert.equal((await addon.listLogins()).length, 1, 'the login is kept');
  assert.equal(authority.refreshes().length, 1, 'no redirected refresh reached the authority either');
});
