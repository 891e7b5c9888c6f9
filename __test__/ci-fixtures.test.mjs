// Self-tests of the CI credential fakes (issue 19): the fake authority's client credentials grant,
// the fake OIDC and managed identity endpoints, the Marketplace's Basic-only mode of the fake Azure
// DevOps server, and the recorder. Only node's fetch and node:crypto play the client here, so a
// failure is a fixture bug, not an addon bug. Run: node --test __test__/ci-fixtures.test.mjs
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { startFakeAuthority } from './fixtures/fake-authority.mjs';
import { startFakeIdentity, RESOURCE, EXCHANGE_AUDIENCE } from './fixtures/fake-identity.mjs';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';
import { startRecorder } from './fixtures/recorder.mjs';
import { makeClientCertificate } from './fixtures/ca.mjs';
import { signJwt, thumbprints, makeIssuer, parseJwt, verifyJwtSignature } from './fixtures/jwt.mjs';
import { JWT_BEARER, RESOURCE_SCOPE } from './fixtures/client-credentials.mjs';

const LIMIT = { timeout: 30_000 };
const dir = mkdtempSync(join(tmpdir(), 'tfx-ci-fixtures-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const post = async (url, form) => {
  const r = await fetch(url, { method: 'POST', body: new URLSearchParams(form) });
  return { status: r.status, body: await r.json() };
};
const aadsts = (body) => /^AADSTS(\d+):/.exec(body.error_description ?? '')?.[1];

describe('fake authority: client credentials', LIMIT, () => {
  const secretApp = { tenant: IDS.tenant, clientId: randomUUID(), secret: 'the-client-secret' };
  const certApp = { tenant: IDS.tenant, clientId: randomUUID(), certificates: [] };
  const k8s = makeIssuer('https://oidc.prod-aks.azure.com/cluster-1/', 'system:serviceaccount:ci:publisher');
  const fedApp = { tenant: IDS.tenant, clientId: randomUUID(), federations: [k8s.federation] };
  let authority;
  let cert;
  let other;
  let endpoint;
  before(async () => {
    cert = makeClientCertificate(dir, { name: 'good' });
    other = makeClientCertificate(dir, { name: 'other' });
    certApp.certificates.push(cert.x509);
    authority = await startFakeAuthority({ apps: [secretApp, certApp, fedApp] });
    endpoint = `${authority.url}/${IDS.tenant}/oauth2/v2.0/token`;
  });
  after(() => authority.close());

  const grant = (form) => post(endpoint, { grant_type: 'client_credentials', scope: RESOURCE_SCOPE, ...form });
  const assertion = (overrides = {}, { alg = 'PS256', key = cert.key, header = {} } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const tp = thumbprints(cert.x509);
    const h = alg === 'PS256' ? { alg, typ: 'JWT', 'x5t#S256': tp['x5t#S256'] } : { alg, typ: 'JWT', x5t: tp.x5t };
    return signJwt({ ...h, ...header }, { aud: endpoint, iss: certApp.clientId, sub: certApp.clientId, jti: randomUUID(), nbf: now, iat: now, exp: now + 600, ...overrides }, key);
  };
  const withAssertion = (a, clientId = certApp.clientId) => grant({ client_id: clientId, client_assertion_type: JWT_BEARER, client_assertion: a });

  test('a client secret: the right one gets an app token the fake Azure DevOps server accepts; a wrong one is invalid_client', async () => {
    const ok = await grant({ client_id: secretApp.clientId, client_secret: secretApp.secret });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(ok.body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    assert.ok(authority.acceptsAccessToken(ok.body.access_token));
    assert.equal(authority.tokenInfo(ok.body.access_token).clientId, secretApp.clientId);
    assert.equal(parseJwt(ok.body.access_token).claims.idtyp, 'app');
    const bad = await grant({ client_id: secretApp.clientId, client_secret: 'nope' });
    assert.deepEqual([bad.status, bad.body.error, aadsts(bad.body)], [401, 'invalid_client', '7000215']);
    const unknown = await grant({ client_id: randomUUID(), client_secret: secretApp.secret });
    assert.deepEqual([unknown.status, unknown.body.error], [400, 'unauthorized_client']);
    const otherTenant = await post(`${authority.url}/${randomUUID()}/oauth2/v2.0/token`, { grant_type: 'client_credentials', scope: RESOURCE_SCOPE, client_id: secretApp.clientId, client_secret: secretApp.secret });
    assert.equal(otherTenant.body.error, 'unauthorized_client');
    const scope = await grant({ client_id: secretApp.clientId, client_secret: secretApp.secret, scope: `${RESOURCE}/user_impersonation` });
    assert.equal(scope.body.error, 'invalid_scope');
    const none = await grant({ client_id: secretApp.clientId });
    assert.deepEqual([none.status, aadsts(none.body)], [401, '7000218']);
    assert.deepEqual(authority.clientCredentialGrants().map((g) => g.outcome.status), [200, 401, 400, 400, 400, 401]);
  });

  test('a certificate assertion: PS256 with x5t#S256 and RS256 with x5t are accepted; replay, wrong aud/iss/sub, expiry, nbf, lifetime, key and header pairing are refused', async () => {
    assert.equal((await withAssertion(assertion())).status, 200);
    assert.equal((await withAssertion(assertion({}, { alg: 'RS256' }))).status, 200);
    assert.deepEqual(authority.clientCredentialGrants().slice(-2).map((g) => [g.outcome.via, g.outcome.alg]), [['certificate', 'PS256'], ['certificate', 'RS256']]);
    const once = assertion();
    assert.equal((await withAssertion(once)).status, 200);
    const now = Math.floor(Date.now() / 1000);
    const refused = {
      replayed: once,
      'wrong aud': assertion({ aud: `${authority.url}/${IDS.tenant}/oauth2/token` }),
      'aud of another tenant': assertion({ aud: `${authority.url}/common/oauth2/v2.0/token` }),
      'wrong iss': assertion({ iss: secretApp.clientId }),
      'wrong sub': assertion({ sub: secretApp.clientId }),
      expired: assertion({ nbf: now - 1200, iat: now - 1200, exp: now - 700 }),
      'not yet valid': assertion({ nbf: now + 400, exp: now + 900 }),
      'lifetime over 10 min': assertion({ exp: now + 3600 }),
      'no jti': assertion({ jti: undefined }),
      'no nbf': assertion({ nbf: undefined }),
      'another key': assertion({}, { key: other.key }),
      'PS256 with x5t only': assertion({}, { alg: 'RS256', header: { alg: 'PS256' } }),
      'unknown thumbprint': assertion({}, { key: other.key, header: { 'x5t#S256': thumbprints(other.x509)['x5t#S256'] } }),
    };
    for (const [why, a] of Object.entries(refused)) {
      const r = await withAssertion(a);
      assert.deepEqual([r.status, r.body.error], [401, 'invalid_client'], why);
      assert.match(r.body.error_description, /^AADSTS\d+: /, why);
    }
    const tampered = once.split('.');
    tampered[1] = Buffer.from(JSON.stringify({ ...parseJwt(once).claims, jti: randomUUID() })).toString('base64url');
    assert.equal((await withAssertion(tampered.join('.'))).body.error, 'invalid_client', 'a changed claim breaks the signature');
    assert.equal((await grant({ client_id: certApp.clientId, client_assertion_type: 'urn:x', client_assertion: assertion() })).body.error, 'invalid_request');
    assert.equal((await withAssertion('not.a.jwt')).body.error, 'invalid_client');
  });

  test('a federated assertion: a token of the trusted issuer is accepted (also twice); another subject, audience, issuer key or an expired one is not', async () => {
    const t = k8s.token();
    assert.equal((await withAssertion(t, fedApp.clientId)).status, 200);
    assert.equal((await withAssertion(t, fedApp.clientId)).status, 200, 'a projected token is reused until it rotates');
    const now = Math.floor(Date.now() / 1000);
    const impostor = makeIssuer(k8s.federation.issuer, k8s.federation.subject);
    for (const [why, a] of Object.entries({
      subject: k8s.token({ sub: 'system:serviceaccount:ci:other' }),
      audience: k8s.token({ aud: 'api://something-else' }),
      'issuer key': impostor.token(),
      expired: k8s.token({ iat: now - 4000, nbf: now - 4000, exp: now - 3600 }),
      'unknown issuer': makeIssuer('https://elsewhere.example/', k8s.federation.subject).token(),
    })) {
      const r = await withAssertion(a, fedApp.clientId);
      assert.equal(r.body.error, 'invalid_client', why);
    }
    assert.equal((await withAssertion(t, certApp.clientId)).body.error, 'invalid_client', 'no federation on the certificate app');
  });

  test('refuseClientCredentials: every grant is invalid_client AADSTS7000222; latency delays each answer', async () => {
    const slow = await startFakeAuthority({ apps: [secretApp], latencyMs: 25, clientCredentialTtls: [302] });
    try {
      const url = `${slow.url}/${IDS.tenant}/oauth2/v2.0/token`;
      const t0 = performance.now();
      const ok = await post(url, { grant_type: 'client_credentials', scope: RESOURCE_SCOPE, client_id: secretApp.clientId, client_secret: secretApp.secret });
      assert.equal(ok.status, 200);
      assert.ok(performance.now() - t0 >= 24, 'at least 25 ms');
      assert.equal(ok.body.expires_in, 302, 'the first lifetime of clientCredentialTtls');
      const again = await post(url, { grant_type: 'client_credentials', scope: RESOURCE_SCOPE, client_id: secretApp.clientId, client_secret: secretApp.secret });
      assert.equal(again.body.expires_in, 3600, 'then accessTokenTtl');
      slow.refuseClientCredentials(secretApp.clientId);
      const r = await post(url, { grant_type: 'client_credentials', scope: RESOURCE_SCOPE, client_id: secretApp.clientId, client_secret: secretApp.secret });
      assert.deepEqual([r.status, r.body.error, aadsts(r.body)], [401, 'invalid_client', '7000222']);
      assert.equal(slow.clientCredentialGrants().length, 3);
    } finally {
      await slow.close();
    }
  });
});

describe('fake identity endpoints', LIMIT, () => {
  let authority;
  before(async () => { authority = await startFakeAuthority(); });
  after(() => authority.close());

  test('Azure Pipelines OIDC: POST with the job token, api-version=7.1 and the service connection → a signed oidcToken', async () => {
    const id = await startFakeIdentity({ kind: 'azure-pipelines', bearer: 'job-token' });
    try {
      assert.ok(id.url.startsWith(id.collectionUri));
      const call = (query, { method = 'POST', bearer = 'job-token', type = 'application/json' } = {}) =>
        fetch(`${id.url}?${query}`, { method, headers: { Authorization: `Bearer ${bearer}`, 'Content-Type': type } });
      const good = `api-version=7.1&serviceConnectionId=${id.serviceConnectionId}`;
      const r = await call(good);
      assert.equal(r.status, 200);
      const { oidcToken } = await r.json();
      const jwt = parseJwt(oidcToken);
      assert.ok(verifyJwtSignature(jwt, id.federation.publicKey));
      assert.deepEqual([jwt.claims.iss, jwt.claims.sub, jwt.claims.aud], [id.federation.issuer, id.federation.subject, EXCHANGE_AUDIENCE]);
      assert.equal((await call(good, { bearer: 'other' })).status, 401);
      assert.equal((await call(`api-version=7.1&serviceConnectionId=${randomUUID()}`)).status, 400);
      assert.equal((await call(`api-version=7.0&serviceConnectionId=${id.serviceConnectionId}`)).status, 400);
      assert.equal((await call(good, { method: 'GET' })).status, 405);
      assert.equal((await call(good, { type: 'text/plain' })).status, 415);
      assert.deepEqual(id.requests.map((q) => q.refused), [null, 'bearer', 'serviceConnectionId', 'api-version', 'method', 'content-type']);
      assert.equal(id.served().length, 1);
    } finally {
      await id.close();
    }
  });

  test('GitHub Actions OIDC: GET {url}&audience=api://AzureADTokenExchange with the request token → value', async () => {
    const id = await startFakeIdentity({ kind: 'github-actions', bearer: 'gh-token' });
    try {
      const get = (url, bearer = 'gh-token') => fetch(url, { headers: { Authorization: `Bearer ${bearer}` } });
      for (const audience of ['api://AzureADTokenExchange', encodeURIComponent(EXCHANGE_AUDIENCE)]) {
        const r = await get(`${id.url}&audience=${audience}`);
        assert.equal(r.status, 200);
        assert.ok(verifyJwtSignature(parseJwt((await r.json()).value), id.federation.publicKey));
      }
      assert.equal((await get(`${id.url}&audience=${EXCHANGE_AUDIENCE}`, 'nope')).status, 401);
      assert.equal((await get(`${id.url}&audience=api://other`)).status, 400);
      assert.equal((await get(id.url)).status, 400);
      assert.equal((await get(id.url.replace('?api-version=2.0', `?audience=${EXCHANGE_AUDIENCE}`))).status, 400);
    } finally {
      await id.close();
    }
  });

  test('App Service: X-IDENTITY-HEADER, resource, api-version 2019-08-01; expires_on a string; a user-assigned client_id', async () => {
    const user = randomUUID();
    const id = await startFakeIdentity({ kind: 'app-service', identityHeader: 'hdr', clientIds: [user], issueAccessToken: authority.issueAccessToken });
    try {
      const get = (query, header = 'hdr') => fetch(`${id.url}?${query}`, { headers: { 'X-IDENTITY-HEADER': header } });
      const q = `resource=${RESOURCE}&api-version=2019-08-01`;
      const r = await get(q);
      assert.equal(r.status, 200);
      const body = await r.json();
      assert.equal(typeof body.expires_on, 'string');
      assert.ok(authority.acceptsAccessToken(body.access_token));
      assert.equal(id.issued[0].clientId, body.client_id);
      assert.equal((await (await get(`${q}&client_id=${user}`)).json()).client_id, user);
      assert.equal(authority.tokenInfo(id.issued[1].token).clientId, user);
      assert.equal((await get(`${q}&client_id=${randomUUID()}`)).status, 400);
      assert.equal((await get(q, 'wrong')).status, 401);
      assert.equal((await get(`resource=${RESOURCE}/.default&api-version=2019-08-01`)).status, 400);
      assert.equal((await get(`resource=${RESOURCE}&api-version=2017-09-01`)).status, 400);
    } finally {
      await id.close();
    }
  });

  test('IMDS: 404 twice, then the token; Metadata: true required, X-Forwarded-For refused', async () => {
    const id = await startFakeIdentity({ kind: 'imds', issueAccessToken: authority.issueAccessToken, ttl: [1234, 77] });
    try {
      const url = `${id.url}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${RESOURCE}`;
      const get = (headers = { Metadata: 'true' }) => fetch(url, { headers });
      assert.equal((await get({})).status, 400);
      assert.equal((await get({ Metadata: 'true', 'X-Forwarded-For': '10.0.0.1' })).status, 400);
      assert.deepEqual([(await get()).status, (await get()).status], [404, 404]);
      const r = await get();
      assert.equal(r.status, 200);
      const body = await r.json();
      assert.deepEqual([typeof body.expires_on, typeof body.expires_in], ['string', 'string']);
      assert.ok(Math.abs(Number(body.expires_on) - (Date.now() / 1000 + 1234)) < 5);
      assert.ok(authority.acceptsAccessToken(body.access_token));
      const next = await (await get()).json();
      assert.deepEqual([(await get()).status, next.expires_in], [200, '77'], 'no more 404s; the next lifetime of the list, then kept');
      assert.equal((await (await get()).json()).expires_in, '77');
    } finally {
      await id.close();
    }
  });
});

test('fake Marketplace (marketplace: true) takes an Entra token only as a Basic password; the fake Azure DevOps takes Bearer and Basic', LIMIT, async () => {
  const market = await startFakeAdo({ bearerTokens: ['entra-token'], marketplace: true });
  const ado = await startFakeAdo({ bearerTokens: ['entra-token'] });
  try {
    const get = (origin, path, authorization) => fetch(`${origin}${path}`, { headers: { Authorization: authorization, 'X-TFS-FedAuthRedirect': 'Suppress' } });
    const basic = `Basic ${Buffer.from(':entra-token').toString('base64')}`;
    const ext = '/_apis/public/gallery/publishers/fabfiber/extensions/build-tools';
    assert.equal((await get(market.origin, ext, 'Bearer entra-token')).status, 401);
    assert.equal((await get(market.origin, ext, basic)).status, 200);
    assert.equal((await get(ado.origin, '/DefaultCollection/_apis/connectionData', 'Bearer entra-token')).status, 200);
    assert.equal((await get(ado.origin, '/DefaultCollection/_apis/connectionData', basic)).status, 200);
    assert.equal((await get(ado.origin, '/DefaultCollection/_apis/connectionData', `Basic ${Buffer.from(':other').toString('base64')}`)).status, 401);
  } finally {
    await Promise.all([market.close(), ado.close()]);
  }
});

test('recorder on another loopback address: counts connections and requests', LIMIT, async () => {
  const rec = await startRecorder({ host: '127.0.0.2' });
  try {
    assert.equal((await fetch(`${rec.url}/_apis/connectionData`, { headers: { Authorization: 'Basic eA==' } })).status, 404);
    assert.deepEqual([rec.connections, rec.requests.length, rec.requests[0].headers.authorization], [1, 1, 'Basic eA==']);
  } finally {
    await rec.close();
  }
  await assert.rejects(startRecorder({ host: '10.0.0.1' }), /loopback/);
  const hop = await startRecorder({ redirectTo: 'http://127.0.0.2:9' });
  try {
    const r = await fetch(`${hop.origin}/a/b?c=d`, { method: 'POST', body: 'x=1', redirect: 'manual' });
    assert.deepEqual([r.status, r.headers.get('location'), hop.requests.length], [307, 'http://127.0.0.2:9/a/b?c=d', 1]);
  } finally {
    await hop.close();
  }
});
