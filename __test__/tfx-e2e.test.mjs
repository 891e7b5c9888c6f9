// End to end with the REAL tfx-cli 0.23.1: the package's `tfx` bin (tfx/tfx.js: the fast path
// or tfx-cli with the hook) against the fake Azure DevOps server, logins in a real gnome-keyring
// (a private one for this suite, see tfx-helpers.mjs), stock tfx-cli (node_modules/tfx-cli
// without the hook) as the reference for behaviour we keep. Every command runs with a fresh HOME
// and XDG_CONFIG_HOME and TERM unset; nothing leaves loopback.
//
// With TFX_AUTH_E2E_PREFIX set (scripts/test-installed.sh, `npm run test:installed`) every test
// runs against the packed tarballs installed with `npm install -g --prefix` (the main package and
// its @tfx-auth/binding-<platform> package) instead of this source tree; see tfx-helpers.mjs.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { makeSecret, run, findLeaks, filesUnder, record } from './helpers.mjs';
import {
  keyringSuite, tfx, stockTfx, tfxAuth, keyringLookup, basicHeader, decodeBasic, runNoInput, BANNER,
  PREFIX, PACKAGE_DIR, CWD, TFX, TFX_AUTH, addonScript,
} from './tfx-helpers.mjs';

const suite = keyringSuite('tfx-e2e', { before, afterEach, after });
const { base, PATH, env } = suite;
const server = (options) => suite.server(options);

const key = (url) => suite.addon.normalizeServiceUrl(url);
const LOGGED_IN = `${BANNER}Logged in successfully\n`;
const buildRequests = (s) => s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));

/** Every file under `dir` whose content includes `needle`. */
const filesContaining = (dir, needle) => filesUnder(dir).filter((f) => readFileSync(f).includes(needle));

async function storedLogins(e) {
  const r = await addonScript('out({ logins: await addon.listLogins(), def: await addon.getDefaultServiceUrl() });', e.env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('tfx login with a PAT via flags; tfx build list reuses it with the same Authorization; ~/.tfx holds no secret', async () => {
  const e = env('pat');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });

  const login = await tfx(['login', '--service-url', s.url, '--token', token, '--no-prompt'], e.env);
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, LOGGED_IN, '']);
  const validated = s.requests.filter((q) => /\/_apis\/connectiondata$/i.test(q.pathname));
  assert.equal(validated.length, 1, 'one round trip');
  assert.equal(decodeBasic(validated[0]).password, token);
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), `pat:${token}`);

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  const builds = buildRequests(s);
  assert.equal(builds.length, 1);
  assert.equal(builds[0].pathname, '/DefaultCollection/P/_apis/build/Builds'); // tfx-cli's spelling
  assert.equal(builds[0].headers.authorization, basicHeader('OAuth', token));

  assert.deepEqual(filesContaining(e.HOME, token), []);
  assert.deepEqual(filesUnder(join(e.HOME, '.tfx')).filter((f) => f.endsWith('.allusers')), []);
});

test('tfx login with Basic fabfiber\\peter via flags (on-prem collection); build list sends that Basic header', async () => {
  const e = env('basic');
  const password = `${makeSecret('pw')}:P@ss`;
  const s = await server({ scenario: 'onprem', collection: 'tfs/DefaultCollection', basicUsers: { 'fabfiber\\peter': password } });

  const login = await tfx(['login', '--service-url', s.url, '--username', 'fabfiber\\peter', '--password', password, '--no-prompt'], e.env);
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, LOGGED_IN, '']);
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), `basic:fabfiber\\peter:${password}`);

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  const builds = buildRequests(s);
  assert.equal(builds.length, 1);
  assert.equal(builds[0].pathname, '/tfs/DefaultCollection/P/_apis/build/Builds');
  assert.equal(builds[0].headers.authorization, basicHeader('fabfiber\\peter', password));

  const status = await tfxAuth(['status', '--json'], e.env);
  assert.equal(status.code, 0, status.stdout);
  const [only] = JSON.parse(status.stdout).logins;
  assert.deepEqual([only.serviceUrl, only.authType, only.username, only.isDefault, only.valid, only.user.uniqueName],
    [s.url, 'basic', 'fabfiber\\peter', true, true, 'fabfiber\\peter']);
  assert.deepEqual(filesContaining(e.HOME, password.split(':')[0]), []);
});

