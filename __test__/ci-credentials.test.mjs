// Issue 19 through the JS API: every CI credential source (service principal with a secret or a
// certificate, workload identity, Azure Pipelines and GitHub Actions OIDC, managed identity on App
// Service and IMDS) gives `resolveCredential`/`getCredential` an Entra access token from the fakes
// (ci-helpers.mjs), one exchange per process shared by concurrent calls and renewed 5 minutes
// before expiry; a named source with missing variables is CI_CREDENTIAL_MISSING, a refused
// exchange AUTHORITY_ERROR, never a fall-back; a URL that is not Azure DevOps (nor listed in
// TFX_AUTH_ENTRA_HOSTS) causes no request at all; nothing is stored. Each case runs in a fresh
// Node process (the exchange is per process) whose output carries token fingerprints only.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyringSuite, addonScript } from './tfx-helpers.mjs';
import { findLeaks, makeSecret, rememberSecret, secretCount } from './helpers.mjs';
import { makeClientCertificate } from './fixtures/ca.mjs';
import { parseJwt, thumbprints } from './fixtures/jwt.mjs';
import { JWT_BEARER, RESOURCE_SCOPE } from './fixtures/client-credentials.mjs';
import { startRecorder } from './fixtures/recorder.mjs';
import { startCiFakes, SCENARIOS, SOURCES, CHILD_PRELUDE, fp } from './ci-helpers.mjs';

const suite = keyringSuite('tfx-ci-api', { before, afterEach, after });
// The certificate and token files stand for what the pipeline put on disk: outside the scanned folders.
const ciDir = mkdtempSync(join(tmpdir(), 'tfx-ci-api-files-'));
let cert;
let fakes = [];
before(() => { cert = makeClientCertificate(ciDir, { name: 'sp' }); });
afterEach(async () => { await Promise.all(fakes.splice(0).map((f) => f.close())); });
after(() => rmSync(ciDir, { recursive: true, force: true }));

async function ciFakes(options = {}) {
  const ci = await startCiFakes({ dir: ciDir, cert, ...options });
  fakes.push(ci);
  const ado = await suite.server({ bearerTokens: ci.authority.acceptsAccessToken });
  return { ci, ado };
}

/** Runs `body` in a fresh Node process with `vars`; resolves to what it printed last (JSON). */
async function child(vars, body, { timeoutMs = 60_000 } = {}) {
  const r = await addonScript(`${CHILD_PRELUDE}\n${body}`, suite.env('ci', vars).env, { timeoutMs });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  return JSON.parse(r.stdout.trim().split('\n').at(-1));
}

const zero = { authority: 0, pipelines: 0, github: 0, appService: 0, imds: 0, guard: 0 };
/** What each fake should have seen after one successful resolution in `scenario`. */
function expectedCounts(s, exchanges = 1) {
  const counts = { ...zero };
  if (s.via) counts.authority = exchanges;
  if (s.identity === 'pipelines') counts.pipelines = exchanges;
  if (s.identity === 'github') counts.github = exchanges;
  if (s.identity === 'appService') counts.appService = exchanges;
  if (s.identity === 'imds') counts.imds = exchanges + 2; // 404 twice first
  return counts;
}

/** The one token `scenario` should have produced, checked at the fake that issued it. */
function issuedToken(ci, s) {
  if (s.via) {
    const grants = ci.exchanges(s.clientId);
    assert.equal(grants.length, 1, 'one exchange');
    return { token: grants[0].issued, grant: grants[0] };
  }
  const served = ci[s.identity].issued;
  assert.equal(served.length, 1, 'one managed identity token');
  return { token: served[0].token, expiresOn: served[0].expiresOn };
}

