// A machine that already has a global stock tfx-cli, as most people who publish extensions have:
// both packages provide a `tfx` bin. Follows the README's install section for real with npm
// (installs into fresh prefixes): the bare `npm install -g` fails with npm's EEXIST; keeping
// tfx-cli (tfx-auth in a prefix of its own) and hooking it with the line `tfx-auth hook` prints
// makes the stock `tfx` keep its login in the keyring; replacing it gives tfx-auth's `tfx`. `tfx-auth status` says which `tfx`
// is first on PATH and whether it is hooked.
// Run by scripts/test-installed.sh (`npm run test:installed`), which packs the tarballs into
// TFX_AUTH_E2E_DIST; skipped without it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { startFakeAdo } from '../fixtures/fake-ado.mjs';
import { ROOT, makeSecret, run, filesUnder, findLeaks } from '../helpers.mjs';
import { keyringLookup } from '../tfx-helpers.mjs';

const DIST = process.env.TFX_AUTH_E2E_DIST;
const skip = !DIST && 'needs the packed tarballs: npm run test:installed (scripts/test-installed.sh)';
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const { platformArchABI: platform } = createRequire(import.meta.url)('../../scripts/platform.js').addonInfo();
const base = mkdtempSync(join(tmpdir(), 'tfx-auth-global-'));
const elsewhere = join(base, 'elsewhere'); // npm runs here: no source tree around
mkdirSync(elsewhere);
after(() => rmSync(base, { recursive: true, force: true }));

const tarballs = () => [join(DIST, `tfx-auth-${version}.tgz`), join(DIST, `tfx-auth-binding-${platform}-${version}.tgz`)];
const npm = (args) => run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'],
  { env: process.env, cwd: elsewhere, timeoutMs: 600_000 });
const npmGlobal = (prefix, args) => npm([...args, '--global', '--prefix', prefix]);

function userEnv(prefix, label, extra = {}) {
  const home = join(base, label);
  mkdirSync(join(home, '.config'), { recursive: true });
  return {
    HOME: home, XDG_CONFIG_HOME: join(home, '.config'), DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS,
    PATH: [join(prefix, 'bin'), dirname(process.execPath), ...(process.env.PATH || '').split(delimiter)].join(delimiter),
    ...extra,
  };
}

test('an existing global tfx-cli: npm\'s EEXIST, then keep-and-hook and replace, as the README says', { skip }, async () => {
  const prefix = join(base, 'prefix');
  const stock = await npmGlobal(prefix, ['install', 'tfx-cli@0.23.1']);
  assert.equal(stock.code, 0, stock.stderr);
  const clash = await npmGlobal(prefix, ['install', ...tarballs()]);
  assert.notEqual(clash.code, 0);
  assert.match(clash.stderr, /EEXIST/);

  // Keep tfx-cli, hook it: tfx-auth in a prefix of its own (its `tfx` stays off PATH), then the
  // line its `hook` command prints.
  const own = join(base, 'tfx-auth-prefix');
  const kept = await npmGlobal(own, ['install', ...tarballs()]);
  assert.equal(kept.code, 0, kept.stderr);
  const tfxAuthBin = join(own, 'bin', 'tfx-auth');
  const line = await run(tfxAuthBin, ['hook'], { env: userEnv(prefix, 'hook') });
  const register = join(own, 'lib', 'node_modules', 'tfx-auth', 'register.js');
  assert.equal(line.stdout, `export NODE_OPTIONS='--require=${register}'\n`);
  const nodeOptions = /^export NODE_OPTIONS='(.*)'\n$/.exec(line.stdout)[1];

  const token = makeSecret('pat');
  const s = await startFakeAdo({ tokens: [token] });
  try {
    const plain = userEnv(prefix, 'plain');
    const status = async (env) => JSON.parse((await run(tfxAuthBin, ['status', '--json'], { env })).stdout).tfx;
    assert.deepEqual(await status(plain), { path: join(prefix, 'bin', 'tfx'), kind: 'tfx-cli', version: '0.23.1', hooked: false });

    const hooked = userEnv(prefix, 'hooked', { NODE_OPTIONS: nodeOptions });
    assert.deepEqual(await status(hooked), { path: join(prefix, 'bin', 'tfx'), kind: 'tfx-cli', version: '0.23.1', hooked: true });
    const login = await run(join(prefix, 'bin', 'tfx'), ['login', '--service-url', s.url, '--token', token, '--no-prompt'], { env: hooked });
    assert.equal(login.code, 0, login.stderr);
    const key = `${s.url}`.toLowerCase();
    assert.equal(await keyringLookup(key, process.env.DBUS_SESSION_BUS_ADDRESS), `pat:${token}`);
    assert.deepEqual(filesUnder(join(hooked.HOME, '.tfx')).filter((f) => f.endsWith('.allusers')), [], 'no plaintext login');
    const list = await run(join(prefix, 'bin', 'tfx'), ['build', 'list', '--project', 'P'], { env: hooked });
    assert.equal(list.code, 0, list.stderr);

    // Replace it: tfx-cli out, tfx-auth with its bins.
    assert.equal((await npmGlobal(prefix, ['uninstall', 'tfx-cli'])).code, 0);
    const replaced = await npmGlobal(prefix, ['install', ...tarballs()]);
    assert.equal(replaced.code, 0, replaced.stderr);
    assert.deepEqual(await status(plain), { path: join(prefix, 'bin', 'tfx'), kind: 'tfx-auth', hooked: true });
    const again = await run(join(prefix, 'bin', 'tfx'), ['build', 'list', '--project', 'P', '--service-url', s.url], { env: userEnv(prefix, 'hooked') });
    assert.equal(again.code, 0, again.stderr);
    const logout = await run(join(prefix, 'bin', 'tfx-auth'), ['logout', s.url], { env: userEnv(prefix, 'hooked') });
    assert.equal(logout.code, 0, logout.stderr);
  } finally {
    await s.close();
  }
  assert.equal(existsSync(join(prefix, 'bin', 'tfx-auth')), true);
  assert.deepEqual(findLeaks({ dirs: [base] }), []);
});