test('tfx extension show against a marketplace-style root URL uses the stored login (stock re-prompts: tfs-cli 455)', async () => {
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const root = s.origin;
  const show = ['extension', 'show', '--publisher', 'fabfiber', '--extension-id', 'build-tools', '--service-url', root, '--json', '--no-prompt'];

  const e = env('ext');
  const login = await tfx(['login', '--service-url', root, '--token', token, '--no-prompt'], e.env);
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, LOGGED_IN, '']);
  const ours = await tfx(show, e.env);
  assert.equal(ours.code, 0, ours.stderr);
  assert.equal(ours.stderr, '');
  const shown = JSON.parse(ours.stdout);
  assert.deepEqual([shown.publisher.publisherName, shown.extensionName], ['fabfiber', 'build-tools']);
  const gallery = s.requests.filter((q) => q.pathname.toLowerCase().startsWith('/_apis/public/gallery/'));
  assert.ok(gallery.length >= 1);
  for (const q of gallery) assert.equal(q.headers.authorization, basicHeader('OAuth', token));

  // The same two commands with stock tfx-cli: the stored login is ignored, so it needs --token.
  const stock = env('ext-stock');
  assert.equal((await stockTfx(['login', '--service-url', root, '--token', token, '--no-prompt'], stock.env)).code, 0);
  const stockShow = await stockTfx(show, stock.env);
  assert.deepEqual([stockShow.code, stockShow.stderr], [255, "error: Error: Missing required value for argument 'token'.\n"]);
  // Stock's plaintext file: it is what the leak scan below must not find anywhere else.
  rmSync(stock.dir, { recursive: true, force: true });
});

test('tfx logout, then tfx build list fails exactly as stock tfx-cli does with no login', async () => {
  const e = env('logout');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  await tfx(['login', '--service-url', s.url, '--token', token, '--no-prompt'], e.env);

  const logout = await tfx(['logout'], e.env);
  assert.deepEqual([logout.code, logout.stdout, logout.stderr], [0, `${BANNER}Successfully logged out.\n`, '']);
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), '');
  assert.deepEqual(await storedLogins(e), { logins: [], def: null });
  const again = await tfx(['logout'], e.env);
  assert.deepEqual([again.code, again.stdout], [0, `${BANNER}Not logged in; nothing to log out.\n`]);

  const stock = env('logout-stock');
  const lines = [
    ['build', 'list', '--project', 'P', '--no-prompt'],
    ['build', 'list', '--project', 'P'], // prompts for the URL; stdin is at its end
    ['build', 'list', '--project', 'P', '--service-url', s.url, '--no-prompt'],
  ];
  const results = [];
  for (const args of lines) {
    const ours = await tfx(args, e.env);
    const theirs = await stockTfx(args, stock.env);
    assert.deepEqual({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr },
      { code: theirs.code, stdout: theirs.stdout, stderr: theirs.stderr }, args.join(' '));
    results.push(ours);
  }
  assert.deepEqual([results[0].code, results[0].stderr], [255, "error: Error: Missing required value for argument 'serviceUrl'.\n"]);
  assert.deepEqual([results[1].code, results[1].stdout], [0, `${BANNER}> Service URL: `]);
  assert.deepEqual([results[2].code, results[2].stderr], [255, "error: Error: Missing required value for argument 'token'.\n"]);
  assert.equal(buildRequests(s).length, 0);
});

