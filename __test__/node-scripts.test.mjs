// Node scripts reuse the login (issue 20): getWebApi, getRequestHandler and getAuthorizationHeader
// in real child processes, with the real azure-devops-node-api (the version tfx-cli 0.23.1 uses,
// a devDependency) and typed-rest-client, against the fake Azure DevOps server and the fake
// Entra authority. Each script runs from this package's folder (so azure-devops-node-api resolves
// from the current folder) and prints one JSON line.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSecret, rememberSecret, record, findLeaks, run } from './helpers.mjs';
import { keyringSuite, tfx, basicHeader, PACKAGE_DIR, CWD, TFX } from './tfx-helpers.mjs';
import { startFakeAuthority } from './fixtures/fake-authority.mjs';
import { makeTestCA } from './fixtures/ca.mjs';
import { startTunnel } from './net-helpers.mjs';

const suite = keyringSuite('node-scripts', { before, afterEach, after });
const closers = [];
afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

const buildRequests = (s) => s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));
const bearer = (q) => /^Bearer (.+)$/.exec(q?.headers?.authorization ?? '')?.[1] ?? null;

/**
 * Runs `body` as an ES module script in `dir` (default: a fresh folder; the current folder is
 * CWD) with `auth` = tfx-auth; resolves to { code, out (the parsed JSON line), stderr, exitedAt }.
 */
async function script(body, env, { cwd = CWD, dir } = {}) {
  const folder = dir ?? mkdtempSync(join(suite.base, 'script-'));
  const file = join(folder, 'script.mjs');
  writeFileSync(file, `import { createRequire } from 'node:module';
const auth = createRequire(import.meta.url)(${JSON.stringify(PACKAGE_DIR)});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
try { ${body} } catch (e) { out({ error: e.code ?? String(e), message: e.message }); }
`);
  const r = await run(process.execPath, [file], { env, cwd, timeoutMs: 60_000 });
  const exitedAt = Date.now();
  let out = null;
  try { out = JSON.parse(r.stdout.trim().split('\n').at(-1)); } catch { /* shown by the assertion */ }
  return { ...r, out, exitedAt };
}

async function storeCredential(e, url, credential) {
  const r = await script(`await auth.storeCredential(${JSON.stringify(url)}, JSON.parse(process.env.C)); out(true);`,
    { ...e.env, C: JSON.stringify(credential) });
  assert.deepEqual([r.code, r.out, r.stderr], [0, true, '']);
}

const LIST_BUILDS = (url) => `const api = await auth.getWebApi(${JSON.stringify(url)});
const builds = await (await api.getBuildApi()).getBuilds('P');
out({ builds: builds.length });`;

/** The script ended within a second of the last request the server saw (a hang check, not a benchmark). */
function exitedPromptly(r, ...servers) {
  const last = Math.max(...servers.flatMap((s) => s.requests.map((q) => q.time)));
  assert.ok(r.exitedAt - last < 1_000 + 500, `the script exited ${r.exitedAt - last} ms after its last request`);
}

test('getWebApi: getBuildApi().getBuilds() with a stored PAT, sent as Basic OAuth:<pat>, and the script exits', async () => {
  const token = makeSecret('pat');
  const ado = await suite.server({ tokens: [token] });
  const e = suite.env('pat');
  await storeCredential(e, ado.url, { type: 'pat', token });
  const r = await script(LIST_BUILDS(ado.url), e.env);
  assert.deepEqual([r.code, r.out], [0, { builds: 0 }], r.stderr);
  assert.equal(buildRequests(ado)[0].headers.authorization, basicHeader('OAuth', token));
  exitedPromptly(r, ado);
});

test('getWebApi with a Basic login (DOMAIN\\user) sends Basic user:password', async () => {
  const password = makeSecret('pw');
  const ado = await suite.server({ scenario: 'onprem', tokens: [], basicUsers: { 'fabfiber\\peter': password } });
  const e = suite.env('basic');
  await storeCredential(e, ado.url, { type: 'basic', username: 'fabfiber\\peter', password });
  const r = await script(LIST_BUILDS(ado.url), e.env);
  assert.deepEqual([r.code, r.out], [0, { builds: 0 }], r.stderr);
  assert.equal(buildRequests(ado)[0].headers.authorization, basicHeader('fabfiber\\peter', password));
});

