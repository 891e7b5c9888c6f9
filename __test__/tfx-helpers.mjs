// Shared by the suites that drive the `tfx` and `tfx-auth` commands as child processes
// (tfx-e2e.test.mjs, tfx-auth-cli.test.mjs): a private gnome-keyring per suite, per-command
// folders, and the commands themselves.
//
// Why a private keyring: the Secret Service is one per user, not one per HOME, so listLogins()
// (and `tfx-auth status`, `tfx-auth logout --all`) see every tfx-auth item in it. A suite that
// lists or removes everything gets its own D-Bus session and gnome-keyring (scripts/with-keyring.sh
// nested), so it neither sees nor deletes what other suites stored.
//
// TFX_AUTH_E2E_PREFIX=<prefix>: the commands and the addon are those of an `npm install -g
// --prefix <prefix>` of the packed tarballs (scripts/test-installed.sh), not this source tree:
// `<prefix>/bin/tfx`, `<prefix>/bin/tfx-auth`, require('<prefix>/lib/node_modules/tfx-auth'),
// run from <prefix>.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { ROOT, run, isolateThisProcess } from './helpers.mjs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';

export const PREFIX = process.env.TFX_AUTH_E2E_PREFIX || null;
/** The tfx-auth package under test: the installed one, or this source tree. */
export const PACKAGE_DIR = PREFIX ? join(PREFIX, 'lib', 'node_modules', 'tfx-auth') : ROOT;
/** What `require('tfx-auth')` loads: the installed package's main, or the generated loader here. */
export const ADDON_MAIN = PREFIX ? PACKAGE_DIR : join(ROOT, 'index.js');
/** Where the commands run: nowhere near a source tree when testing an install. */
export const CWD = PREFIX || ROOT;
export const TFX = PREFIX ? join(PREFIX, 'bin', 'tfx') : join(ROOT, 'tfx', 'tfx.js');
export const TFX_AUTH = PREFIX ? join(PREFIX, 'bin', 'tfx-auth') : join(ROOT, 'bin', 'tfx-auth.js');
export const STOCK_TFX = join(dirname(createRequire(join(PACKAGE_DIR, 'package.json')).resolve('tfx-cli/package.json')), '_build', 'tfx-cli.js');
/** The addon under test, loaded in this process. */
export const loadAddon = () => createRequire(import.meta.url)(ADDON_MAIN);
export const BANNER = 'TFS Cross Platform Command Line Interface v0.23.1\nCopyright Microsoft Corporation\n';

/**
 * Starts a D-Bus session with an unlocked gnome-keyring of its own.
 * @returns {Promise<{ address: string, stop: () => Promise<void> }>}
 */