test('interactive tfx login in a terminal (tmux): tfx prompts, the token is never shown', async (t) => {
  const e = env('tmux');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const socket = `tfx-auth-${randomBytes(6).toString('hex')}`;
  const script = join(e.dir, 'login.sh');
  const q = (v) => `'${String(v).replace(/'/g, `'\\''`)}'`;
  writeFileSync(script, [
    `export HOME=${q(e.HOME)} XDG_CONFIG_HOME=${q(e.XDG_CONFIG_HOME)} DBUS_SESSION_BUS_ADDRESS=${q(suite.keyring.address)} PATH=${q(PATH)}`,
    `cd ${q(CWD)}`,
    `${q(process.execPath)} ${q(TFX)} login`,
    'echo "[exit $?]"',
    'exec sleep 600',
  ].join('\n'));
  const tmuxEnv = { PATH, HOME: e.HOME, TMUX_TMPDIR: e.dir };
  const tmux = (...args) => runNoInput('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env: tmuxEnv });
  const screen = async () => record((await tmux('capture-pane', '-p', '-t', 'login', '-S', '-')).stdout);
  const waitFor = async (text) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const now = await screen();
      if (now.includes(text)) return now;
      if (Date.now() > deadline) throw new Error(`no ${JSON.stringify(text)} on the screen:\n${now}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  t.after(() => tmux('kill-server'));

  const started = await tmux('new-session', '-d', '-s', 'login', '-x', '160', '-y', '40', `sh ${q(script)}`);
  assert.equal(started.code, 0, started.stderr);
  await waitFor('> Service URL:'); // capture-pane drops trailing spaces
  await tmux('send-keys', '-t', 'login', '-l', s.url);
  await tmux('send-keys', '-t', 'login', 'Enter');
  await waitFor('> Personal access token:');
  await tmux('send-keys', '-t', 'login', '-l', token);
  await new Promise((r) => setTimeout(r, 300));
  const typed = await screen();
  assert.ok(!typed.includes(token), 'the token is not echoed while typing');
  assert.ok(!typed.includes('*'.repeat(8)), 'nor masked character by character');
  await tmux('send-keys', '-t', 'login', 'Enter');
  const done = await waitFor('[exit ');

  const lines = done.split('\n').map((l) => l.trimEnd()).filter(Boolean);
  assert.deepEqual(lines, [
    'TFS Cross Platform Command Line Interface v0.23.1',
    'Copyright Microsoft Corporation',
    `> Service URL: ${s.url}`,
    '> Personal access token:',
    'Logged in successfully',
    '[exit 0]',
  ]);
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), `pat:${token}`);
  assert.equal((await storedLogins(e)).def, s.url);
});

test('migration: a stock tfx-cli login is reused by tfx, moved into the keyring, its plaintext deleted', async () => {
  const e = env('migrate');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });

  const stock = await stockTfx(['login', '--service-url', s.url, '--token', token, '--no-prompt'], e.env);
  assert.deepEqual([stock.code, stock.stdout], [0, LOGGED_IN]);
  const plaintext = filesUnder(join(e.HOME, '.tfx')).filter((f) => f.endsWith('.allusers'));
  assert.equal(plaintext.length, 1);
  assert.equal(readFileSync(plaintext[0], 'utf8'), `pat:${token}`);
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), '');

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  const moved = `tfx-auth: moved 1 tfx-cli login from ${join(e.HOME, '.tfx')} into the OS keyring and deleted the plaintext file.\n`;
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, moved]);
  assert.equal(buildRequests(s)[0].headers.authorization, basicHeader('OAuth', token));
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), `pat:${token}`);
  assert.equal(existsSync(plaintext[0]), false);
  assert.equal(existsSync(dirname(plaintext[0])), false, 'the emptied folder goes too');
  assert.deepEqual(filesContaining(e.HOME, token), []);

  // The migrated login is the default, with certificate checks on (stock's "false" string is
  // not carried over as a truthy flag).
  const status = await tfxAuth(['status', '--json'], e.env);
  assert.equal(status.code, 0, status.stdout);
  const [only] = JSON.parse(status.stdout).logins;
  assert.deepEqual([only.serviceUrl, only.isDefault, only.skipCertValidation, only.valid], [s.url, true, false, true]);
  const again = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.equal(again.code, 0);
  assert.equal(buildRequests(s)[1].headers.authorization, basicHeader('OAuth', token));
});

