#!/usr/bin/env node
// A smoke test of an installed tfx-auth on any platform (the CI workflow runs it on macOS, Windows,
// Alpine and arm64 after `npm install -g --prefix <prefix>` of the packed tarballs;
// scripts/test-installed.sh runs it on Linux too). Against the fake Azure DevOps server shipped in
// the package, with a throw-away home folder: the addon loads from the platform package, and
// require(), import, `tfx login`, `tfx build list` (the real tfx-cli with the hook), `tfx-auth
// status --json` and `tfx logout` work.
//
// Usage: node scripts/smoke-installed.mjs <prefix>
//   TFX_AUTH_SMOKE_STORE=default  use the platform's default store (the OS keyring where there is
//                                 one) instead of pinning the file store
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

const prefix = resolve(process.argv[2] || '');
const windows = process.platform === 'win32';
// npm's global layout: <prefix>/node_modules on Windows, <prefix>/lib/node_modules elsewhere.
const modules = windows ? join(prefix, 'node_modules') : join(prefix, 'lib', 'node_modules');
const pkg = join(modules, 'tfx-auth');
assert.ok(existsSync(join(pkg, 'package.json')), `no tfx-auth under ${modules}`);

const work = mkdtempSync(join(tmpdir(), 'tfx-auth-smoke-'));
const home = join(work, 'home');
mkdirSync(home);
const env = {
  ...process.env,
  HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: join(work, 'config'), APPDATA: join(work, 'appdata'), LOCALAPPDATA: join(work, 'localappdata'),
  TFX_AUTH_STORE: 'file',
};
for (const k of ['AZURE_DEVOPS_EXT_PAT', 'TERM', 'NAPI_RS_NATIVE_LIBRARY_PATH']) delete env[k];
if (process.env.TFX_AUTH_SMOKE_STORE === 'default') delete env.TFX_AUTH_STORE;

function run(args, { cwd = work } = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}
const step = (what) => console.log(`smoke: ${what}`);

const { startFakeAdo } = await import(pathToFileURL(join(pkg, '__test__', 'fixtures', 'fake-ado.mjs')).href);
const token = `smoke-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
const server = await startFakeAdo({ tokens: [token] });
try {
  const { addonInfo } = createRequire(import.meta.url)(join(pkg, 'scripts', 'platform.js'));
  const info = addonInfo();
  step(`${info.platformArchABI} (${info.triple}), Node.js ${process.version}, package ${pkg}`);
  assert.ok(!readdirSync(pkg).some((f) => f.endsWith('.node')), 'the main package carries no addon');
  const platformPkg = createRequire(join(pkg, 'package.json')).resolve(`${info.packageName}/package.json`);
  step(`platform package: ${platformPkg}`);

  const probe = await run(['-e', `const a = require(${JSON.stringify(pkg)});
    console.log(JSON.stringify({ key: a.normalizeServiceUrl('https://dev.azure.com/FabFiber/'), storage: a.storageInfo() }));`]);
  assert.equal(probe.code, 0, probe.stderr);
  const { key, storage } = JSON.parse(probe.stdout);
  assert.equal(key, 'https://dev.azure.com/fabfiber');
  step(`require(): ok; store ${storage.backend} at ${storage.location}`);

  const consumer = join(work, 'consumer');
  mkdirSync(join(consumer, 'node_modules'), { recursive: true });
  symlinkSync(pkg, join(consumer, 'node_modules', 'tfx-auth'), windows ? 'junction' : 'dir');
  writeFileSync(join(consumer, 'esm.mjs'), "import auth, { normalizeServiceUrl } from 'tfx-auth';\nconsole.log(normalizeServiceUrl('HTTPS://X.example/A/'), auth.normalizeServiceUrl === normalizeServiceUrl);\n");
  const esm = await run(['esm.mjs'], { cwd: consumer });
  assert.deepEqual([esm.code, esm.stdout.trim()], [0, 'https://x.example/a true'], esm.stderr);
  step('import: ok');

  const tfx = join(pkg, 'tfx', 'tfx.js');
  const login = await run([tfx, 'login', '--service-url', server.url, '--token', token, '--no-prompt']);
  assert.equal(login.code, 0, login.stdout + login.stderr);
  assert.match(login.stdout, /Logged in successfully/);
  step('tfx login: ok');

  const list = await run([tfx, 'build', 'list', '--project', 'P']);
  assert.equal(list.code, 0, list.stdout + list.stderr);
  const auth = `Basic ${Buffer.from(`OAuth:${token}`).toString('base64')}`;
  assert.ok(server.requests.some((q) => /\/_apis\/build\/builds$/i.test(q.pathname) && q.headers.authorization === auth), 'build list sent the stored PAT');
  step('tfx build list (tfx-cli with the hook, stored login): ok');

  const status = await run([join(pkg, 'bin', 'tfx-auth.js'), 'status', '--json']);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  const [only] = JSON.parse(status.stdout).logins;
  assert.deepEqual([only.serviceUrl, only.valid], [server.url, true]);
  step('tfx-auth status --json: ok');

  const logout = await run([tfx, 'logout']);
  assert.equal(logout.code, 0, logout.stderr);
  for (const r of [probe, esm, login, list, status, logout]) assert.ok(!(r.stdout + r.stderr).includes(token), 'no output shows the token');
  step('tfx logout: ok; no output showed the token');
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
console.log('smoke: passed');