/** The form of a client credentials grant, checked against what `scenario` must send. */
function checkGrant(ci, s, grant) {
  const { form } = grant;
  assert.equal(grant.tenant, ci.tenant);
  assert.deepEqual([form.grant_type, form.scope, form.client_id], ['client_credentials', RESOURCE_SCOPE, s.clientId]);
  assert.equal(grant.outcome.via, s.via);
  if (s.via === 'secret') {
    assert.ok(form.client_secret === ci.clientSecret, 'the client secret');
    assert.equal(form.client_assertion, undefined);
    return;
  }
  assert.equal(form.client_secret, undefined);
  assert.equal(form.client_assertion_type, JWT_BEARER);
  if (s.via === 'certificate') {
    const { header, claims } = parseJwt(form.client_assertion);
    const tp = thumbprints(ci.certificate.x509);
    assert.ok((header.alg === 'PS256' && header['x5t#S256'] === tp['x5t#S256']) || (header.alg === 'RS256' && header.x5t === tp.x5t), JSON.stringify(header));
    assert.equal(claims.aud, `${ci.authority.url}/${ci.tenant}/oauth2/v2.0/token`);
    assert.deepEqual([claims.iss, claims.sub], [s.clientId, s.clientId]);
    assert.ok(claims.exp - claims.nbf <= 600 && claims.exp > Date.now() / 1000, 'at most 10 minutes');
    return;
  }
  const expected = { 'workload-identity': ci.federatedToken(), 'azure-pipelines': ci.pipelines.issued.at(-1), 'github-actions': ci.github.issued.at(-1) }[s.name];
  assert.ok(fp(form.client_assertion) === fp(expected), 'the federated token (the file trimmed, or the OIDC token just fetched) is the assertion');
}

const url = (ado) => ado.url;

for (const name of SCENARIOS) {
  test(`${name}: resolveCredential and getCredential (also two at once) give one Entra token from one exchange; source is reported; nothing is stored`, async () => {
    const { ci, ado } = await ciFakes();
    const s = ci.scenario(name);
    const t0 = Date.now();
    const got = await child(ci.env(name), `const u = ${JSON.stringify(url(ado))};
const a = await addon.resolveCredential(u).then(show, fail);
const b = await addon.getCredential(u).then(show, fail);
const c = await Promise.all([addon.getCredential(u), addon.resolveCredential(u)]).then((r) => r.map(show), fail);
out({ a, b, c, logins: await addon.listLogins(), def: await addon.getDefaultServiceUrl() });`);
    const t1 = Date.now();
    assert.deepEqual(ci.requestCounts(), expectedCounts(s));
    assert.equal(ado.requests.length, 0, 'resolving sends nothing to Azure DevOps');
    const { token, grant, expiresOn } = issuedToken(ci, s);
    assert.deepEqual(got.a, { source: s.source, type: 'entra', fp: fp(token), expiresOn: got.a.expiresOn, keys: ['accessToken', 'expiresOn', 'type'] });
    if (expiresOn) assert.equal(got.a.expiresOn, expiresOn * 1000, 'expires_on (seconds, a string) in milliseconds');
    else assert.ok(got.a.expiresOn >= t0 + 3600_000 - 2000 && got.a.expiresOn <= t1 + 3600_000 + 2000, `expires_in from the exchange: ${got.a.expiresOn}`);
    assert.deepEqual([got.b.type, got.b.fp, got.b.expiresOn], ['entra', fp(token), got.a.expiresOn]);
    assert.deepEqual(got.c.map((x) => x.fp), [fp(token), fp(token)]);
    assert.equal(got.c[1].source, s.source);
    assert.deepEqual([got.logins, got.def], [[], null], 'nothing stored, no default set');
    assert.equal(ci.authority.tokenInfo(token).clientId, s.clientId);
    if (grant) checkGrant(ci, s, grant);
    if (s.identity === 'appService') {
      const q = ci.appService.requests[0];
      assert.equal(q.query.client_id, name === 'app-service' ? undefined : ci.ids.miUser);
    }
    if (s.identity === 'imds') {
      assert.deepEqual(ci.imds.requests.map((q) => [q.status, q.headers.metadata, q.query.client_id]), [[404, 'true', undefined], [404, 'true', undefined], [200, 'true', undefined]]);
    }
  });
}