test('AZURE_DEVOPS_EXT_PAT wins over the stored login; flags win over both; tfx-auth status --json says so', async () => {
  const e = env('env');
  const stored = makeSecret('pat');
  const fromEnv = makeSecret('envpat');
  const flag = makeSecret('flagpat');
  const s = await server({ tokens: [stored, fromEnv, flag] });
  await tfx(['login', '--service-url', s.url, '--token', stored, '--no-prompt'], e.env);
  const withEnv = { ...e.env, AZURE_DEVOPS_EXT_PAT: fromEnv };

  const viaEnv = await tfx(['build', 'list', '--project', 'P'], withEnv);
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  const viaFlag = await tfx(['build', 'list', '--project', 'P', '--token', flag], withEnv);
  assert.equal(viaFlag.code, 0, viaFlag.stderr);
  const viaStore = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.equal(viaStore.code, 0, viaStore.stderr);
  assert.deepEqual(buildRequests(s).map((q) => q.headers.authorization),
    [basicHeader('OAuth', fromEnv), basicHeader('OAuth', flag), basicHeader('OAuth', stored)]);

  const status = await tfxAuth(['status', '--json'], withEnv);
  assert.equal(status.code, 0, status.stdout);
  assert.deepEqual(JSON.parse(status.stdout).source,
    { kind: 'env', label: 'environment (AZURE_DEVOPS_EXT_PAT)', variable: 'AZURE_DEVOPS_EXT_PAT', defaultServiceUrl: s.url });
  const plain = await tfxAuth(['status', '--json'], e.env);
  assert.equal(JSON.parse(plain.stdout).source.kind, 'stored');
  assert.equal(await keyringLookup(key(s.url), suite.keyring.address), `pat:${stored}`, 'the environment never overwrites the store');
});

test('failed logins (401, 203 sign-in page, server down) exit 255 with the classified message and store nothing', async () => {
  const good = makeSecret('pat');
  const ok = await server({ tokens: [good] });
  const signIn = await server({ scenario: 'signin-203' });
  const down = await startFakeAdo();
  await down.close();
  const cases = [
    ['401', ok.url, makeSecret('wrong'), 'AUTH_REJECTED'],
    ['203', signIn.url, makeSecret('pat'), 'SIGN_IN_PAGE'],
    ['down', down.url, makeSecret('pat'), 'NETWORK_ERROR'],
  ];
  for (const [name, url, token, code] of cases) {
    const e = env(`fail-${name}`);
    const expected = await suite.addon.validateConnection(url, { type: 'pat', token }).then(() => null, (err) => err);
    assert.equal(expected?.code, code, name);
    const r = await tfx(['login', '--service-url', url, '--token', token, '--no-prompt'], e.env);
    assert.deepEqual([r.code, r.stdout, r.stderr], [255, BANNER, `error: Error: ${expected.message}\n`], name);
    // The prompt path goes through tfx-cli with the hook: same outcome.
    const prompted = await tfx(['login', '--service-url', url], e.env, { input: `${token}\n` });
    assert.deepEqual([prompted.code, prompted.stdout, prompted.stderr],
      [255, `${BANNER}> Personal access token: `, `error: Error: ${expected.message}\n`], `${name} (prompted)`);
    assert.equal(await keyringLookup(key(url), suite.keyring.address), '', name);
    assert.deepEqual(await storedLogins(e), { logins: [], def: null }, name);
    assert.deepEqual(filesContaining(e.dir, token), [], name);
  }

  // A failed login leaves an earlier one for the same URL as it was.
  const e = env('fail-keeps');
  await tfx(['login', '--service-url', ok.url, '--token', good, '--no-prompt'], e.env);
  const bad = await tfx(['login', '--service-url', ok.url, '--token', makeSecret('wrong'), '--no-prompt'], e.env);
  assert.equal(bad.code, 255);
  assert.equal(await keyringLookup(key(ok.url), suite.keyring.address), `pat:${good}`);
  assert.equal((await storedLogins(e)).def, ok.url);
});

test('tfx login --json prints what stock prints; logout --json prints null', async () => {
  const e = env('json');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const login = await tfx(['login', '--service-url', s.url, '--token', token, '--no-prompt', '--json'], e.env);
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, '{\n    "success": true\n}\n', '']);
  // Through the hooked tfx-cli (a prompt) as well.
  const prompted = await tfx(['login', '--service-url', s.url, '--json'], e.env, { input: `${token}\n` });
  assert.deepEqual([prompted.code, prompted.stdout, prompted.stderr], [0, '> Personal access token: {\n    "success": true\n}\n', '']);
  const logout = await tfx(['logout', '--json'], e.env);
  assert.deepEqual([logout.code, logout.stdout, logout.stderr], [0, 'null\n', '']);
});

