// validateConnection against the fake Azure DevOps server: one request with the right headers,
// and every way a server can answer (or not) told apart by `code` and `status`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { isolateThisProcess, makeSecret, rejection, findLeaks, runAddonScript } from './helpers.mjs';
import { scrubProxyEnv, closedPort, patHeader, basicHeader, pat, VERSION, timed, mainRequests } from './net-helpers.mjs';
import { startFakeAdo, IDS, DEFAULT_ACCOUNT, DEFAULT_DISPLAY_NAME } from './fixtures/fake-ado.mjs';

scrubProxyEnv();
const dirs = isolateThisProcess('tfx-auth-validate');
const addon = createRequire(import.meta.url)('../index.js');

const token = makeSecret('pat');
const DOMAIN_USER = 'fabfiber\\peter';
const domainPassword = makeSecret('P@ss:w0rd-'); // a ':' inside a password is legal on Windows

let ado;
before(async () => {
  ado = await startFakeAdo({ tokens: [token], basicUsers: { [DOMAIN_USER]: domainPassword } });
});
after(() => ado?.close());

/** Validates under `scenario`; resolves to [result or recorded error, ms taken, requests seen]. */
async function validateUnder(scenario, credential = pat(token), options = undefined) {
  ado.setScenario(scenario);
  ado.requests.length = 0;
  const [outcome, ms] = await timed(addon.validateConnection(ado.url, credential, options));
  if (outcome instanceof Error) await rejection(Promise.reject(outcome)); // recorded for the leak scan
  return [outcome, ms, [...ado.requests]];
}

/** The one request every validation sends. */
function assertTheOneRequest(requests, authorization) {
  assert.equal(requests.length, 1, `exactly one request per validation, saw ${requests.map((r) => r.path).join(', ')}`);
  const [r] = requests;
  assert.equal(r.listener, 'main');
  assert.equal(r.method, 'GET');
  assert.equal(r.pathname, '/DefaultCollection/_apis/connectionData');
  assert.equal(r.headers.accept, 'application/json');
  assert.equal(r.headers['x-tfs-fedauthredirect'], 'Suppress');
  assert.equal(r.headers.authorization, authorization);
  assert.ok(r.headers['user-agent']?.startsWith('tfx-auth/'), r.headers['user-agent']);
  assert.ok(r.headers['user-agent'].includes(VERSION), 'the User-Agent names the version');
}

test('a good PAT against a hosted organisation resolves to the user and the deployment', async () => {
  const [info, , requests] = await validateUnder('ok');
  assert.deepEqual(info, {
    serviceUrl: ado.url,
    normalizedUrl: ado.url.toLowerCase(),
    authenticatedUser: { id: IDS.user, displayName: DEFAULT_DISPLAY_NAME, uniqueName: DEFAULT_ACCOUNT },
    instanceId: IDS.instance,
    deploymentId: IDS.deployment,
    deploymentType: 'hosted',
    warnings: [], // plain http, but to loopback: no warning
  });
  assertTheOneRequest(requests, patHeader(token));
});

test('a URL typed with a trailing slash and odd case still asks the collection once', async () => {
  ado.setScenario('ok');
  ado.requests.length = 0;
  const info = await addon.validateConnection(`${ado.origin}/DefaultCollection/`, pat(token));
  assert.equal(info.serviceUrl, ado.url);
  assertTheOneRequest(ado.requests, patHeader(token));
});

test('on-premises: DOMAIN\\user Basic and a PAT both work; a wrong password is AUTH_REJECTED', async () => {
  const basic = { type: 'basic', username: DOMAIN_USER, password: domainPassword };
  const [info, , requests] = await validateUnder('onprem', basic);
  assert.ok(!(info instanceof Error), info?.message);
  assert.equal(info.deploymentType, 'onPremises');
  assert.deepEqual(info.authenticatedUser, { id: IDS.user, displayName: 'Peter', uniqueName: DOMAIN_USER });
  assertTheOneRequest(requests, basicHeader(DOMAIN_USER, domainPassword));

  const [viaPat] = await validateUnder('onprem', pat(token));
  assert.equal(viaPat.deploymentType, 'onPremises');

  const wrong = makeSecret('wrong');
  const [err, , seen] = await validateUnder('onprem', { type: 'basic', username: DOMAIN_USER, password: wrong });
  assert.equal(err.code, 'AUTH_REJECTED');
  assert.equal(err.status, 401);
  assertTheOneRequest(seen, basicHeader(DOMAIN_USER, wrong));
});

