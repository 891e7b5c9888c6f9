// The wire form each service takes (issue 19, item 3), with the real tfx-cli through the hook: an
// Entra access token goes to every `tfx extension` command (the Marketplace, whatever
// --service-url says) as Basic with the token as password, the way vsce and the extension tasks
// send it; to the Azure DevOps REST API as Bearer. The fake gallery (`marketplace: true`) takes an
// Entra token only as Basic, as the real Marketplace is only proven to. And
// `tfx login --auth-type entra --service-url https://marketplace.visualstudio.com` validates the
// Marketplace way: the host name reached through a loopback CONNECT tunnel (no name resolution,
// no internet) to the fake gallery serving a certificate for it from a CA made at test time.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeSecret, rememberSecret, record, findLeaks } from './helpers.mjs';
import { keyringSuite, tfx, basicHeader, CWD, TFX } from './tfx-helpers.mjs';
import { startFakeAuthority } from './fixtures/fake-authority.mjs';
import { makeTestCA } from './fixtures/ca.mjs';
import { startTunnel } from './net-helpers.mjs';

const suite = keyringSuite('tfx-wire-form', { before, afterEach, after });
const closers = [];
afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

const jwt = () => makeSecret('eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiI0OTliODRhYyJ9.');
const SHOW = ['extension', 'show', '--publisher', 'fabfiber', '--extension-id', 'build-tools', '--json', '--no-prompt'];
const entraEnv = (label, token, extra = {}) => suite.env(label, {
  TFX_ENTRA_TOKEN: token, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1', TFX_AUTH_AZURE_CLI_HOSTS: '127.0.0.1', ...extra,
});
const authorizations = (s, re) => s.requests.filter((q) => re.test(q.pathname)).map((q) => q.headers.authorization);

test('tfx extension show with TFX_ENTRA_TOKEN sends Basic OAuth:<token> to the gallery, which takes no Bearer', async () => {
  const token = jwt();
  const gallery = await suite.server({ tokens: [], bearerTokens: [token], marketplace: true });
  const r = await tfx([...SHOW, '--service-url', gallery.origin], entraEnv('show', token).env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).extensionName, 'build-tools');
  const sent = authorizations(gallery, /\/_apis\/public\/gallery\/publishers\//i);
  assert.deepEqual(sent, [basicHeader('OAuth', token)]);
  assert.ok(gallery.requests.every((q) => !/^Bearer /.test(q.headers.authorization ?? '')), 'no Bearer anywhere');
});

test('tfx extension show against an Azure DevOps collection URL is still an extension command: Basic', async () => {
  const token = jwt();
  const ado = await suite.server({ tokens: [], bearerTokens: [token] });
  const r = await tfx([...SHOW, '--service-url', ado.url], entraEnv('show-collection', token).env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(authorizations(ado, /\/_apis\/public\/gallery\/publishers\//i), [basicHeader('OAuth', token)]);
});

test('tfx build list with TFX_ENTRA_TOKEN sends Bearer to Azure DevOps; a PAT stays Basic OAuth:<pat> for both', async () => {
  const token = jwt();
  const pat = makeSecret('pat');
  const ado = await suite.server({ tokens: [pat], bearerTokens: [token] });
  const list = await tfx(['build', 'list', '--project', 'P', '--service-url', ado.url, '--no-prompt'], entraEnv('build', token).env);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual(authorizations(ado, /\/_apis\/build\/builds$/i), [`Bearer ${token}`]);
  const gallery = await suite.server({ tokens: [pat], marketplace: true });
  const show = await tfx([...SHOW, '--service-url', gallery.origin], suite.env('show-pat', { AZURE_DEVOPS_EXT_PAT: pat }).env);
  assert.equal(show.code, 0, show.stderr);
  assert.deepEqual(authorizations(gallery, /\/_apis\/public\/gallery\/publishers\//i), [basicHeader('OAuth', pat)]);
});

test('tfx login --auth-type entra --service-url https://marketplace.visualstudio.com validates with connectionData in the Marketplace form (Basic)', async () => {
  const pki = await makeTestCA(join(suite.base, 'pki'), { hosts: ['marketplace.visualstudio.com'] });
  const authority = await startFakeAuthority({ onSecret: rememberSecret });
  closers.push(() => authority.close());
  const gallery = await suite.server({ tokens: [], bearerTokens: authority.acceptsAccessToken, marketplace: true, https: { key: pki.key, cert: pki.cert } });
  const tunnel = await startTunnel(gallery.port);
  closers.push(() => tunnel.close());
  const e = suite.env('login-marketplace', {
    TFX_AUTH_ENTRA_AUTHORITY: authority.url, HTTPS_PROXY: tunnel.url, NODE_EXTRA_CA_CERTS: pki.caCertPath,
  });
  const child = spawn(process.execPath, [TFX, 'login', '--auth-type', 'entra', '--service-url', 'https://marketplace.visualstudio.com'],
    { env: e.env, cwd: CWD, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => {
    stderr += d;
    const m = /enter the code (\S+) /.exec(stderr);
    if (m && !child.approved) { child.approved = true; authority.approve(m[1]); }
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  record(stdout);
  record(stderr);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Logged in successfully/);
  assert.ok(tunnel.connects.every((c) => c === 'CONNECT marketplace.visualstudio.com:443'), tunnel.connects.join());
  const validation = gallery.requests.filter((q) => /\/_apis\/connectiondata$/i.test(q.pathname) && q.headers.authorization);
  assert.equal(validation.length, 1, 'one authenticated connectionData request');
  const m = /^Basic (.+)$/.exec(validation[0].headers.authorization);
  assert.ok(m, `Basic, not ${validation[0].headers.authorization.split(' ')[0]}`);
  const [user, token] = Buffer.from(m[1], 'base64').toString('utf8').split(':');
  assert.equal(user, 'OAuth');
  assert.ok(authority.acceptsAccessToken(token), 'the password is the access token the authority issued');
});

test('leak check: no token of this suite appears in any output', () => {
  assert.deepEqual(findLeaks({ dirs: [suite.base] }), []);
});