test('TFX_TRACE=1 and TFX_TRACE_CACHE=1 never print a token (stock tfx-cli printed it)', async () => {
  const e = env('trace', { TFX_TRACE: '1', TFX_TRACE_CACHE: '1' });
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const runs = [
    await tfx(['login', '--service-url', s.url, '--token', token, '--no-prompt'], e.env),
    await tfx(['build', 'list', '--project', 'P'], e.env),
    await tfx(['extension', 'show', '--publisher', 'p', '--extension-id', 'x', '--service-url', s.origin, '--token', token, '--no-prompt'], e.env),
    await tfx(['login', '--service-url', s.url, '--token', makeSecret('wrong'), '--no-prompt'], e.env),
    await tfx(['logout'], e.env),
  ];
  assert.deepEqual(runs.map((r) => r.code), [0, 0, 0, 255, 0], runs.map((r) => r.stderr).join(''));
  assert.match(runs[0].stdout, /loader\.load\n/, 'tracing is on (tfx-cli itself ran)');
  assert.equal(buildRequests(s)[0].headers.authorization, basicHeader('OAuth', token));
  for (const r of runs) assert.ok(!r.stdout.includes(token) && !r.stderr.includes(token));
});

test('packaging: the tarball install (main package + @tfx-auth/binding-<platform>) loads its addon from the platform package; tfx, tfx-auth, require() and import work', {
  skip: !PREFIX && 'tests an install of the packed tarballs: npm run test:installed (scripts/test-installed.sh)',
}, async () => {
  const prefix = PREFIX;
  const installed = PACKAGE_DIR;
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.ok(!readdirSync(installed).some((f) => f.endsWith('.node')), 'the main package carries no addon');
  assert.ok(existsSync(join(installed, 'THIRD-PARTY-LICENSES')));
  const platforms = manifest.napi.targets.length;
  assert.equal(Object.keys(manifest.optionalDependencies).length, platforms);
  for (const [name, version] of Object.entries(manifest.optionalDependencies)) {
    assert.match(name, /^@tfx-auth\/binding-[a-z0-9-]+$/);
    assert.equal(version, manifest.version, name);
  }
  // The addon this process and a fresh one load is the platform package's, under the prefix.
  const info = JSON.parse((await run(process.execPath, ['-e', `const a = require(${JSON.stringify(installed)});
    const info = require(${JSON.stringify(join(installed, 'scripts', 'platform.js'))}).addonInfo();
    const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
    const loaded = [...new Set(maps.split('\\n').map((l) => l.split(/\\s+/)[5]).filter((f) => f && f.endsWith('.node')))];
    console.log(JSON.stringify({ info, loaded, backend: a.storageInfo().backend }));`], { env: env('maps').env, cwd: CWD })).stdout);
  const platformDir = join(prefix, 'lib', 'node_modules', ...info.info.packageName.split('/'));
  assert.equal(info.info.packageName, `@tfx-auth/binding-${info.info.platformArchABI}`);
  assert.deepEqual(info.loaded, [join(platformDir, `tfx-auth.${info.info.platformArchABI}.node`)]);
  assert.ok(info.loaded[0].startsWith(prefix + sep));
  assert.equal(info.backend, 'keyring');
  assert.ok(existsSync(join(platformDir, 'THIRD-PARTY-LICENSES')));

  const e = env('pack');
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const login = await run(TFX, ['login', '--service-url', s.url, '--token', token, '--no-prompt'], { env: e.env, cwd: CWD });
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, LOGGED_IN, '']);
  const list = await run(TFX, ['build', 'list', '--project', 'P'], { env: e.env, cwd: CWD });
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  assert.equal(buildRequests(s)[0].headers.authorization, basicHeader('OAuth', token));
  const status = await run(TFX_AUTH, ['status'], { env: e.env, cwd: CWD });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.ok(status.stdout.includes(`\n${s.url} (default)\n  ✓ Logged in as Peter Fabfiber (peter@fabfiber.com)\n`), status.stdout);

  // A project elsewhere that depends on the installed package.
  const project = mkdtempSync(join(base, 'consumer-'));
  mkdirSync(join(project, 'node_modules'));
  symlinkSync(installed, join(project, 'node_modules', 'tfx-auth'), 'dir');
  const digest = createHash('sha256').update(token).digest('hex');
  const report = `const { createHash } = require('node:crypto');
    const out = (how, c, n) => console.log(JSON.stringify({ how, type: c && c.type,
      digest: c && createHash('sha256').update(c.token).digest('hex'), n }));`;
  writeFileSync(join(project, 'cjs.cjs'), `${report}
    const auth = require('tfx-auth');
    auth.getCredential(${JSON.stringify(s.url)}).then((c) => out('require', c, auth.normalizeServiceUrl(${JSON.stringify(s.url)})));\n`);
  writeFileSync(join(project, 'esm.mjs'), `import { createRequire } from 'node:module';
    const require = createRequire(import.meta.url);
    ${report}
    import auth, { getCredential, normalizeServiceUrl } from 'tfx-auth';
    out('import', await getCredential(${JSON.stringify(s.url)}), normalizeServiceUrl(${JSON.stringify(s.url)}));
    console.log(JSON.stringify({ sameModule: auth.getCredential === getCredential }));\n`);
  const expected = { type: 'pat', digest, n: key(s.url) };
  const cjs = await run(process.execPath, ['cjs.cjs'], { env: e.env, cwd: project });
  assert.equal(cjs.code, 0, cjs.stderr);
  assert.deepEqual(JSON.parse(cjs.stdout), { how: 'require', ...expected });
  const esm = await run(process.execPath, ['esm.mjs'], { env: e.env, cwd: project });
  assert.equal(esm.code, 0, esm.stderr);
  assert.deepEqual(esm.stdout.trim().split('\n').map((l) => JSON.parse(l)), [{ how: 'import', ...expected }, { sameModule: true }]);
});

