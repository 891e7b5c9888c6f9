// Issue 19 end to end with the REAL tfx-cli through tfx-auth's `tfx`: under each CI credential
// source (ci-helpers.mjs SCENARIOS) `tfx build list` reaches the fake Azure DevOps server with the
// Entra token of one exchange (Bearer or Basic, both accepted there) and `tfx extension show` the
// fake Marketplace, which takes an Entra token only as a Basic password (`marketplace: true`). A URL
// that is not Azure DevOps sends nothing anywhere; a refused exchange or a missing variable fails
// the command with what went wrong, never falling back to a stored login; nothing is stored.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keyringSuite, tfx, tfxAuth, addonScript, decodeBasic, keyringLookup, BANNER } from './tfx-helpers.mjs';
import { findLeaks, filesUnder, makeSecret } from './helpers.mjs';
import { makeClientCertificate, makeTestCA } from './fixtures/ca.mjs';
import { startRecorder } from './fixtures/recorder.mjs';
import { startCiFakes, SCENARIOS, SOURCES, fp } from './ci-helpers.mjs';

const suite = keyringSuite('tfx-ci', { before, afterEach, after });
const ciDir = mkdtempSync(join(tmpdir(), 'tfx-ci-files-'));
let cert;
const fakes = [];
before(() => { cert = makeClientCertificate(ciDir, { name: 'sp' }); });
afterEach(async () => { await Promise.all(fakes.splice(0).map((f) => f.close())); });
after(() => rmSync(ciDir, { recursive: true, force: true }));

const MISSING_TOKEN = "error: Error: Missing required value for argument 'token'.\n";
const buildRequests = (s) => s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));
const galleryRequests = (s) => s.requests.filter((q) => q.pathname.toLowerCase().startsWith('/_apis/public/gallery/'));
const showArgs = (serviceUrl) => ['extension', 'show', '--publisher', 'fabfiber', '--extension-id', 'build-tools', '--service-url', serviceUrl, '--json', '--no-prompt'];
const listArgs = (serviceUrl) => ['build', 'list', '--project', 'P', '--service-url', serviceUrl, '--no-prompt'];
/** The Entra token a request carries, as Bearer or as a Basic password. */
const tokenOf = (q) => /^Bearer (.+)$/.exec(q.headers.authorization ?? '')?.[1] ?? decodeBasic(q)?.password ?? null;
const filesContaining = (dir, needle) => filesUnder(dir).filter((f) => readFileSync(f).includes(needle));

async function ciFakes(options = {}) {
  const ci = await startCiFakes({ dir: ciDir, cert, ...options });
  fakes.push(ci);
  const ado = await suite.server({ bearerTokens: ci.authority.acceptsAccessToken, ...options.ado });
  // The Marketplace is a host of its own (marketplace.visualstudio.com), here another port.
  const market = await suite.server({ bearerTokens: ci.authority.acceptsAccessToken, marketplace: true });
  return { ci, ado, market };
}

const zero = { authority: 0, pipelines: 0, github: 0, appService: 0, imds: 0, guard: 0 };
function expectedCounts(s, exchanges) {
  const counts = { ...zero };
  if (s.via) counts.authority = exchanges;
  if (s.identity === 'pipelines') counts.pipelines = exchanges;
  if (s.identity === 'github') counts.github = exchanges;
  if (s.identity === 'appService') counts.appService = exchanges;
  if (s.identity === 'imds') counts.imds = exchanges + 2; // the fake's two 404s, once
  return counts;
}

async function storedLogins(e) {
  const r = await addonScript('out(await addon.listLogins());', e.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

for (const name of SCENARIOS) {
  test(`${name}: tfx build list, then tfx extension show (Basic to the Marketplace), each with one exchange; nothing stored`, async () => {
    const { ci, ado, market } = await ciFakes();
    const s = ci.scenario(name);
    const e = suite.env(`ci-${name}`, ci.env(name));

    const list = await tfx(listArgs(ado.url), e.env);
    assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, ''], name);
    const [first] = ci.issuedTokens();
    assert.equal(ci.issuedTokens().length, 1, 'one token for the command');
    assert.equal(ci.authority.tokenInfo(first).clientId, s.clientId);
    assert.equal(buildRequests(ado).length, 1);
    assert.ok(fp(tokenOf(buildRequests(ado)[0])) === fp(first), 'the build request carries the exchanged token');
    for (const q of ado.requests.filter((r) => r.headers.authorization)) assert.ok(fp(tokenOf(q)) === fp(first), `${q.method} ${q.pathname}: no other credential`);
    assert.deepEqual(ci.requestCounts(), expectedCounts(s, 1));

    const show = await tfx(showArgs(market.origin), e.env);
    assert.deepEqual([show.code, show.stderr], [0, ''], name);
    const shown = JSON.parse(show.stdout);
    assert.deepEqual([shown.publisher.publisherName, shown.extensionName], ['fabfiber', 'build-tools']);
    const second = ci.issuedTokens()[1];
    assert.equal(ci.issuedTokens().length, 2, 'one more token for the second process');
    const gallery = galleryRequests(market);
    assert.ok(gallery.length >= 1);
    for (const q of market.requests.filter((r) => r.headers.authorization)) assert.ok(fp(tokenOf(q)) === fp(second), `${q.method} ${q.pathname}: no other credential`);
    for (const q of gallery) {
      assert.ok(/^Basic /.test(q.headers.authorization ?? ''), `the Marketplace gets Basic, not ${String(q.headers.authorization).split(' ')[0]}`);
      assert.ok(fp(decodeBasic(q).password) === fp(second), 'the token as the password');
    }
    assert.deepEqual(ci.requestCounts(), expectedCounts(s, 2));

    assert.deepEqual(await storedLogins(e), [], 'nothing from a CI source is stored');
    assert.equal(await keyringLookup(suite.addon.normalizeServiceUrl(ado.url), suite.keyring.address), '');
    for (const t of [first, second]) assert.deepEqual(filesContaining(e.dir, t), [], 'no token on disk');
  });
}