test('the environment sources: AZURE_DEVOPS_EXT_PAT as Basic, TFX_ENTRA_TOKEN as Bearer, nothing stored', async () => {
  const pat = makeSecret('pat');
  const entra = makeSecret('eyJentra');
  const ado = await suite.server({ tokens: [pat], bearerTokens: [entra] });
  const viaPat = await script(`${LIST_BUILDS(ado.url)}`, suite.env('env-pat', { AZURE_DEVOPS_EXT_PAT: pat }).env);
  assert.deepEqual([viaPat.code, viaPat.out], [0, { builds: 0 }], viaPat.stderr);
  assert.equal(buildRequests(ado).at(-1).headers.authorization, basicHeader('OAuth', pat));
  const entraEnv = suite.env('env-entra', { TFX_ENTRA_TOKEN: entra, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1', TFX_AUTH_AZURE_CLI_HOSTS: '127.0.0.1' }).env;
  // The script compares instead of printing: the header is the secret.
  const viaEntra = await script(`const h = await auth.getAuthorizationHeader(${JSON.stringify(ado.url)});
out({ keys: Object.keys(h), bearer: h.authorization === 'Bearer ' + process.env.TFX_ENTRA_TOKEN });`, entraEnv);
  assert.deepEqual([viaEntra.code, viaEntra.out], [0, { keys: ['authorization'], bearer: true }], viaEntra.stderr);
  const built = await script(LIST_BUILDS(ado.url), entraEnv);
  assert.deepEqual([built.code, built.out], [0, { builds: 0 }], built.stderr);
  assert.equal(bearer(buildRequests(ado).at(-1)), entra);
});

test("getWebApi with the caller's ignoreSslError: an Entra token is not handed to an unverified server; a PAT still is", async () => {
  const pat = makeSecret('pat');
  const entra = makeSecret('eyJentra');
  const ado = await suite.server({ tokens: [pat], bearerTokens: [entra] });
  const unverified = (url) => `const api = await auth.getWebApi(${JSON.stringify(url)}, { requestOptions: { ignoreSslError: true } });
const builds = await (await api.getBuildApi()).getBuilds('P');
out({ builds: builds.length });`;
  const entraEnv = suite.env('unverified-entra', { TFX_ENTRA_TOKEN: entra, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' }).env;
  const refused = await script(unverified(ado.url), entraEnv);
  assert.equal(refused.out?.error, 'NOT_LOGGED_IN', refused.stdout + refused.stderr);
  assert.deepEqual(ado.requests.filter((q) => q.headers.authorization), [], 'no credential reached the server');
  // The same script without ignoreSslError: the token goes (the rule, not the script, refused it).
  const verified = await script(LIST_BUILDS(ado.url), entraEnv);
  assert.deepEqual([verified.code, verified.out], [0, { builds: 0 }], verified.stderr);
  assert.equal(bearer(buildRequests(ado).at(-1)), entra);
  // A PAT belongs to this one server: skipping its certificate checks is the caller's choice.
  const viaPat = await script(unverified(ado.url), suite.env('unverified-pat', { AZURE_DEVOPS_EXT_PAT: pat }).env);
  assert.deepEqual([viaPat.code, viaPat.out], [0, { builds: 0 }], viaPat.stderr);
  assert.equal(buildRequests(ado).at(-1).headers.authorization, basicHeader('OAuth', pat));
});

test('validateConnection with a caller\'s Entra token: refused before any request outside the host rule or with certificate checks skipped', async () => {
  const entra = makeSecret('eyJentra');
  const ado = await suite.server({ tokens: [], bearerTokens: [entra] });
  const validate = (options) => `try {
  const info = await auth.validateConnection(${JSON.stringify(ado.url)}, { type: 'entra', accessToken: process.env.T }, ${JSON.stringify(options)});
  out({ ok: Boolean(info) });
} catch (e) { out({ error: e.code }); }`;
  const unlisted = await script(validate({}), { ...suite.env('validate-unlisted', { TFX_AUTH_ENTRA_HOSTS: '' }).env, T: entra });
  assert.deepEqual(unlisted.out, { error: 'ENTRA_HOST_NOT_ALLOWED' }, unlisted.stderr);
  const listed = suite.env('validate-listed', { TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' }).env;
  const skipped = await script(validate({ skipCertValidation: true }), { ...listed, T: entra });
  assert.deepEqual(skipped.out, { error: 'ENTRA_HOST_NOT_ALLOWED' }, skipped.stderr);
  assert.equal(ado.requests.length, 0, 'nothing was sent');
  const allowed = await script(validate({}), { ...listed, T: entra });
  assert.deepEqual(allowed.out, { ok: true }, allowed.stderr);
  assert.equal(bearer(ado.requests.at(-1)), entra);
});

/** `tfx login --auth-type entra` to the end, approving the code like a user. */
async function loginEntra(e, authority, url) {
  const child = spawn(process.execPath, [TFX, 'login', '--auth-type', 'entra', '--service-url', url], { env: e.env, cwd: CWD, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
    const m = /enter the code (\S+) /.exec(stderr);
    if (m && !child.approved) { child.approved = true; authority.approve(m[1]); }
  });
  child.stdout.on('data', (d) => record(d));
  const code = await new Promise((resolve) => child.on('close', resolve));
  record(stderr);
  assert.equal(code, 0, stderr);
}

const REVOKE = '/_fake/health?revoke';

/**
 * A fake authority issuing access tokens that live `ttl` seconds, and a fake Azure DevOps server
 * taking exactly those; a script's `GET /_fake/health?revoke` makes the server revoke the token
 * of the next authenticated request (answered 401, as a revoked token is).
 */
async function entraFakes(ttl) {
  const authority = await startFakeAuthority({ onSecret: rememberSecret, accessTokenTtl: ttl });
  closers.push(() => authority.close());
  const revoked = new Set();
  let revocations = 0;
  let ado = null;
  const accepts = (t) => {
    if (!authority.acceptsAccessToken(t) || revoked.has(t)) return false;
    const asked = ado ? ado.requests.filter((q) => q.url === REVOKE).length : 0;
    if (asked > revocations) {
      revocations = asked;
      revoked.add(t);
      return false;
    }
    return true;
  };
  ado = await suite.server({ tokens: [], bearerTokens: accepts });
  const e = suite.env('entra', { TFX_AUTH_ENTRA_AUTHORITY: authority.url, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1', TFX_AUTH_AZURE_CLI_HOSTS: '127.0.0.1' });
  await loginEntra(e, authority, ado.url);
  return { authority, ado, e };
}

test('getWebApi with an Entra login whose access token expires during the script: renewed in the background, no 401 reaches the caller, the script exits', async () => {
  const { ado, e } = await entraFakes(8);
  const before = ado.requests.length;
  const r = await script(`const api = await auth.getWebApi(${JSON.stringify(ado.url)});
const build = await api.getBuildApi();
const first = (await build.getBuilds('P')).length;
await new Promise((done) => setTimeout(done, 9_000)); // longer than the token lives
const second = (await build.getBuilds('P')).length;
out({ first, second });`, e.env);
  assert.deepEqual([r.code, r.out], [0, { first: 0, second: 0 }], r.stderr);
  const sent = ado.requests.slice(before);
  assert.deepEqual(sent.filter((q) => !bearer(q)).map((q) => q.url), [], 'never sent without a credential');
  // Renewed ahead of expiry, not after a 401: every token was still valid when it was sent ...
  const expiry = (q) => Number(JSON.parse(Buffer.from(bearer(q).split('.')[1], 'base64url')).exp) * 1000;
  assert.deepEqual(sent.filter((q) => expiry(q) <= q.time).map((q) => q.url), [], 'no expired token sent');
  // ... and the script's first token had expired by its second request.
  const [one, two] = buildRequests(ado).slice(-2);
  assert.notEqual(bearer(one), bearer(two), 'the second request carries a renewed token');
  assert.ok(expiry(one) < two.time, 'the first token had expired when the second request was sent');
  exitedPromptly(r, ado);
});

test('a 401 for the origin: renewed once and replayed when the body is a string; a stream body gets the 401 as it came', async () => {
  const { ado, e } = await entraFakes(8);
  const query = JSON.stringify({ filters: [{ criteria: [{ filterType: 7, value: 'pub.ext' }] }] });
  const r = await script(`const { HttpClient } = createRequire(process.cwd() + '/x.js')('typed-rest-client/HttpClient');
const handler = await auth.getRequestHandler(${JSON.stringify(ado.url)});
const client = new HttpClient('node-scripts-test', [handler]);
const url = ${JSON.stringify(`${ado.origin}/_apis/public/gallery/extensionquery`)};
await fetch(${JSON.stringify(ado.origin + REVOKE)});
const replayed = await client.post(url, ${JSON.stringify(query)}, { 'content-type': 'application/json' });
await replayed.readBody();
const { Readable } = await import('node:stream');
await fetch(${JSON.stringify(ado.origin + REVOKE)});
const streamed = await client.sendStream('POST', url, Readable.from([Buffer.from(${JSON.stringify(query)})]), { 'content-type': 'application/json' });
await streamed.readBody();
out({ replayed: replayed.message.statusCode, streamed: streamed.message.statusCode });`, e.env);
  const queries = ado.requests.filter((q) => /extensionquery$/i.test(q.pathname));
  assert.deepEqual([r.code, r.out], [0, { replayed: 200, streamed: 401 }], r.stderr);
  assert.equal(queries.length, 3, 'string body: 401 then one replay; stream: just the 401');
  assert.deepEqual(queries.map((q) => q.body), [query, query, query]);
  assert.deepEqual(queries.map((q) => q.headers['content-type']), Array(3).fill('application/json'));
  assert.notEqual(bearer(queries[0]), bearer(queries[1]), 'replayed with the renewed token');
});

for (const [where, host] of [['another loopback address', '127.0.0.2'], ['another port', '127.0.0.1']]) {
  test(`getWebApi: a 302 to ${where} receives no credential`, async () => {
    const token = makeSecret('pat');
    const target = await suite.server({ host, scenario: 'open' });
    const ado = await suite.server({ tokens: [token], scenario: 'redirect-builds', redirectTo: target.origin });
    const e = suite.env('redirect');
    await storeCredential(e, ado.url, { type: 'pat', token });
    const r = await script(LIST_BUILDS(ado.url), e.env);
    assert.deepEqual([r.code, r.out], [0, { builds: 0 }], r.stderr);
    assert.equal(buildRequests(target).length, 1, 'the redirect was followed');
    assert.deepEqual(target.requests.filter((q) => q.headers.authorization).map((q) => q.url), []);
  });
}

test('getWebApi over https trusts NODE_EXTRA_CA_CERTS; after an https->http redirect (downgrade allowed by the caller) nothing is sent', async () => {
  const token = makeSecret('pat');
  const pki = await makeTestCA(join(suite.base, 'pki'));
  const target = await suite.server({ scenario: 'open' });
  const ado = await suite.server({ https: { key: pki.key, cert: pki.cert }, tokens: [token], scenario: 'redirect-builds', redirectTo: target.origin });
  assert.match(ado.url, /^https:/);
  assert.match(target.origin, /^http:/);
  const e = suite.env('downgrade', { NODE_EXTRA_CA_CERTS: pki.caCertPath });
  await storeCredential(e, ado.url, { type: 'pat', token });
  const r = await script(`const api = await auth.getWebApi(${JSON.stringify(ado.url)}, { requestOptions: { allowRedirectDowngrade: true } });
out({ builds: (await (await api.getBuildApi()).getBuilds('P')).length });`, e.env);
  assert.deepEqual([r.code, r.out], [0, { builds: 0 }], r.stderr);
  assert.equal(buildRequests(ado)[0].headers.authorization, basicHeader('OAuth', token), 'https: the credential went');
  assert.equal(buildRequests(target).length, 1, 'the downgrade was followed');
  assert.deepEqual(target.requests.filter((q) => q.headers.authorization).map((q) => q.url), [], 'http: nothing');
});

test('getWebApi applies the URL\'s remembered certificate choice and tfx-auth\'s proxy (lower-case https_proxy with user:password)', async () => {
  const token = makeSecret('pat');
  const pki = await makeTestCA(join(suite.base, 'pki-skip'));
  const ado = await suite.server({ https: { key: pki.key, cert: pki.cert }, tokens: [token] }); // a CA nobody trusts
  const tunnel = await startTunnel(ado.port);
  closers.push(() => tunnel.close());
  const proxyPassword = makeSecret('proxypw');
  const proxied = `http://peter:${proxyPassword}@${new URL(tunnel.url).host}`;
  const e = suite.env('skip-proxy', { https_proxy: proxied });
  await storeCredential(e, ado.url, { type: 'pat', token });
  const list = `try { ${LIST_BUILDS(ado.url)} } catch (e) { out({ failed: String(e.code ?? e.message).slice(0, 40) }); }`;
  const refused = await script(list, e.env);
  assert.equal(refused.code, 0, refused.stderr);
  assert.ok(refused.out.failed, `the untrusted certificate is refused: ${JSON.stringify(refused.out)}`);
  const skip = await script(`await auth.setSkipCertValidation(${JSON.stringify(ado.url)}, true); out(true);`, e.env);
  assert.deepEqual([skip.code, skip.out], [0, true], skip.stderr);
  const r = await script(list, e.env);
  assert.deepEqual([r.code, r.out], [0, { builds: 0 }], r.stderr);
  assert.equal(buildRequests(ado).at(-1).headers.authorization, basicHeader('OAuth', token));
  const port = new URL(ado.url).port;
  assert.ok(tunnel.connects.length >= 2 && tunnel.connects.every((c) => c === `CONNECT 127.0.0.1:${port}`), tunnel.connects.join());
  assert.ok(tunnel.heads.every((h) => h.includes(`Proxy-Authorization: ${basicHeader('peter', proxyPassword)}`)), 'the proxy\'s user:password');
});

test('getRequestHandler and getAuthorizationHeader (fetch): each script exits within a second of its last request', async () => {
  const token = makeSecret('pat');
  const ado = await suite.server({ tokens: [token] });
  const e = suite.env('exit');
  await storeCredential(e, ado.url, { type: 'pat', token });
  const viaHandler = await script(`const { WebApi } = createRequire(process.cwd() + '/x.js')('azure-devops-node-api');
const api = new WebApi(${JSON.stringify(ado.url)}, await auth.getRequestHandler(${JSON.stringify(ado.url)}));
out({ builds: (await (await api.getBuildApi()).getBuilds('P')).length });`, e.env);
  assert.deepEqual([viaHandler.code, viaHandler.out], [0, { builds: 0 }], viaHandler.stderr);
  exitedPromptly(viaHandler, ado);
  const viaFetch = await script(`const { authorization } = await auth.getAuthorizationHeader(${JSON.stringify(ado.url)});
const res = await fetch(${JSON.stringify(`${ado.url}/P/_apis/build/builds`)}, { headers: { authorization } });
out({ status: res.status, count: (await res.json()).count });`, e.env);
  assert.deepEqual([viaFetch.code, viaFetch.out], [0, { status: 200, count: 0 }], viaFetch.stderr);
  assert.equal(buildRequests(ado).at(-1).headers.authorization, basicHeader('OAuth', token));
  exitedPromptly(viaFetch, ado);
});

test('getWebApi without azure-devops-node-api: MISSING_PEER_DEPENDENCY naming the package and the install command', async () => {
  const token = makeSecret('pat');
  const ado = await suite.server({ tokens: [token] });
  const e = suite.env('missing', { AZURE_DEVOPS_EXT_PAT: token });
  const away = mkdtempSync(join(suite.base, 'no-node-api-'));
  const r = await script(`await auth.getWebApi(${JSON.stringify(ado.url)}); out('no error');`, e.env, { cwd: away, dir: away });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.out.error, 'MISSING_PEER_DEPENDENCY', JSON.stringify(r.out));
  assert.match(r.out.message, /azure-devops-node-api/);
  assert.match(r.out.message, /npm install azure-devops-node-api/);
  assert.equal(ado.requests.length, 0, 'nothing was sent');
  // Given as an option, the module is used from anywhere.
  const given = await script(`const nodeApi = createRequire(${JSON.stringify(join(CWD, 'x.js'))})('azure-devops-node-api');
const api = await auth.getWebApi(${JSON.stringify(ado.url)}, { nodeApi });
out({ builds: (await (await api.getBuildApi()).getBuilds('P')).length });`, e.env, { cwd: away, dir: away });
  assert.deepEqual([given.code, given.out], [0, { builds: 0 }], given.stderr);
});

test('no credential anywhere: NOT_LOGGED_IN, nothing sent', async () => {
  const ado = await suite.server({ tokens: [] });
  const r = await script(`await auth.getAuthorizationHeader(${JSON.stringify(ado.url)}); out('no error');`, suite.env('none').env);
  assert.deepEqual([r.code, r.out.error], [0, 'NOT_LOGGED_IN'], r.stderr);
  assert.equal(ado.requests.length, 0);
});

test('leak check: no secret of this suite appears in any output or file', () => {
  assert.deepEqual(findLeaks({ dirs: [suite.base] }), []);
});
