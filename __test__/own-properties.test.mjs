// Issue 18 item 8: inherited properties are never options (nor the library the loader loads). Another package in the process can
// set `Object.prototype.skipCertValidation = true` or `.proxy = ...` (prototype pollution); the
// API (binding.js, the package's main) must read only the caller's own fields, so such a process
// still checks certificates, stores no skip, uses no proxy and sends the credential it was given.
// The polluted calls run in a child process (pollution would reach node:test itself); the
// servers and the recording listener stay here, on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolateThisProcess, freshDirs, makeSecret, run, findLeaks, ROOT } from './helpers.mjs';
import { scrubProxyEnv, patHeader, closedPort } from './net-helpers.mjs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { makeSelfSigned } from './fixtures/ca.mjs';
import { loginCredential } from '../tfx/credential.js';

scrubProxyEnv();
delete process.env.NODE_EXTRA_CA_CERTS;
const dirs = isolateThisProcess('tfx-auth-own-properties');
const token = makeSecret('pat');
const planted = makeSecret('planted');

let tlsAdo; let plainAdo; let recorder; let certPath; let closed;
const seen = []; // every connection the recording listener accepted
const homes = [];

before(async () => {
  const cert = makeSelfSigned(join(dirs.base, 'pki'));
  certPath = cert.certPath;
  tlsAdo = await startFakeAdo({ https: { key: cert.key, cert: cert.cert }, tokens: [token] });
  plainAdo = await startFakeAdo({ tokens: [token] });
  closed = await closedPort();
  // Stands in for any proxy or server a polluted field could name: it records and hangs up.
  recorder = net.createServer((socket) => {
    seen.push(socket.remoteAddress);
    socket.destroy();
  });
  await new Promise((resolve) => recorder.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await Promise.all([tlsAdo.close(), plainAdo.close(), new Promise((r) => recorder.close(r))]);
  assert.deepEqual(findLeaks({ dirs: homes }), [], 'no secret in any output, nor under HOME (the file store is elsewhere)');
});

const recorderUrl = () => `http://127.0.0.1:${recorder.address().port}`;

/**
 * Runs `body` with `api` = require('tfx-auth') after `Object.assign(Object.prototype, pollution)`;
 * `pollution` is JavaScript source (it may name `aborted`, an aborted AbortSignal).
 */
function polluted(pollution, body, extraEnv = {}) {
  // Node's own streams read an inherited `signal` too: open them (and load tfx-auth) first.
  const script = `
const { stdout } = process;
const api = require(${JSON.stringify(join(ROOT, 'binding.js'))});
const aborted = AbortSignal.abort();
Object.assign(Object.prototype, ${pollution});
const out = (v) => stdout.write(JSON.stringify(v) + '\\n');
const code = (p) => p.then(() => 'ok', (e) => e.code);
(async () => { ${body} })().catch((e) => out({ crashed: String(e && e.stack) }));`;
  // A store of its own for each run: what one call stored cannot answer for another.
  const child = freshDirs('tfx-auth-own-properties-child');
  homes.push(child.HOME);
  return run(process.execPath, ['-e', script], {
    env: { ...process.env, HOME: child.HOME, XDG_CONFIG_HOME: child.XDG_CONFIG_HOME, TFX_AUTH_STORE: 'file', ...extraEnv },
    timeoutMs: 30_000,
  });
}

const lines = (stdout) => stdout.trim().split('\n').map((l) => JSON.parse(l));

// Each inherited field alone, so no one of them hides another: [field, value, what it would do].
const FIELDS = [
  ['skipCertValidation', 'true', 'accept the untrusted certificate'],
  ['caCertificates', () => `[${JSON.stringify(certPath)}]`, 'trust the certificate'],
  ['proxy', () => JSON.stringify(recorderUrl()), 'go through the recording listener (PROXY_ERROR)'],
  ['timeoutMs', '1', 'time out (TIMEOUT)'],
  ['signal', 'aborted', 'abort (ABORTED)'],
];

for (const [field, value, would] of FIELDS) {
  test(`an inherited ${field} is not an option (it would ${would})`, async () => {
    const url = tlsAdo.url;
    const before = seen.length;
    const pollution = `{ ${field}: ${typeof value === 'function' ? value() : value} }`;
    const { code, stdout, stderr } = await polluted(pollution, `
      const cred = { type: 'pat', token: ${JSON.stringify(token)} };
      out(await code(api.validateConnection(${JSON.stringify(url)}, cred, {})));
      out(await code(api.validateConnection(${JSON.stringify(url)}, cred)));
      out(await code(api.login(${JSON.stringify(url)}, cred, {})));
      out(await api.getSkipCertValidation(${JSON.stringify(url)}));
      out(await api.getCredential(${JSON.stringify(url)}));
    `);
    assert.equal(code, 0, stderr);
    // The untrusted self-signed server is refused, and nothing is stored for it.
    assert.deepEqual(lines(stdout), ['TLS_ERROR', 'TLS_ERROR', 'TLS_ERROR', false, null]);
    assert.equal(seen.length, before, 'nothing connected to the recording listener');
  });
}

test('a login in a polluted process stores what it was given: no skip, no planted user or secret', async () => {
  const url = plainAdo.url;
  const before = seen.length;
  const requests = plainAdo.requests.length;
  const pollution = `{ skipCertValidation: true, proxy: ${JSON.stringify(recorderUrl())}, type: 'basic',
    username: 'planted', password: ${JSON.stringify(planted)}, token: ${JSON.stringify(planted)} }`;
  const { code, stdout, stderr } = await polluted(pollution, `
    out(await code(api.login(${JSON.stringify(url)}, { type: 'pat', token: ${JSON.stringify(token)} }, {})));
    out(await api.getSkipCertValidation(${JSON.stringify(url)}));
    const stored = await api.getCredential(${JSON.stringify(url)});
    out({ own: Object.keys(stored).sort(), type: stored.type, token: stored.token === ${JSON.stringify(token)} });
    const resolved = await api.resolveCredential(${JSON.stringify(url)}, {});
    out({ source: resolved.source, token: resolved.credential.token === ${JSON.stringify(token)} });
  `);
  assert.equal(code, 0, stderr);
  const [login, skip, stored, resolved] = lines(stdout);
  assert.equal(login, 'ok');
  assert.equal(skip, false, 'no certificate skip stored');
  assert.deepEqual(stored, { own: ['token', 'type'], type: 'pat', token: true });
  assert.deepEqual(resolved, { source: 'stored', token: true }, 'no inherited --token flag');
  const sent = plainAdo.requests.slice(requests);
  assert.ok(sent.length > 0);
  for (const r of sent) assert.equal(r.headers.authorization, patHeader(token), 'the given PAT, not the planted one');
  assert.equal(seen.length, before, 'nothing connected to the recording listener');
});

test('an inherited authority does not choose where an Entra sign-in goes', async () => {
  // The sign-in's own authority is a closed loopback port: it fails there, and nothing else is asked.
  const before = seen.length;
  const { code, stdout, stderr } = await polluted(`{ authority: ${JSON.stringify(recorderUrl())} }`, `
    out(await code(api.startEntraLogin(${JSON.stringify(plainAdo.url)}, {})));
  `, { TFX_AUTH_ENTRA_AUTHORITY: `http://127.0.0.1:${closed}` });
  assert.equal(code, 0, stderr);
  assert.notEqual(lines(stdout)[0], 'ok');
  assert.equal(seen.length, before, 'nothing connected to the inherited authority');
});

test('an inherited NAPI_RS_NATIVE_LIBRARY_PATH does not choose the library require(\'tfx-auth\') loads', async () => {
  // process.env inherits from Object.prototype, and the generated loader requires that path.
  const plantedModule = join(dirs.base, 'planted-binding.cjs');
  writeFileSync(plantedModule, "require('fs').writeSync(2, 'PLANTED LOADED\\n'); module.exports = { planted: true };\n");
  const script = `Object.prototype.NAPI_RS_NATIVE_LIBRARY_PATH = ${JSON.stringify(plantedModule)};
const api = require(${JSON.stringify(join(ROOT, 'binding.js'))});
process.stdout.write(JSON.stringify({ backend: api.storageInfo().backend, own: Object.hasOwn(process.env, 'NAPI_RS_NATIVE_LIBRARY_PATH') }));`;
  const r = await run(process.execPath, ['-e', script], { env: { ...process.env, TFX_AUTH_STORE: 'file' } });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /PLANTED LOADED/);
  assert.deepEqual(JSON.parse(r.stdout), { backend: 'file', own: false });
});

test('tfx login reads AZURE_DEVOPS_EXT_PAT only as an own variable', () => {
  const env = Object.create({ AZURE_DEVOPS_EXT_PAT: planted });
  assert.equal(loginCredential({}, env), null);
  assert.deepEqual(loginCredential({}, { AZURE_DEVOPS_EXT_PAT: ` ${token} ` }), { type: 'pat', token });
});