test('TFX_ENTRA_TOKEN reaches the Marketplace as Basic too (every Entra token, whatever its source)', async () => {
  const { ci, market } = await ciFakes();
  const { token } = ci.authority.issueAccessToken();
  const e = suite.env('entra-token', { TFX_ENTRA_TOKEN: token, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' });
  const show = await tfx(showArgs(market.origin), e.env);
  assert.deepEqual([show.code, show.stderr], [0, '']);
  assert.ok(galleryRequests(market).length >= 1);
  for (const q of galleryRequests(market)) assert.ok(fp(decodeBasic(q)?.password) === fp(token), `Basic with the token: ${String(q.headers.authorization).split(' ')[0]}`);
});

async function nothingElsewhere(withJobToken) {
  const { ci, ado } = await ciFakes();
  const elsewhere = await startRecorder({ host: '127.0.0.2' });
  fakes.push(elsewhere);
  const all = ci.allVariables();
  if (!withJobToken) delete all.SYSTEM_ACCESSTOKEN;
  const commands = [listArgs(elsewhere.url), showArgs(elsewhere.origin), listArgs(`http://localhost:${ado.port}/DefaultCollection`)];
  for (const named of withJobToken ? [undefined, 'azure-pipelines'] : [undefined, ...SOURCES]) {
    const e = suite.env('elsewhere', named ? { ...all, TFX_AUTH_CREDENTIAL: named } : all);
    for (const args of commands) {
      const r = await tfx(args, e.env);
      assert.deepEqual([r.code, r.stderr], [255, MISSING_TOKEN], `TFX_AUTH_CREDENTIAL=${named} tfx ${args.slice(0, 2).join(' ')} ${args.at(-2)}`);
    }
  }
  assert.deepEqual(ci.requestCounts(), zero, 'no authority, OIDC or identity endpoint asked');
  assert.deepEqual([elsewhere.connections, ado.requests.length], [0, 0], 'and nothing sent to the URLs themselves');
}

test('a URL that is not Azure DevOps nor listed, with every CI source\'s variables set: no request anywhere, under every TFX_AUTH_CREDENTIAL', () => nothingElsewhere(false));

test('the same with SYSTEM_ACCESSTOKEN set for the pipeline\'s own collection: the job token does not go there either (issue 18 item 3)', () => nothingElsewhere(true));

test('a refused exchange fails tfx build list with the authority\'s answer; the stored PAT for the URL is not used instead and stays', async () => {
  const pat = makeSecret('pat');
  const { ci, ado } = await ciFakes({ ado: { tokens: [pat] } });
  const e = suite.env('refused', ci.env('sp-secret', { name: true }));
  const login = await tfx(['login', '--service-url', ado.url, '--token', pat, '--no-prompt'], suite.env('refused-login').env);
  assert.equal(login.code, 0, login.stderr);
  ado.requests.length = 0;
  ci.authority.refuseClientCredentials(ci.ids.sp);
  const list = await tfx(listArgs(ado.url), e.env);
  assert.equal(list.code, 255, list.stderr);
  assert.match(list.stderr, /^error: Error: [^\n]*invalid_client[^\n]*AADSTS7000222[^\n]*\n$/);
  assert.equal(buildRequests(ado).length, 0, 'no request with the stored PAT');
  assert.equal(ci.authority.clientCredentialGrants().length, 1);
  assert.equal(await keyringLookup(suite.addon.normalizeServiceUrl(ado.url), suite.keyring.address), `pat:${pat}`);
});

test('a named source with missing variables fails tfx with a message naming them; nothing is sent', async () => {
  const { ci, ado, market } = await ciFakes();
  const { ACTIONS_ID_TOKEN_REQUEST_URL: _u, ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t, ...rest } = ci.env('github-actions');
  const e = suite.env('missing', rest);
  for (const args of [listArgs(ado.url), showArgs(market.origin)]) {
    const r = await tfx(args, e.env);
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, /^error: Error: /);
    for (const v of ['ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN']) assert.ok(r.stderr.includes(v), `names ${v}: ${r.stderr}`);
  }
  assert.deepEqual(ci.requestCounts(), zero);
  assert.deepEqual([ado.requests.length, market.requests.length], [0, 0]);
});

test('tfx login with a CI source in effect stores nothing from it (a CI machine keeps nothing)', async () => {
  const { ci, ado } = await ciFakes();
  for (const name of ['sp-secret', 'github-actions']) {
    const e = suite.env(`login-${name}`, ci.env(name));
    await tfx(['login', '--service-url', ado.url, '--no-prompt'], e.env);
    assert.deepEqual(await storedLogins(e), [], `${name}: nothing stored`);
    for (const t of ci.issuedTokens()) assert.deepEqual(filesContaining(e.dir, t), [], `${name}: no token on disk`);
  }
});

test('https: the CI token goes to a listed host over verified https; with certificate checks skipped it is not even fetched', async () => {
  const pki = await makeTestCA(join(ciDir, 'pki'));
  const { ci } = await ciFakes();
  const secure = await suite.server({ https: { key: pki.key, cert: pki.cert }, bearerTokens: ci.authority.acceptsAccessToken });
  const trusted = suite.env('https-trusted', { ...ci.env('sp-secret'), NODE_EXTRA_CA_CERTS: pki.caCertPath });
  const list = await tfx(listArgs(secure.url), trusted.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  const [token] = ci.issuedTokens();
  assert.ok(fp(tokenOf(buildRequests(secure)[0])) === fp(token), 'the exchanged token, over verified https');

  secure.requests.length = 0;
  const skipped = suite.env('https-skipped', ci.env('sp-secret'));
  const r = await tfx([...listArgs(secure.url), '--skip-cert-validation'], skipped.env);
  assert.deepEqual([r.code, r.stderr], [255, MISSING_TOKEN]);
  assert.equal(ci.issuedTokens().length, 1, 'no exchange for a URL whose certificate is not checked');
  assert.deepEqual(secure.requests.filter((q) => q.headers.authorization), [], 'no credential sent');
});

test('tfx-auth status names the CI source in effect and checks it live against the default URL; a named source with missing variables is shown as such', async () => {
  const pat = makeSecret('pat');
  const { ci, ado } = await ciFakes({ ado: { tokens: [pat] } });
  const home = suite.env('status'); // the default URL is this HOME's
  const login = await tfx(['login', '--service-url', ado.url, '--token', pat, '--no-prompt'], home.env);
  assert.equal(login.code, 0, login.stderr);
  const status = async (vars) => {
    const r = await tfxAuth(['status', '--json'], { ...home.env, ...vars });
    return { code: r.code, report: JSON.parse(r.stdout) };
  };
  for (const [name, named] of [['sp-secret', false], ['azure-pipelines', true]]) {
    ado.requests.length = 0;
    const before = ci.issuedTokens().length;
    const { report } = await status(ci.env(name));
    const { source } = report;
    assert.deepEqual([source.kind, source.source, source.named, source.authType, source.valid, source.defaultServiceUrl], ['ci', ci.scenario(name).source, named, 'entra', true, ado.url], name);
    assert.equal(typeof source.label, 'string');
    assert.ok(source.label.includes(name === 'sp-secret' ? ci.ids.sp : ci.pipelines.serviceConnectionId), `${name}: the label names the identity: ${source.label}`);
    assert.equal(ci.issuedTokens().length, before + 1, `${name}: one exchange`);
    const checked = ado.requests.filter((q) => /\/_apis\/connectiondata$/i.test(q.pathname) && fp(tokenOf(q)) === fp(ci.issuedTokens().at(-1)));
    assert.ok(checked.length >= 1, `${name}: checked live with the CI token`);
  }
  const { ACTIONS_ID_TOKEN_REQUEST_TOKEN: _t, ...partial } = ci.env('github-actions');
  const { report } = await status(partial);
  assert.deepEqual([report.source.kind, report.source.valid, report.source.error?.code], ['ci', false, 'CI_CREDENTIAL_MISSING']);
  assert.ok(report.source.error.message.includes('ACTIONS_ID_TOKEN_REQUEST_TOKEN'));
});

test('leak check: no client secret, key, assertion, OIDC or access token in any output, nor in any file under the test folders', () => {
  assert.deepEqual(findLeaks({ dirs: [suite.base] }), []);
  assert.ok(filesUnder(suite.base).length > 0);
});
