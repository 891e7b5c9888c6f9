// A credential goes only to the origin (scheme, host, port) of the service URL it was resolved
// for, also inside tfx-cli's own HTTP stack: typed-rest-client runs the request handler again for
// every redirect it follows and for every URL the server names itself (ResourceAreas), and
// azure-devops-node-api's own handlers send the credential to any host there
// (`allowCrossOriginAuthentication` defaults to true). The real tfx-cli, hooked, runs
// `tfx build list` against the fake Azure DevOps server, which answers with 302/307 or with
// location data pointing at a recording server on another loopback address or another port of
// the same address: the recording server must see the request and no credential.
// The origin rule itself (request-handler.js) is also checked on the option shapes
// typed-rest-client and Node's http.request pass.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import { makeSecret, findLeaks } from './helpers.mjs';
import { keyringSuite, addonScript, tfx, basicHeader, PACKAGE_DIR } from './tfx-helpers.mjs';

const { requestOrigin, urlOrigin } = createRequire(import.meta.url)(`${PACKAGE_DIR}/request-handler.js`);
const suite = keyringSuite('tfx-redirects', { before, afterEach, after });

const buildRequests = (s) => s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));
const withCredential = (s, token) => s.requests.filter((q) => q.headers.authorization
  || JSON.stringify(q.headers).includes(Buffer.from(`OAuth:${token}`).toString('base64')));

/** A stored PAT for `url` (no validation: the recording servers must see only tfx's requests). */
async function storePat(e, url, token) {
  const r = await addonScript(`await addon.storeCredential(${JSON.stringify(url)}, { type: 'pat', token: process.env.T }); out(true);`,
    { ...e.env, T: token });
  assert.deepEqual([r.code, r.stderr], [0, '']);
}

const TARGETS = [
  ['another loopback address', '127.0.0.2'],
  ['another port of the same address', '127.0.0.1'],
];

for (const status of [302, 307]) {
  for (const [where, host] of TARGETS) {
    test(`tfx build list answered with ${status} to ${where}: the stored PAT stays at its origin`, async () => {
      const token = makeSecret('pat');
      const target = await suite.server({ host, scenario: 'open' });
      const ado = await suite.server({ tokens: [token], scenario: 'redirect-builds', redirectStatus: status, redirectTo: target.origin });
      assert.notEqual(target.origin, ado.origin);
      const e = suite.env(`redirect-${status}`);
      await storePat(e, ado.url, token);
      const r = await tfx(['build', 'list', '--project', 'P', '--service-url', ado.url, '--no-prompt'], e.env);
      assert.equal(r.code, 0, r.stderr);
      // The credential went where it belongs ...
      assert.equal(buildRequests(ado)[0].headers.authorization, basicHeader('OAuth', token));
      // ... the redirect was followed (so the check below is not vacuous) ...
      assert.equal(buildRequests(target).length, 1, 'tfx-cli followed the redirect');
      // ... and the other origin received no credential at all.
      assert.deepEqual(withCredential(target, token).map((q) => `${q.method} ${q.url}`), []);
    });
  }
}

test('tfx build list: a redirect within the same origin keeps the credential (the rule is the origin, not "no redirects")', async () => {
  const token = makeSecret('pat');
  const ado = await suite.server({ tokens: [token], scenario: 'redirect-same-host' });
  const e = suite.env('redirect-same');
  await storePat(e, ado.url, token);
  const r = await tfx(['build', 'list', '--project', 'P', '--service-url', ado.url, '--no-prompt'], e.env);
  assert.equal(r.code, 0, r.stderr);
  const redirected = ado.requests.filter((q) => q.pathname.startsWith('/_redirected/'));
  assert.ok(redirected.length > 0, 'the same-origin redirect was followed');
  assert.ok(redirected.every((q) => q.headers.authorization === basicHeader('OAuth', token)));
});

for (const [where, host] of TARGETS) {
  test(`tfx build list whose ResourceAreas name ${where}: the build area there receives no credential`, async () => {
    const token = makeSecret('pat');
    const target = await suite.server({ host, scenario: 'open' });
    const ado = await suite.server({ tokens: [token], scenario: 'resource-area-elsewhere', resourceAreaUrl: target.url });
    const e = suite.env('area');
    await storePat(e, ado.url, token);
    const r = await tfx(['build', 'list', '--project', 'P', '--service-url', ado.url, '--no-prompt'], e.env);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ado.requests.some((q) => /resourceareas/i.test(q.pathname) && q.headers.authorization), 'location data was asked for, with the credential');
    assert.equal(buildRequests(target).length, 1, 'tfx-cli went where the location data pointed');
    assert.deepEqual(withCredential(target, token).map((q) => `${q.method} ${q.url}`), []);
  });
}

