// A stored login reaches only its own host, even when the --service-url is spelled so that two
// parsers disagree: the addon keys the login by the host the Rust `url` crate reads, tfx-cli's
// HTTP stack (typed-rest-client: legacy `url.parse`) connects to the host it reads. The real tfx
// (hooked tfx-cli, and the fast path for login) must refuse such a URL before any credential is
// looked up. Node's connection is observed through HTTP(S)_PROXY: typed-rest-client always opens
// a CONNECT tunnel, so a loopback proxy sees every host Node tries and forwards the tunnel to the
// fake Azure DevOps server, which records what was sent inside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { isolateThisProcess, makeSecret, findLeaks } from './helpers.mjs';
import { startPrivateKeyring, commandEnv, tfx, addonScript } from './tfx-helpers.mjs';
import { startTunnel } from './net-helpers.mjs';

const self = isolateThisProcess('tfx-url-self');
const base = mkdtempSync(join(tmpdir(), 'tfx-url-'));
const PATH = [dirname(process.execPath), ...(process.env.PATH || '').split(':')].join(':');

let keyring;
let ado;
let proxy;

before(async () => {
  keyring = await startPrivateKeyring();
  ado = await startFakeAdo({ tokens: [] });
  proxy = await startTunnel(ado.port);
});

after(async () => {
  await proxy?.close();
  await ado?.close();
  await keyring?.stop();
  rmSync(base, { recursive: true, force: true });
  rmSync(self.base, { recursive: true, force: true });
});

const env = (label) => commandEnv(base, label, keyring.address, {
  PATH, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, TFX_AUTH_TEST_TOKEN: token,
});
const token = makeSecret('pat');

/** Stores a PAT for `url` without validating it: the login the confusable URL would pick. */
async function storeLogin(e, url) {
  const r = await addonScript(
    `await addon.storeCredential(${JSON.stringify(url)}, { type: 'pat', token: process.env.TFX_AUTH_TEST_TOKEN });
     out(await addon.getCredential(${JSON.stringify(url)}) !== null);`, e.env);
  assert.deepEqual([r.code, r.stdout.trim(), r.stderr], [0, 'true', '']);
}

const CASES = [
  // stored as http://127.0.0.11/x; legacy url.parse connects to 127.0.0.1:80
  { stored: 'http://127.0.0.11/x', typed: 'http://127.0.0.1%31/x', why: /percent-escape/ },
  // stored as dev.azure.com; legacy url.parse connects to dev.azure.co
  { stored: 'https://dev.azure.com/org', typed: 'https://dev.azure.co%6D/org', why: /percent-escape/ },
  // a backslash: WHATWG reads a host, legacy url.parse reads none (so localhost)
  { stored: 'http://127.0.0.11/x', typed: 'http://\\127.0.0.11/x', why: /backslash/ },
];

for (const { stored, typed, why } of CASES) {
  test(`tfx build list --service-url ${typed} is refused before the login stored for ${stored} is read or sent`, async () => {
    const e = env('build');
    await storeLogin(e, stored);
    const [connects, requests] = [proxy.connects.length, ado.requests.length];
    const r = await tfx(['build', 'list', '--project', 'P', '--service-url', typed, '--no-prompt'], e.env);
    const sent = ado.requests.slice(requests);
    const withSecret = sent.filter((q) => JSON.stringify(q.headers).includes(Buffer.from(`:${token}`).toString('base64')));
    assert.deepEqual(withSecret.map((q) => q.url), [], `the login stored for ${stored} was sent where Node connected`);
    assert.deepEqual(sent.map((q) => q.url), [], 'no request at all');
    assert.deepEqual(proxy.connects.slice(connects), [], 'Node opened no connection');
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /invalid service URL/);
    assert.match(r.stderr, why);
  });
}

test('tfx login (fast path and hooked tfx-cli) refuses a confusable --service-url before any request', async () => {
  const e = env('login');
  const [connects, requests] = [proxy.connects.length, ado.requests.length];
  // Without a token the fast path hands over to tfx-cli, whose hooked login must refuse the URL
  // before it prompts for (or here, under --no-prompt, asks for) a credential.
  for (const credential of [['--token', token], ['--auth-type', 'pat']]) {
    const r = await tfx(['login', '--service-url', 'http://127.0.0.1%31/x', ...credential, '--no-prompt'], e.env);
    assert.equal(r.code, 255, r.stdout);
    assert.match(r.stderr, /invalid service URL: the host contains a percent-escape/);
  }
  assert.deepEqual(proxy.connects.slice(connects), []);
  assert.equal(ado.requests.length, requests);
});

test('leak check: the stored token appears in no output of this suite', () => {
  assert.deepEqual(findLeaks({ dirs: [base] }), []);
});
