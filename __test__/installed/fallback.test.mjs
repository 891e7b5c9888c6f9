// The main tarball installed WITHOUT its platform package (@tfx-auth/binding-<platform>), as npm
// does with --omit=optional, an unsupported platform, or a lock file from another OS:
//  - no cargo on PATH: `npm install` fails with one message naming the platform, the package and
//    what to do; installed with --ignore-scripts, require(), import, `tfx-auth` and `tfx` fail
//    with that same message, never the generated loader's bare "Cannot find native binding";
//  - cargo on PATH: the install script builds the addon from the shipped sources and it works.
// Run by scripts/test-installed.sh (`npm run test:installed`), which packs the tarballs into
// TFX_AUTH_E2E_DIST; skipped without it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { startFakeAdo } from '../fixtures/fake-ado.mjs';
import { ROOT, makeSecret, run, findLeaks } from '../helpers.mjs';

const DIST = process.env.TFX_AUTH_E2E_DIST;
const skip = !DIST && 'needs the packed tarballs: npm run test:installed (scripts/test-installed.sh)';
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const info = createRequire(import.meta.url)('../../scripts/platform.js').addonInfo();
const wanted = `@tfx-auth/binding-${info.platformArchABI}@${version}`;
const base = mkdtempSync(join(tmpdir(), 'tfx-auth-fallback-'));
const elsewhere = join(base, 'elsewhere'); // npm runs here: no source tree around
mkdirSync(elsewhere);
after(() => rmSync(base, { recursive: true, force: true }));

const isCargoDir = (dir) => {
  try {
    return statSync(join(dir, process.platform === 'win32' ? 'cargo.exe' : 'cargo')).isFile();
  } catch {
    return false;
  }
};
const pathDirs = [dirname(process.execPath), ...(process.env.PATH || '').split(delimiter)].filter(Boolean);
const PATH_WITH_CARGO = pathDirs.join(delimiter);
const PATH_WITHOUT_CARGO = pathDirs.filter((d) => !isCargoDir(d)).join(delimiter);

function install(prefix, { path, args = [], extraEnv = {} }) {
  const env = { ...process.env, PATH: path, ...extraEnv };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  return run('npm', ['install', '--global', '--prefix', prefix, '--omit=optional', '--prefer-offline', '--no-audit', '--no-fund',
    '--loglevel=error', ...args, join(DIST, `tfx-auth-${version}.tgz`)], { env, cwd: elsewhere, timeoutMs: 900_000 });
}

/** The one message: platform, Rust target, the missing package, what to do; nothing of the loader's. */
function assertOneMessage(text, label) {
  const first = `tfx-auth cannot load its native addon on ${info.platformArchABI} (Rust target ${info.triple}, Node.js ${process.version}).`;
  assert.equal(text.split(first).length - 1, 1, `${label}: the message, once:\n${text}`);
  assert.ok(text.includes(`Its prebuilt addon is the optional dependency ${wanted}, which is not installed`), `${label}:\n${text}`);
  assert.ok(text.includes('To fix, either:'), label);
  assert.ok(text.includes(`reinstall tfx-auth so that npm installs ${wanted} with it`), label);
  assert.ok(text.includes('install Rust (https://rustup.rs) and a C compiler, then run npm rebuild tfx-auth'), label);
  assert.ok(!/Cannot find native binding|Failed to load native binding/.test(text), `${label}: no bare loader error:\n${text}`);
}

test('no platform package and no cargo on PATH: npm install fails with the one message', { skip }, async () => {
  assert.ok(!PATH_WITHOUT_CARGO.split(delimiter).some(isCargoDir));
  const prefix = join(base, 'no-cargo');
  const r = await install(prefix, { path: PATH_WITHOUT_CARGO });
  assert.notEqual(r.code, 0, 'the install fails');
  const output = r.stdout + r.stderr;
  assertOneMessage(output.replace(/^npm error /gm, ''), 'npm install');
  assert.ok(output.includes('cargo is not on PATH, so the addon could not be built from source during the install.'), output);
  assert.equal(existsSync(join(prefix, 'lib', 'node_modules', 'tfx-auth')), false, 'npm rolled the install back');
});