export async function startPrivateKeyring() {
  // Nothing of the surrounding session: GNOME_KEYRING_CONTROL would make gnome-keyring-daemon
  // unlock the outer daemon instead of starting a new one.
  const home = mkdtempSync(join(tmpdir(), 'tfx-auth-kr-home-'));
  const env = { PATH: process.env.PATH, HOME: home };
  if (process.env.TMPDIR) env.TMPDIR = process.env.TMPDIR;
  const child = spawn('bash', [join(ROOT, 'scripts', 'with-keyring.sh'), 'bash', '-c',
    'printf "%s\\n" "$DBUS_SESSION_BUS_ADDRESS"; exec cat >/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const address = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`private keyring did not start: ${stderr}`)), 15_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl).trim());
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`private keyring exited with ${code}: ${stderr}`));
    });
  });
  if (!address) throw new Error(`private keyring has no bus address: ${stderr}`);
  const exited = once(child, 'exit');
  return {
    address,
    async stop() {
      child.stdin.end(); // `cat` ends, with-keyring.sh kills gnome-keyring and removes its folder
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** A fresh HOME and XDG_CONFIG_HOME under `base`, and the environment a command gets there. */
export function commandEnv(base, label, dbusAddress, extra = {}) {
  const dir = mkdtempSync(join(base, `${label}-`));
  const dirs = { dir, HOME: join(dir, 'home'), XDG_CONFIG_HOME: join(dir, 'config') };
  mkdirSync(dirs.HOME);
  mkdirSync(dirs.XDG_CONFIG_HOME);
  // TERM stays unset: tfx-cli's colours follow TERM, not whether stdout is a terminal.
  const env = { HOME: dirs.HOME, XDG_CONFIG_HOME: dirs.XDG_CONFIG_HOME, DBUS_SESSION_BUS_ADDRESS: dbusAddress, PATH: process.env.PATH, ...extra };
  return { ...dirs, env };
}

export const tfx = (args, env, opts = {}) => run(process.execPath, [TFX, ...args], { env, cwd: CWD, timeoutMs: 30_000, ...opts });
export const stockTfx = (args, env, opts = {}) => run(process.execPath, [STOCK_TFX, ...args], { env, cwd: CWD, timeoutMs: 30_000, ...opts });
export const tfxAuth = (args, env, opts = {}) => run(process.execPath, [TFX_AUTH, ...args], { env, cwd: CWD, timeoutMs: 30_000, ...opts });

/** helpers.runAddonScript, with `addon` being the addon under test (ADDON_MAIN). */
export function addonScript(body, env, options = {}) {
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${JSON.stringify(join(CWD, 'x.js'))})(${JSON.stringify(ADDON_MAIN)});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
try { ${body} } catch (e) { out({ error: e.code ?? String(e), message: e.message }); }`;
  return run(process.execPath, ['--input-type=module', '-e', script], { env, cwd: CWD, ...options });
}

/** A command whose output is not recorded for the leak scan (a terminal screen, say). */
export function runNoInput(cmd, args, { env, cwd, timeoutMs = 30_000 } = {}) {
  return run(cmd, args, { env, cwd, timeoutMs, recordOutput: false });
}

/** `secret-tool lookup service tfx-auth username <key>` on the given bus; '' when absent. */
export async function keyringLookup(key, dbusAddress) {
  const { stdout } = await run('secret-tool', ['lookup', 'service', 'tfx-auth', 'username', key], {
    env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: dbusAddress },
    recordOutput: false,
  });
  return stdout;
}

/** The Authorization header a request carries for a PAT sent the way tfx-cli sends it. */
export const basicHeader = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** The decoded Basic credentials of a recorded request, or null. */
export function decodeBasic(request) {
  const m = /^Basic (.+)$/.exec(request?.headers?.authorization ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

/**
 * The set-up every drop-in suite shares: a private keyring for the suite, this process pointed
 * at fresh folders, fake servers closed and every login removed after each test, all of it torn
 * down at the end. Pass node:test's hooks. `keyring` and `addon` are set once `before` ran.
 */
export function keyringSuite(label, { before, afterEach, after }) {
  const self = isolateThisProcess(`${label}-self`); // the in-process addon only validates
  const suite = {
    base: mkdtempSync(join(tmpdir(), `${label}-`)),
    // tfx's shebang and the installed bins need `node` on PATH.
    PATH: [dirname(process.execPath), ...(process.env.PATH || '').split(':')].join(':'),
    keyring: null,
    addon: null,
    servers: [],
    env: (name, extra = {}) => commandEnv(suite.base, name, suite.keyring.address, { PATH: suite.PATH, ...extra }),
    async server(options) {
      const s = await startFakeAdo(options);
      suite.servers.push(s);
      return s;
    },
  };
  before(async () => {
    suite.keyring = await startPrivateKeyring();
    process.env.DBUS_SESSION_BUS_ADDRESS = suite.keyring.address;
    suite.addon = loadAddon();
  });
  afterEach(async () => {
    const r = await addonScript('out(await addon.logoutAll());', suite.env('cleanup').env);
    assert.equal(r.code, 0, r.stderr);
    await Promise.all(suite.servers.splice(0).map((s) => s.close()));
  });
  after(async () => {
    await suite.keyring?.stop();
    rmSync(suite.base, { recursive: true, force: true });
    rmSync(self.base, { recursive: true, force: true });
  });
  return suite;
}
