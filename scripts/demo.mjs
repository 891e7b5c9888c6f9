#!/usr/bin/env node
// `npm start`: the main job on an embedded default, start to finish in a few seconds.
// Starts the bundled fake Azure DevOps server on loopback, then, with a throw-away HOME and
// XDG_CONFIG_HOME, runs the real tfx-cli through this package's `tfx` bin: `tfx login` with a
// PAT, `tfx build list` reusing that login, `tfx-auth status`; shows where the secret now lives
// and that ~/.tfx holds none; logs out again and stops the server.
//
// Which store: the OS keyring when this session has a working Secret Service; otherwise, when
// gnome-keyring is installed, the demo re-runs itself inside scripts/with-keyring.sh (a private
// D-Bus session and keyring, gone afterwards); otherwise the file store.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const INSIDE_PRIVATE_KEYRING = 'TFX_AUTH_DEMO_PRIVATE_KEYRING';
const started = Date.now();

const say = (line = '') => process.stdout.write(`${line}\n`);
const onPath = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;

function ensureAddon() {
  if (readdirSync(ROOT).some((f) => /^tfx-auth\..+\.node$/.test(f))) return;
  // An installed package: the addon is in its @tfx-auth/binding-<platform> package.
  if (!existsSync(join(ROOT, 'scripts', 'build-if-stale.sh'))) return;
  say('The addon is not built yet: building it (bash scripts/build-if-stale.sh).');
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'build-if-stale.sh')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the addon failed; see above');
}