test('installed with --ignore-scripts and no platform package: require, import, tfx-auth and tfx fail with the same message', { skip }, async () => {
  const prefix = join(base, 'ignore-scripts');
  const r = await install(prefix, { path: PATH_WITHOUT_CARGO, args: ['--ignore-scripts'] });
  assert.equal(r.code, 0, r.stderr);
  const installed = join(prefix, 'lib', 'node_modules', 'tfx-auth');
  const project = join(base, 'consumer');
  mkdirSync(join(project, 'node_modules'), { recursive: true });
  symlinkSync(installed, join(project, 'node_modules', 'tfx-auth'), 'dir');
  writeFileSync(join(project, 'cjs.cjs'), "try { require('tfx-auth') } catch (e) { console.error(e.message); console.log(e.code); process.exit(3) }\n");
  writeFileSync(join(project, 'esm.mjs'), "import { getCredential } from 'tfx-auth';\nconsole.log(typeof getCredential);\n");
  const env = { PATH: PATH_WITHOUT_CARGO, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'config') };

  const cjs = await run(process.execPath, ['cjs.cjs'], { env, cwd: project });
  assert.deepEqual([cjs.code, cjs.stdout], [3, 'NATIVE_ADDON_UNAVAILABLE\n']);
  assertOneMessage(cjs.stderr, 'require');
  const esm = await run(process.execPath, ['esm.mjs'], { env, cwd: project });
  assert.equal(esm.code, 1);
  assertOneMessage(esm.stderr, 'import');
  const status = await run(join(prefix, 'bin', 'tfx-auth'), ['status'], { env, cwd: elsewhere });
  assert.equal(status.code, 1);
  assertOneMessage(status.stderr.replace(/^error: /gm, ''), 'tfx-auth status');
  const login = await run(join(prefix, 'bin', 'tfx'), ['login', '--service-url', 'http://127.0.0.1:9/c', '--token', makeSecret('pat'), '--no-prompt'], { env, cwd: elsewhere });
  assert.equal(login.code, 255);
  assertOneMessage(login.stderr.replace(/^error: (Error: )?/gm, ''), 'tfx login');
});

test('no platform package, cargo on PATH: the install builds the addon from source and it works', { skip, timeout: 900_000 }, async (t) => {
  const prefix = join(base, 'from-source');
  // Reuse the release build's compiled dependencies when the runner says where they are.
  const extraEnv = process.env.TFX_AUTH_E2E_CARGO_TARGET_DIR ? { CARGO_TARGET_DIR: process.env.TFX_AUTH_E2E_CARGO_TARGET_DIR } : {};
  const started = Date.now();
  const r = await install(prefix, { path: PATH_WITH_CARGO, args: ['--foreground-scripts'], extraEnv });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const installed = join(prefix, 'lib', 'node_modules', 'tfx-auth');
  const built = join(installed, `tfx-auth.${info.platformArchABI}.node`);
  assert.ok(r.stdout.includes(`tfx-auth: built tfx-auth.${info.platformArchABI}.node from source`) ||
    r.stderr.includes(`tfx-auth: built tfx-auth.${info.platformArchABI}.node from source`), r.stdout + r.stderr);
  assert.ok(existsSync(built));
  t.diagnostic(`source build during npm install: ${Math.round((Date.now() - started) / 1000)} s`);

  // The source-built addon is what loads, and the commands work with it.
  const dirs = { HOME: join(base, 'src-home'), XDG_CONFIG_HOME: join(base, 'src-config') };
  mkdirSync(dirs.HOME, { recursive: true });
  const env = { PATH: PATH_WITH_CARGO, ...dirs, TFX_AUTH_STORE: 'file' };
  const probe = await run(process.execPath, ['-e', `const a = require(${JSON.stringify(installed)});
    const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
    console.log(JSON.stringify({ loaded: [...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((f) => f && f.endsWith('.node')))],
      key: a.normalizeServiceUrl('https://dev.azure.com/FabFiber/') }));`], { env, cwd: elsewhere });
  assert.equal(probe.code, 0, probe.stderr);
  assert.deepEqual(JSON.parse(probe.stdout), { loaded: [built], key: 'https://dev.azure.com/fabfiber' });

  const token = makeSecret('pat');
  const server = await startFakeAdo({ tokens: [token] });
  try {
    const login = await run(join(prefix, 'bin', 'tfx'), ['login', '--service-url', server.url, '--token', token, '--no-prompt'], { env, cwd: elsewhere });
    assert.equal(login.code, 0, login.stderr);
    const status = await run(join(prefix, 'bin', 'tfx-auth'), ['status', '--json'], { env, cwd: elsewhere });
    assert.equal(status.code, 0, status.stderr);
    const [only] = JSON.parse(status.stdout).logins;
    assert.deepEqual([only.serviceUrl, only.valid], [server.url, true]);
  } finally {
    await server.close();
  }
});

test('leak check: no token of this suite in any output, nor in any file it left', { skip }, () => {
  const allowed = [join(base, 'src-config', 'tfx-auth', 'credentials.json')]; // the file store, by design
  assert.deepEqual(findLeaks({ dirs: [join(base, 'src-home'), join(base, 'home')], allowed }), []);
});