test('service principal named with TFX_AUTH_CREDENTIAL works as well; an incomplete set without it is ignored; ambient sources are used only when named', async () => {
  const { ci, ado } = await ciFakes();
  const named = await child(ci.env('sp-secret', { name: true }), `out(show(await addon.resolveCredential(${JSON.stringify(ado.url)})));`);
  assert.equal(named.source, 'service-principal');
  assert.equal(ci.exchanges(ci.ids.sp).length, 1);

  const before = ci.requestCounts();
  const { AZURE_CLIENT_SECRET: _s, ...incomplete } = ci.env('sp-secret');
  const ambient = {};
  for (const n of ['azure-pipelines', 'github-actions', 'app-service', 'imds']) Object.assign(ambient, ci.env(n, { name: false }));
  // SYSTEM_ACCESSTOKEN is a source of its own (the job token for its collection): left out here.
  delete ambient.SYSTEM_ACCESSTOKEN;
  for (const vars of [incomplete, { ...ambient, AZURE_TENANT_ID: ci.tenant }]) {
    const r = await child(vars, `out({ r: await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail) });`);
    assert.deepEqual(r, { r: null }, Object.keys(vars).join(' '));
  }
  assert.deepEqual(ci.requestCounts(), before, 'no request for an incomplete or ambient set');
});