test('npm start (scripts/demo.mjs) runs every step on the keyring and leaves nothing behind', async () => {
  const e = env('demo');
  const started = Date.now();
  const r = await run(process.execPath, [join(PACKAGE_DIR, 'scripts', 'demo.mjs')], { env: e.env, cwd: CWD, timeoutMs: 30_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(Date.now() - started < 30_000);
  assert.equal(r.stderr, '');
  const headers = r.stdout.split('\n').filter((l) => l.startsWith('── '));
  assert.deepEqual(headers, [
    '── 1/6 log in with a personal access token ──',
    '── 2/6 a later command reuses the login: no --token, no prompt ──',
    '── 3/6 what is stored, and does it still work ──',
    '── 4/6 where the secret lives ──',
    '── 5/6 ~/.tfx holds no secret ──',
    '── 6/6 log out again (the demo leaves nothing behind) ──',
  ]);
  assert.match(r.stdout, /\nStore: OS keyring, because this session's Secret Service/);
  assert.match(r.stdout, /\$ tfx login --service-url http:\/\/127\.0\.0\.1:\d+\/DefaultCollection --token \*{8} --no-prompt\n/);
  assert.match(r.stdout, /each carrying the stored PAT/);
  assert.match(r.stdout, /\n  ✓ Logged in as Peter Fabfiber \(peter@fabfiber\.com\)\n/);
  assert.match(r.stdout, /\nlook it up: secret-tool lookup service tfx-auth username http:\/\/127\.0\.0\.1:\d+\/defaultcollection\n +→ found: "pat:" \+ the \d+-character demo PAT \(not shown\)\n/);
  assert.match(r.stdout, /\nno file under the throw-away HOME or config folder contains the PAT\n/);
  assert.match(r.stdout, /\nSuccessfully logged out\.\n\nDemo done in /);
  assert.deepEqual((await storedLogins(e)).logins, []);
});

test('leak check: no token of this suite in any output, nor in any file under the test folders', () => {
  assert.deepEqual(findLeaks({ dirs: [base] }), []);
});