for (const [where, host] of TARGETS) {
  for (const status of [302, 307]) {
    test(`tfx-auth's own request (validateConnection, Rust): a ${status} to ${where} gets no Authorization`, async () => {
      const token = makeSecret('pat');
      const target = await suite.server({ host, scenario: 'open' });
      const ado = await suite.server({ tokens: [token], scenario: 'redirect-all', redirectStatus: status, redirectTo: target.origin });
      const r = await addonScript(`try { await addon.validateConnection(${JSON.stringify(ado.url)}, { type: 'pat', token: process.env.T }); out('validated'); }
        catch (e) { out(e.code); }`, { ...suite.env('validate').env, T: token });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(target.requests.filter((q) => /connectiondata/i.test(q.pathname)).length, 1, 'the redirect was followed');
      assert.deepEqual(withCredential(target, token).map((q) => q.url), []);
    });
  }
}

test('the origin rule on the option shapes typed-rest-client and http.request pass', () => {
  const agent = { http: new http.Agent(), https: new https.Agent() };
  assert.equal(urlOrigin('https://dev.azure.com/org'), 'https://dev.azure.com:443');
  assert.equal(urlOrigin('http://[::1]:8080/tfs/C'), 'http://::1:8080');
  assert.equal(urlOrigin('HTTP://Server:80/tfs/C'), 'http://server:80');
  // typed-rest-client: host (the hostname), port (filled in), the agent tells the scheme.
  assert.equal(requestOrigin({ host: 'dev.azure.com', port: 443, agent: agent.https }), 'https://dev.azure.com:443');
  assert.equal(requestOrigin({ host: 'dev.azure.com', port: 443, agent: agent.http }), 'http://dev.azure.com:443');
  assert.equal(requestOrigin({ host: '::1', port: 8080, agent: agent.http }), 'http://::1:8080');
  // Node's http.request: protocol, hostname or host:port, port absent means the default.
  assert.equal(requestOrigin({ protocol: 'https:', hostname: 'DEV.azure.com' }), 'https://dev.azure.com:443');
  assert.equal(requestOrigin({ protocol: 'http:', host: 'server:8080' }), 'http://server:8080');
  assert.equal(requestOrigin({ protocol: 'http:', host: '[::1]:8080' }), 'http://::1:8080');
  // typed-rest-client's proxy tunnels (the `tunnel` package): https ones set defaultPort 443.
  const tunnel = createRequire(import.meta.url)('tunnel');
  const proxy = { proxy: { host: '127.0.0.1', port: 9 } };
  assert.equal(requestOrigin({ host: 'dev.azure.com', port: 443, agent: tunnel.httpsOverHttp(proxy) }), 'https://dev.azure.com:443');
  assert.equal(requestOrigin({ host: 'dev.azure.com', port: 443, agent: tunnel.httpsOverHttps(proxy) }), 'https://dev.azure.com:443');
  assert.equal(requestOrigin({ host: 'tfs', port: 8080, agent: tunnel.httpOverHttp(proxy) }), 'http://tfs:8080');
  // An agent of unknown kind counts as http: an https URL's credential is withheld, never sent elsewhere.
  assert.equal(requestOrigin({ host: 'dev.azure.com', port: 443, agent: {} }), 'http://dev.azure.com:443');
  // An unknown scheme or no host: no origin, so no credential.
  assert.equal(requestOrigin({ protocol: 'ftp:', host: 'dev.azure.com' }), null);
  assert.equal(requestOrigin({ protocol: 'https:' }), null);
});

test('prepareRequest: Authorization only for the origin, any spelling of the header removed elsewhere, never after https->http', () => {
  const { TfxAuthRequestHandler } = createRequire(import.meta.url)(`${PACKAGE_DIR}/request-handler.js`);
  const h = new TfxAuthRequestHandler('https://dev.azure.com/org', { authorization: 'Basic secret' }, null);
  const prepared = (options) => { h.prepareRequest(options); return options.headers.Authorization ?? null; };
  const tls = new https.Agent();
  const plain = new http.Agent();
  assert.equal(prepared({ host: 'dev.azure.com', port: 443, agent: tls, headers: {} }), 'Basic secret');
  assert.equal(prepared({ host: 'dev.azure.com', port: 443, agent: plain, headers: {} }), null, 'http on the https port');
  assert.equal(prepared({ host: 'dev.azure.com', port: 80, agent: plain, headers: {} }), null, 'https -> http');
  assert.equal(prepared({ host: 'dev.azure.com', port: 8443, agent: tls, headers: {} }), null, 'another port');
  assert.equal(prepared({ host: 'vssps.dev.azure.com', port: 443, agent: tls, headers: {} }), null, 'another host');
  const foreign = { host: 'evil.example', port: 443, agent: tls, headers: { authorization: 'Bearer x', AUTHORIZATION: 'y' } };
  h.prepareRequest(foreign);
  assert.deepEqual(Object.keys(foreign.headers).filter((k) => k.toLowerCase() === 'authorization'), []);
  assert.deepEqual(Object.keys(h).sort(), ['origin', 'serviceUrl'], 'no secret among the enumerable fields');
  assert.doesNotMatch(JSON.stringify(h), /secret/);
});

test('leak check: no stored token appears in any output of this suite', () => {
  assert.deepEqual(findLeaks({ dirs: [suite.base] }), []);
});