// Every answer but success, with the code and HTTP status it must give.
const wrongToken = makeSecret('wrong');
const FAILURES = [
  { name: 'a PAT the hosted service does not know (401 JSON, because of FedAuthRedirect: Suppress)', scenario: 'ok', token: wrongToken, code: 'AUTH_REJECTED', status: 401 },
  { scenario: 'unauthorized-json', code: 'AUTH_REJECTED', status: 401 },
  { scenario: 'unauthorized-html', code: 'AUTH_REJECTED', status: 401 },
  { scenario: 'signin-203', code: 'SIGN_IN_PAGE', status: 203 },
  { scenario: 'signin-200-html', code: 'SIGN_IN_PAGE', status: 200 },
  { scenario: 'anonymous', code: 'ANONYMOUS_USER', status: 200 },
  { scenario: 'forbidden', code: 'FORBIDDEN', status: 403 },
  { scenario: 'not-found', code: 'NOT_AZURE_DEVOPS', status: 404 },
  { scenario: 'server-error', code: 'SERVER_ERROR', status: 500 },
  { scenario: 'invalid-json', code: 'NOT_AZURE_DEVOPS', status: 200 },
  { scenario: 'wrong-shape', code: 'NOT_AZURE_DEVOPS', status: 200 },
  { scenario: 'not-json', code: 'NOT_AZURE_DEVOPS', status: 200 },
  // The status line arrived, then the connection broke: a network failure, whatever its status.
  { scenario: 'reset', code: 'NETWORK_ERROR', status: 'unchecked' },
  // 100 MiB that ends in a valid user: only a client that caps the body refuses it, and fast.
  { name: 'huge: a 100 MiB body is cut off at the cap', scenario: 'huge', code: 'NOT_AZURE_DEVOPS', status: 200, maxMs: 5000 },
];

for (const row of FAILURES) {
  test(row.name ?? `${row.scenario}: ${row.code}`, async () => {
    const used = row.token ?? token;
    const [err, ms, requests] = await validateUnder(row.scenario, pat(used));
    assert.ok(err instanceof Error, `expected ${row.code}, got ${JSON.stringify(err)}`);
    assert.equal(err.code, row.code, err.message);
    if (row.status !== 'unchecked') assert.equal(err.status, row.status);
    assert.ok(err.message.includes(ado.url), `the message names the URL: ${err.message}`);
    assertTheOneRequest(requests, patHeader(used));
    if (row.maxMs) assert.ok(ms < row.maxMs, `took ${Math.round(ms)} ms`);
  });
}

for (const scenario of ['hang', 'no-response']) {
  test(`${scenario}: timeoutMs ends the request promptly with TIMEOUT`, async () => {
    const [err, ms, requests] = await validateUnder(scenario, pat(token), { timeoutMs: 400 });
    assert.equal(err.code, 'TIMEOUT', err.message);
    assert.equal(err.status, undefined);
    assert.ok(ms >= 350 && ms < 2000, `took ${Math.round(ms)} ms for a 400 ms timeout`);
    assertTheOneRequest(requests, patHeader(token));
  });
}

test('an AbortSignal ends a hanging request promptly with ABORTED', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 200);
  const [err, ms, requests] = await validateUnder('hang', pat(token), { signal: controller.signal });
  assert.equal(err.code, 'ABORTED', err.message);
  assert.equal(err.status, undefined);
  assert.ok(ms < 1500, `took ${Math.round(ms)} ms to abort`);
  assertTheOneRequest(requests, patHeader(token));
});

test('an AbortSignal aborted before the call rejects with ABORTED at once and sends nothing', async () => {
  // timeoutMs only bounds the test's runtime if the signal is ignored.
  const [err, ms, requests] = await validateUnder('hang', pat(token), { signal: AbortSignal.abort(), timeoutMs: 3000 });
  assert.equal(err.code, 'ABORTED', `${err.code}: ${err.message}`);
  assert.ok(ms < 1000, `took ${Math.round(ms)} ms`);
  assert.equal(requests.length, 0);
});