// Whether a Secret Service on this session's bus takes a write: store and delete a probe item in
// a throw-away HOME. A locked or absent keyring makes this false.
function sessionKeyringWorks(env) {
  if (!env.DBUS_SESSION_BUS_ADDRESS) return false;
  const home = mkdtempSync(join(tmpdir(), 'tfx-auth-demo-probe-'));
  try {
    const script = `const a = require(${JSON.stringify(join(ROOT, 'index.js'))});
      (async () => {
        if (a.storageInfo().backend !== 'keyring') process.exit(1);
        const url = 'http://127.0.0.1:9/tfx-auth-demo-probe-${randomBytes(4).toString('hex')}';
        await a.storeCredential(url, { type: 'pat', token: 'probe-token' });
        await a.deleteCredential(url);
      })().catch(() => process.exit(1));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      env: { ...env, HOME: home, XDG_CONFIG_HOME: join(home, 'config'), TFX_AUTH_STORE: 'keyring' },
      stdio: 'ignore',
      timeout: 15_000,
    });
    return r.status === 0;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// Returns the store plan, or re-runs the demo under scripts/with-keyring.sh and exits.
function chooseStore() {
  if (process.env[INSIDE_PRIVATE_KEYRING]) return { kind: 'keyring', why: 'a private gnome-keyring started for this demo (scripts/with-keyring.sh)' };
  if (sessionKeyringWorks(process.env)) return { kind: 'keyring', why: "this session's Secret Service (the demo login is removed at the end)" };
  if (onPath('gnome-keyring-daemon') && onPath('dbus-run-session')) {
    say('No working Secret Service in this session: running the demo inside a private D-Bus session with gnome-keyring.');
    const r = spawnSync('bash', [join(ROOT, 'scripts', 'with-keyring.sh'), process.execPath, fileURLToPath(import.meta.url)], {
      cwd: ROOT, stdio: 'inherit', env: { ...process.env, [INSIDE_PRIVATE_KEYRING]: '1' },
    });
    process.exit(r.status ?? 1);
  }
  return { kind: 'file', why: 'no Secret Service and no gnome-keyring to start one; install gnome-keyring dbus to see the keyring' };
}

// Runs a command with its output on this terminal; resolves to its exit code. Asynchronous, so
// the in-process fake server keeps answering.
function show(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
}

function capture(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout }));
  });
}

let stepNo = 0;
const STEPS = 6;
function step(title, command) {
  stepNo += 1;
  say();
  say(`── ${stepNo}/${STEPS} ${title} ──`);
  if (command) say(`$ ${command}`);
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

// A folder with `tfx` and `tfx-auth` linked to this package's bins, put first on env.PATH; its
// path, or null where links are not made (Windows: tfx-auth status then names the project's copy).
function ourBinsFirst(base, env) {
  if (process.platform === 'win32') return null;
  const bin = join(base, 'bin');
  mkdirSync(bin);
  symlinkSync(join(ROOT, 'tfx', 'tfx.js'), join(bin, 'tfx'));
  symlinkSync(join(ROOT, 'bin', 'tfx-auth.js'), join(bin, 'tfx-auth'));
  env.PATH = [bin, env.PATH].filter(Boolean).join(delimiter);
  return bin;
}

async function main() {
  ensureAddon();
  const store = chooseStore();
  const { startFakeAdo } = await import('../__test__/fixtures/fake-ado.mjs');

  const base = mkdtempSync(join(tmpdir(), 'tfx-auth-demo-'));
  const home = join(base, 'home');
  const config = join(base, 'config');
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: config };
  delete env.AZURE_DEVOPS_EXT_PAT; // it would win over the login this demo makes
  delete env.TFX_BYPASS_CACHE;
  delete env[INSIDE_PRIVATE_KEYRING];
  if (store.kind === 'file') env.TFX_AUTH_STORE = 'file';

  // npm puts every node_modules/.bin first on PATH for `npm start`, so there `tfx` would be this
  // project's own copy of stock tfx-cli. The demo runs this package's bins: put them first, so
  // `tfx-auth status` reports the `tfx` the demo actually runs.
  const bin = ourBinsFirst(base, env);

  const pat = `demo-pat-${randomBytes(10).toString('hex')}`;
  const server = await startFakeAdo({ tokens: [pat] });
  const tfx = join(ROOT, 'tfx', 'tfx.js');
  const tfxAuth = join(ROOT, 'bin', 'tfx-auth.js');
  let failed = null;
  const must = (what, code) => {
    if (code !== 0 && !failed) failed = `${what} exited with ${code}`;
    return code === 0;
  };

  say('tfx-auth demo: the real tfx-cli 0.23.1 with its login layer replaced by the Rust addon.');
  say(`Fake Azure DevOps server (loopback only): ${server.url}`);
  say(`Throw-away HOME: ${home}`);
  say(`Store: ${store.kind === 'keyring' ? 'OS keyring' : 'file'}, because ${store.why}`);
  if (bin) say(`tfx and tfx-auth: this package's (tfx/tfx.js, bin/tfx-auth.js), first on PATH for the demo in ${bin}`);

  try {
    step('log in with a personal access token', `tfx login --service-url ${server.url} --token ******** --no-prompt`);
    if (must('tfx login', await show(process.execPath, [tfx, 'login', '--service-url', server.url, '--token', pat, '--no-prompt'], env))) {
      step('a later command reuses the login: no --token, no prompt', 'tfx build list --project P');
      const before = server.requests.length;
      must('tfx build list', await show(process.execPath, [tfx, 'build', 'list', '--project', 'P'], env));
      const sent = server.requests.slice(before).filter((q) => q.headers.authorization);
      const expected = `Basic ${Buffer.from(`OAuth:${pat}`).toString('base64')}`;
      say(`(the server got ${sent.length} authenticated requests, ` +
        `${sent.every((q) => q.headers.authorization === expected) ? 'each carrying the stored PAT' : 'NOT all carrying the stored PAT'}; ` +
        `builds asked for: ${sent.filter((q) => /build\/builds$/i.test(q.pathname)).map((q) => `${q.method} ${q.pathname}`).join(', ') || 'none'})`);

      step('what is stored, and does it still work', 'tfx-auth status');
      must('tfx-auth status', await show(process.execPath, [tfxAuth, 'status'], env));

      step('where the secret lives');
      const info = await capture(process.execPath, ['-e', `const a = require(${JSON.stringify(join(ROOT, 'index.js'))});
        console.log(JSON.stringify({ storage: a.storageInfo(), key: a.normalizeServiceUrl(${JSON.stringify(server.url)}) }));`], env);
      const { storage, key } = JSON.parse(info.stdout);
      say(`store:     ${storage.backend}${storage.persistent ? ' (survives a reboot)' : ' (does NOT survive a reboot)'}`);
      say(`location:  ${storage.location}`);
      say(`why:       ${storage.reason}`);
      if (storage.backend === 'keyring') {
        const lookup = ['secret-tool', 'lookup', 'service', 'tfx-auth', 'username', key];
        say(`look it up: ${lookup.join(' ')}`);
        if (onPath('secret-tool')) {
          const r = await capture(lookup[0], lookup.slice(1), env);
          const secret = r.stdout.replace(/\n$/, '');
          say(secret === `pat:${pat}`
            ? `            → found: "pat:" + the ${pat.length}-character demo PAT (not shown)`
            : '            → secret-tool did not return the demo login');
        }
      } else {
        const mode = (statSync(storage.location).mode & 0o777).toString(8);
        say(`the file:  ${storage.location} (mode ${mode})`);
      }

      step('~/.tfx holds no secret');
      const tfxDir = join(home, '.tfx');
      const files = filesUnder(tfxDir);
      const plaintext = filesUnder(base).filter((f) => f !== storage.location && readFileSync(f).includes(pat));
      say(files.length === 0
        ? `${tfxDir}: no files (stock tfx-cli would have written .tfx/<url>/.allusers with "pat:<token>", mode 0644)`
        : `${tfxDir}: ${files.map((f) => relative(home, f)).join(', ')}`);
      say(plaintext.length === 0
        ? `no file under the throw-away HOME or config folder contains the PAT${store.kind === 'file' ? ' (besides the 0600 store file)' : ''}`
        : `PLAINTEXT PAT FOUND in: ${plaintext.join(', ')}`);
      if (plaintext.length > 0 && !failed) failed = 'the PAT was found in plaintext';
    }

    step('log out again (the demo leaves nothing behind)', 'tfx logout');
    must('tfx logout', await show(process.execPath, [tfx, 'logout'], env));
  } finally {
    await server.close();
    rmSync(base, { recursive: true, force: true });
  }
  say();
  if (failed) {
    say(`Demo FAILED: ${failed}.`);
    process.exitCode = 1;
  } else {
    say(`Demo done in ${((Date.now() - started) / 1000).toFixed(1)} s. On a real organisation: npm i -g tfx-auth, then tfx login --service-url https://dev.azure.com/<org>`);
  }
}

main().catch((err) => {
  process.stderr.write(`demo: ${err.stack || err}\n`);
  process.exit(1);
});