test('a named source with missing variables is CI_CREDENTIAL_MISSING naming them; nothing is asked of anyone', async () => {
  const { ci, ado } = await ciFakes();
  const full = (n) => ci.env(n, { name: true });
  const without = (vars, ...names) => Object.fromEntries(Object.entries(vars).filter(([k]) => !names.includes(k)));
  const base = { AZURE_AUTHORITY_HOST: ci.authority.url, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1', AZURE_POD_IDENTITY_AUTHORITY_HOST: ci.guard.origin };
  const cases = [
    [{ ...base, TFX_AUTH_CREDENTIAL: 'service-principal' }, ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH']],
    [without(full('sp-secret'), 'AZURE_CLIENT_SECRET'), ['AZURE_CLIENT_SECRET', 'AZURE_CLIENT_CERTIFICATE_PATH']],
    [without(full('sp-secret'), 'AZURE_TENANT_ID'), ['AZURE_TENANT_ID']],
    [{ ...base, TFX_AUTH_CREDENTIAL: 'workload-identity', AZURE_TENANT_ID: ci.tenant, AZURE_CLIENT_ID: ci.ids.workload }, ['AZURE_FEDERATED_TOKEN_FILE']],
    [without(full('workload-identity'), 'AZURE_CLIENT_ID'), ['AZURE_CLIENT_ID']],
    [{ ...base, TFX_AUTH_CREDENTIAL: 'azure-pipelines' }, ['SYSTEM_OIDCREQUESTURI', 'SYSTEM_ACCESSTOKEN', 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID', 'AZURESUBSCRIPTION_CLIENT_ID', 'AZURESUBSCRIPTION_TENANT_ID']],
    [without(full('azure-pipelines'), 'SYSTEM_ACCESSTOKEN'), ['SYSTEM_ACCESSTOKEN']],
    [without(full('azure-pipelines'), 'AZURESUBSCRIPTION_SERVICE_CONNECTION_ID'), ['AZURESUBSCRIPTION_SERVICE_CONNECTION_ID']],
    [{ ...base, TFX_AUTH_CREDENTIAL: 'github-actions', AZURE_TENANT_ID: ci.tenant, AZURE_CLIENT_ID: ci.ids.github }, ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']],
    [without(full('github-actions'), 'AZURE_TENANT_ID'), ['AZURE_TENANT_ID']],
  ];
  for (const [vars, missing] of cases) {
    const r = await child(vars, `out({ r: await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail), g: await addon.getCredential(${JSON.stringify(ado.url)}).then(show, fail) });`);
    const what = `${vars.TFX_AUTH_CREDENTIAL} without ${missing.join(', ')}`;
    assert.equal(r.r?.error, 'CI_CREDENTIAL_MISSING', `${what}: ${JSON.stringify(r)}`);
    for (const name of missing) assert.ok(r.r.message.includes(name), `${what}: the message names ${name}: ${r.r.message}`);
    assert.equal(r.g?.error, 'CI_CREDENTIAL_MISSING', `${what}: getCredential too`);
  }
  assert.deepEqual(ci.requestCounts(), zero);
  assert.equal(ado.requests.length, 0);

  const typo = await child({ ...full('sp-secret'), TFX_AUTH_CREDENTIAL: 'service-principle' }, `out({ r: await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail) });`);
  assert.ok(typo.r?.error && typo.r.message.includes('TFX_AUTH_CREDENTIAL'), `an unknown source name is an error naming the variable: ${JSON.stringify(typo)}`);
  assert.deepEqual(ci.requestCounts(), zero);
});

test('a refused exchange is AUTHORITY_ERROR with what the authority said, tried once, for every exchanging source; a named source never falls back to a stored login', async () => {
  const { ci, ado } = await ciFakes();
  const pat = makeSecret('pat');
  ado.requests.length = 0;
  const stored = await child({}, `out(await addon.storeCredential(${JSON.stringify(ado.url)}, { type: 'pat', token: ${JSON.stringify(pat)} }).then(() => 'ok', fail));`);
  assert.equal(stored, 'ok');
  ci.authority.refuseClientCredentials();
  for (const name of ['sp-secret', 'sp-certificate', 'workload-identity', 'azure-pipelines', 'github-actions']) {
    const s = ci.scenario(name);
    const before = ci.authority.clientCredentialGrants().length;
    const r = await child(ci.env(name, { name: true }), `const u = ${JSON.stringify(ado.url)};
out({ r: await addon.resolveCredential(u).then(show, fail), g: await addon.getCredential(u).then(show, fail) });`);
    assert.equal(r.r?.error, 'AUTHORITY_ERROR', `${name}: ${JSON.stringify(r)}`);
    assert.equal(r.r.status, 401);
    assert.match(r.r.message, /invalid_client/);
    assert.match(r.r.message, /AADSTS7000222/);
    assert.equal(r.g?.error, 'AUTHORITY_ERROR', `${name}: getCredential does not fall back to the stored PAT`);
    const grants = ci.authority.clientCredentialGrants().slice(before);
    assert.ok(grants.length >= 1 && grants.length <= 2, `${name}: asked once per call, not retried (${grants.length})`);
    assert.ok(grants.every((g) => g.form.client_id === s.clientId));
  }
  assert.equal(ado.requests.length, 0);
});

test('a wrong client secret, and an OIDC endpoint refusing the job token: coded errors, the authority not asked after a refused OIDC request', async () => {
  const { ci, ado } = await ciFakes();
  const wrong = await child({ ...ci.env('sp-secret'), AZURE_CLIENT_SECRET: makeSecret('wrong') }, `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`);
  assert.equal(wrong.error, 'AUTHORITY_ERROR');
  assert.match(wrong.message, /AADSTS7000215/);
  const badJob = await child({ ...ci.env('azure-pipelines'), SYSTEM_ACCESSTOKEN: makeSecret('otherjob') }, `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`);
  assert.ok(typeof badJob.error === 'string' && badJob.error !== 'CI_CREDENTIAL_MISSING', JSON.stringify(badJob));
  assert.match(badJob.message, /401/);
  assert.deepEqual(ci.pipelines.requests.map((q) => q.refused), ['bearer']);
  assert.equal(ci.exchanges(ci.ids.pipelines).length, 0);
});

test('renewal: a token within 5 minutes of expiry is exchanged again, then the new one is reused (authority and IMDS)', async () => {
  const { ci, ado } = await ciFakes({ authority: { clientCredentialTtls: [302, 3600] }, imds: { ttl: [302, 3600] } });
  const body = `const u = ${JSON.stringify(ado.url)};
const a = show(await addon.getCredential(u));
await sleep(2500);
const b = show(await addon.getCredential(u));
const c = show(await addon.resolveCredential(u));
out({ a, b, c });`;
  for (const name of ['sp-secret', 'imds']) {
    const s = ci.scenario(name);
    const r = await child(ci.env(name), body);
    const tokens = s.via ? ci.exchanges(s.clientId).map((g) => g.issued) : ci.imds.issued.map((i) => i.token);
    assert.equal(tokens.length, 2, `${name}: renewed once`);
    assert.deepEqual([r.a.fp, r.b.fp, r.c.fp], [fp(tokens[0]), fp(tokens[1]), fp(tokens[1])], name);
    assert.ok(r.b.expiresOn - r.a.expiresOn > 3000_000, `${name}: the renewed one lives an hour`);
  }
  assert.deepEqual(ci.imds.requests.map((q) => q.status), [404, 404, 200, 200], 'the fake answers 404 only twice, ever');
});

test('workload identity reads the token file again for every exchange; the certificate assertion is new each time (jti) and can carry the chain', async () => {
  const { ci, ado } = await ciFakes({ authority: { clientCredentialTtls: [302, 302, 302, 302] } });
  const next = rememberSecret(ci.k8s.token());
  const r = await child({ ...ci.env('workload-identity'), NEXT_TOKEN: next, TOKEN_FILE: ci.tokenFile }, `const u = ${JSON.stringify(ado.url)};
const { writeFileSync } = await import('node:fs');
const a = show(await addon.getCredential(u));
writeFileSync(process.env.TOKEN_FILE, '  ' + process.env.NEXT_TOKEN + '\\n\\n');
await sleep(2500);
const b = show(await addon.getCredential(u));
out({ a, b });`);
  const grants = ci.exchanges(ci.ids.workload);
  assert.equal(grants.length, 2);
  assert.ok(r.a.fp !== r.b.fp);
  assert.ok(grants[1].form.client_assertion === next, 'the second exchange used the rotated file, trimmed');
  assert.ok(grants[0].form.client_assertion !== next);

  const chain = await child({ ...ci.env('sp-certificate'), AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: 'true' }, `const u = ${JSON.stringify(ado.url)};
const a = show(await addon.getCredential(u));
await sleep(2500);
out({ a, b: show(await addon.getCredential(u)) });`);
  assert.ok(chain.a.fp !== chain.b.fp);
  const assertions = ci.exchanges(ci.ids.certificate).map((g) => parseJwt(g.form.client_assertion));
  assert.equal(assertions.length, 2, 'the fake refuses a reused jti, so two exchanges mean two fresh assertions');
  assert.notEqual(assertions[0].claims.jti, assertions[1].claims.jti);
  const der = ci.certificate.x509.raw.toString('base64');
  for (const a of assertions) assert.deepEqual(a.header.x5c, [der], 'x5c: the certificate, base64 DER');

  const certFirst = makeClientCertificate(ciDir, { name: 'sp-cert-first', keyFirst: false });
  certFirst.secretLines.forEach(rememberSecret);
  ci.authority.addApp({ tenant: ci.tenant, clientId: 'ffe0d6a4-5b43-4fd1-9d1a-0a1c1f0c2b77', certificates: [certFirst.x509] });
  const other = await child({ ...ci.env('sp-certificate'), AZURE_CLIENT_ID: 'ffe0d6a4-5b43-4fd1-9d1a-0a1c1f0c2b77', AZURE_CLIENT_CERTIFICATE_PATH: certFirst.pemPath },
    `out(show(await addon.resolveCredential(${JSON.stringify(ado.url)})));`);
  assert.equal(other.source, 'service-principal', 'a PEM with the certificate first works too');
});

test('two concurrent getCredential calls, first thing in the process, share one exchange (a 250 ms authority; the OIDC step and the IMDS retries shared too)', async () => {
  const { ci, ado } = await ciFakes({ authority: { latencyMs: 250 } });
  const body = `const u = ${JSON.stringify(ado.url)};
const r = await Promise.all([addon.getCredential(u), addon.getCredential(u), addon.resolveCredential(u)]);
out(r.map(show));`;
  for (const name of ['sp-secret', 'sp-certificate', 'github-actions', 'imds']) {
    const s = ci.scenario(name);
    const r = await child(ci.env(name), body);
    const { token } = issuedToken(ci, s);
    assert.deepEqual(r.map((x) => x.fp), [fp(token), fp(token), fp(token)], name);
  }
  assert.deepEqual([ci.github.requests.length, ci.imds.requests.length], [1, 3]);
});

test('a URL that is not Azure DevOps Services nor listed: with every source\'s variables set, no request to any authority, OIDC or identity endpoint', async () => {
  const { ci, ado } = await ciFakes();
  const elsewhere = await startRecorder({ host: '127.0.0.2' });
  fakes.push(elsewhere);
  const urls = [elsewhere.url, `http://localhost:${ado.port}/DefaultCollection`, `https://127.0.0.2:${ado.port}/DefaultCollection`, 'https://dev.azure.com.127.0.0.2.example/org'];
  const all = ci.allVariables();
  delete all.SYSTEM_ACCESSTOKEN; // the job token is item 18.3's: tested below, separately
  for (const named of [undefined, ...SOURCES]) {
    const vars = named ? { ...all, TFX_AUTH_CREDENTIAL: named } : all;
    const r = await child(vars, `const urls = ${JSON.stringify(urls)};
const out2 = [];
for (const u of urls) out2.push({ r: await addon.resolveCredential(u).then(show, fail), g: await addon.getCredential(u).then(show, fail) });
out(out2);`);
    assert.deepEqual(r, urls.map(() => ({ r: null, g: null })), `TFX_AUTH_CREDENTIAL=${named}`);
  }
  assert.deepEqual(ci.requestCounts(), zero);
  assert.deepEqual([elsewhere.connections, ado.requests.length], [0, 0]);
  // With the job token too, and SYSTEM_COLLECTIONURI naming the pipeline's own collection (the
  // OIDC fake's origin): the URL elsewhere gets no credential of any kind.
  const withJob = await child({ ...ci.allVariables() }, `out(show(await addon.resolveCredential(${JSON.stringify(elsewhere.url)})));`);
  assert.equal(withJob, null, `nothing for ${elsewhere.url}, not even SYSTEM_ACCESSTOKEN (issue 18 item 3)`);
  assert.deepEqual(ci.requestCounts(), zero);
});

test('the job token goes only to an OIDC URI under SYSTEM_COLLECTIONURI: another origin or another collection path gets no request', async () => {
  const { ci, ado } = await ciFakes();
  const elsewhere = await startRecorder({ host: '127.0.0.2' });
  fakes.push(elsewhere);
  const oidcPath = new URL(ci.pipelines.url).pathname;
  const cases = {
    'another origin': `${elsewhere.origin}${oidcPath}`,
    'another port': `http://127.0.0.1:${ado.port}${oidcPath}`,
    'another collection': ci.pipelines.url.replace('/fabfiber/', '/otherorg/'),
    'a path that only starts like it': ci.pipelines.url.replace('/fabfiber/', '/fabfiber-evil/'),
  };
  for (const [why, oidc] of Object.entries(cases)) {
    const r = await child({ ...ci.env('azure-pipelines'), SYSTEM_OIDCREQUESTURI: oidc }, `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`);
    assert.ok(r && typeof r.error === 'string', `${why}: an error, not a credential: ${JSON.stringify(r)}`);
  }
  assert.deepEqual([elsewhere.connections, ci.pipelines.requests.length, ado.requests.length], [0, 0, 0], 'the job token went nowhere');
  assert.deepEqual(ci.requestCounts(), zero);
});

test('the certificate and federated token files are read with caps: a FIFO or /dev/zero is an error at once, never a hang', async () => {
  const { ci, ado } = await ciFakes();
  const fifo = join(ciDir, 'not-a-file');
  execFileSync('mkfifo', [fifo]);
  for (const [name, variable] of [['sp-certificate', 'AZURE_CLIENT_CERTIFICATE_PATH'], ['workload-identity', 'AZURE_FEDERATED_TOKEN_FILE']]) {
    for (const path of [fifo, '/dev/zero', join(ciDir, 'does-not-exist')]) {
      const r = await child({ ...ci.env(name), [variable]: path }, `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`, { timeoutMs: 20_000 });
      assert.ok(r && typeof r.error === 'string', `${variable}=${path}: an error: ${JSON.stringify(r)}`);
      assert.ok(r.message.includes(variable) || r.message.includes(path), `${variable}=${path}: the message says which file: ${r.message}`);
    }
  }
  assert.deepEqual(ci.requestCounts(), zero);
});

test('no redirect is followed from the authority, an OIDC or an identity endpoint: a 307 elsewhere is an error and the secret goes nowhere else', async () => {
  const { ci, ado } = await ciFakes();
  const target = await startRecorder({ host: '127.0.0.2' });
  const hop = await startRecorder({ redirectTo: target.origin });
  fakes.push(target, hop);
  const oidcPath = new URL(ci.pipelines.url).pathname;
  const cases = {
    'sp-secret': { AZURE_AUTHORITY_HOST: hop.origin },
    'sp-certificate': { AZURE_AUTHORITY_HOST: hop.origin },
    'workload-identity': { AZURE_AUTHORITY_HOST: hop.origin },
    'azure-pipelines': { SYSTEM_OIDCREQUESTURI: `${hop.origin}${oidcPath}`, SYSTEM_COLLECTIONURI: `${hop.origin}/fabfiber/` },
    'github-actions': { ACTIONS_ID_TOKEN_REQUEST_URL: `${hop.origin}/r1/_apis/idtoken?api-version=2.0` },
    'app-service': { IDENTITY_ENDPOINT: `${hop.origin}/msi/token` },
    imds: { AZURE_POD_IDENTITY_AUTHORITY_HOST: hop.origin },
  };
  for (const [name, vars] of Object.entries(cases)) {
    const asked = hop.requests.length;
    const r = await child({ ...ci.env(name), ...vars }, `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`);
    assert.ok(r && typeof r.error === 'string', `${name}: an error, not a credential: ${JSON.stringify(r)}`);
    assert.equal(hop.requests.length, asked + 1, `${name}: asked once, not retried`);
  }
  assert.equal(target.connections, 0, 'nothing reached the redirect target');
});

test('IMDS that never stops answering 404: an error after a bounded number of tries, not a hang', async () => {
  const { ci, ado } = await ciFakes({ imds: { notFoundFirst: 1000 } });
  const t0 = Date.now();
  const r = await child(ci.env('imds'), `out(await addon.resolveCredential(${JSON.stringify(ado.url)}).then(show, fail));`, { timeoutMs: 60_000 });
  assert.ok(r && typeof r.error === 'string', JSON.stringify(r));
  assert.ok(ci.imds.requests.length >= 3 && ci.imds.requests.length <= 10, `${ci.imds.requests.length} tries`);
  assert.ok(Date.now() - t0 < 45_000, 'bounded');
});

test('leak check: no client secret, key, assertion, OIDC or access token in any output, nor in any file of the test folders', () => {
  assert.deepEqual(findLeaks({ dirs: [suite.base] }), []);
  // Not vacuous: the suite made secrets of every kind (the folders may well hold no file at all).
  assert.ok(secretCount() > 20, `${secretCount()} secrets`);
});