test('a closed port gives NETWORK_ERROR without a status', async () => {
  const url = `http://127.0.0.1:${await closedPort()}/DefaultCollection`;
  const err = await rejection(addon.validateConnection(url, pat(token), { timeoutMs: 5000 }));
  assert.equal(err.code, 'NETWORK_ERROR', err.message);
  assert.equal(err.status, undefined);
  assert.ok(err.message.includes(url), err.message);
});

test('a cross-host redirect arrives at the other host without Authorization', async () => {
  const [info, , requests] = await validateUnder('redirect-cross-host');
  assert.ok(!(info instanceof Error), info?.message);
  assert.deepEqual(requests.map((r) => r.listener), ['main', 'redirect-target'], 'one request per hop');
  assertTheOneRequest(mainRequests({ requests }), patHeader(token));
  const hop = requests[1];
  assert.equal(hop.headers.host, new URL(ado.redirectTargetOrigin).host);
  assert.equal(hop.headers.authorization, undefined, 'the credential never goes to another host');
  assert.equal(hop.pathname, '/DefaultCollection/_apis/connectionData');
});

test('a same-host redirect keeps Authorization', async () => {
  const [info, , requests] = await validateUnder('redirect-same-host');
  assert.ok(!(info instanceof Error), info?.message);
  assert.deepEqual(requests.map((r) => [r.listener, r.pathname]), [
    ['main', '/DefaultCollection/_apis/connectionData'],
    ['main', '/_redirected/DefaultCollection/_apis/connectionData'],
  ]);
  for (const r of requests) assert.equal(r.headers.authorization, patHeader(token));
});

test('bad input is refused before any request', async () => {
  ado.setScenario('ok');
  ado.requests.length = 0;
  const cases = [
    ['not a url', pat(token), 'INVALID_URL'],
    [`http://OAuth:${token}@127.0.0.1:${ado.port}/DefaultCollection`, pat(token), 'INVALID_URL'],
    [ado.url, pat('   '), 'INVALID_CREDENTIAL'],
    [ado.url, pat(`${makeSecret()}\n`), 'INVALID_CREDENTIAL'],
    [ado.url, { type: 'basic', username: 'a:b', password: makeSecret() }, 'INVALID_CREDENTIAL'],
  ];
  for (const [url, credential, code] of cases) {
    const err = await rejection(addon.validateConnection(url, credential));
    assert.equal(err.code, code, `${url}: ${err.message}`);
  }
  assert.equal(ado.requests.length, 0);
});

test('validation stores nothing', async () => {
  await validateUnder('ok');
  assert.equal(await addon.getCredential(ado.url), null);
  assert.notEqual(await addon.getDefaultServiceUrl(), ado.url);
});

test('credentials over plain http to a non-loopback host print a warning', async () => {
  // The fake server doubles as a plain-http forward proxy on loopback, so the request for
  // tfs.fabfiber.example never leaves this machine: it arrives at the fake server with an
  // absolute URI, as any proxy would see it.
  const token = makeSecret('plain');
  const ado = await startFakeAdo({ tokens: [token], scenario: 'onprem' });
  try {
    const url = 'http://tfs.fabfiber.example:8080/tfs/DefaultCollection';
    const res = await runAddonScript(`
      const info = await addon.validateConnection(${JSON.stringify(url)}, { type: 'pat', token: ${JSON.stringify(token)} }, { proxy: ${JSON.stringify(ado.origin)} });
      out(info.warnings);`, { ...process.env });
    assert.equal(res.code, 0, res.stderr);
    const warnings = JSON.parse(res.stdout);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /credentials are sent to tfs\.fabfiber\.example over plain http/);
    const printed = res.stderr.split('\n').filter((l) => l.includes('over plain http'));
    assert.deepEqual(printed, [warnings[0]], 'printed once, on one line');
    assert.equal(ado.requests.length, 1);
    assert.equal(ado.requests[0].url, `${url}/_apis/connectionData`);
  } finally {
    await ado.close();
  }
});

after(() => {
  assert.deepEqual(findLeaks({ dirs: [dirs.base] }), [], 'no secret in any message, stack or file');
});
