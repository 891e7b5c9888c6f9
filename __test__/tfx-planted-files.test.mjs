// What may sit under ~/.tfx in place of tfx-cli's files (issue 18, item 5): a FIFO must hang no
// command (`tfx version` included), a link to /dev/zero must not be read, and a linked login file
// or folder must neither send a real plaintext login to another URL nor get it deleted. The real
// tfx (the drop-in, running tfx-cli with the hook) and tfx-auth, a private gnome-keyring, fake
// Azure DevOps servers on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { makeSecret } from './helpers.mjs';
import { startPrivateKeyring, commandEnv, tfx, tfxAuth, BANNER } from './tfx-helpers.mjs';

const base = mkdtempSync(join(tmpdir(), 'tfx-planted-'));
let keyring; let real; let evil;
const token = makeSecret('legacypat');

before(async () => {
  keyring = await startPrivateKeyring();
  real = await startFakeAdo({ tokens: [token] });
  evil = await startFakeAdo({ tokens: [token] });
});
after(async () => {
  await Promise.all([real.close(), evil.close()]);
  await keyring?.stop();
  rmSync(base, { recursive: true, force: true });
});

const TIMEOUT = 20_000;
const env = (label) => commandEnv(base, label, keyring.address);
// tfx-cli's folder name for a URL: every ':' dropped, '/' made '_' (lib/diskcache.js).
const escaped = (url) => url.replace(/:/g, '').replace(/\//g, '_');
const cacheDir = (e) => {
  const dir = join(e.HOME, '.tfx', 'cache');
  mkdirSync(dir, { recursive: true });
  return dir;
};
const mkfifo = (file) => execFileSync('mkfifo', [file]);

for (const [what, plant] of [
  ['FIFOs', (file) => mkfifo(file)],
  ['links to /dev/zero', (file) => symlinkSync('/dev/zero', file)],
]) {
  test(`${what} as tfx-cli's cache files hang and feed no command`, async () => {
    const e = env(what.split(' ')[0]);
    const dir = cacheDir(e);
    for (const name of ['.connection', '.skipCertValidation', '.command-options']) plant(join(dir, name));
    const version = await tfx(['version'], e.env, { timeoutMs: TIMEOUT });
    assert.deepEqual([version.code, version.signal, version.stderr], [0, null, ''], 'tfx version');
    assert.equal(version.stdout, `${BANNER}Version 0.23.1\n`);

    const login = await tfx(['login', '--service-url', real.url, '--token', token, '--no-prompt'], e.env, { timeoutMs: TIMEOUT });
    assert.deepEqual([login.code, login.signal, login.stderr], [0, null, ''], 'tfx login');
    real.requests.length = 0;
    const list = await tfx(['build', 'list', '--project', 'P'], e.env, { timeoutMs: TIMEOUT });
    assert.deepEqual([list.code, list.signal, list.stderr], [0, null, ''], 'tfx build list, with the stored default');
    assert.ok(real.requests.some((q) => /\/_apis\/build\/builds$/i.test(q.pathname)));

    const status = await tfxAuth(['status', '--json'], e.env, { timeoutMs: TIMEOUT });
    assert.deepEqual([status.code, status.signal], [0, null], status.stderr);
    const logout = await tfxAuth(['logout', real.url], e.env, { timeoutMs: TIMEOUT });
    assert.equal(logout.code, 0, logout.stderr);
  });
}

for (const linked of ['file', 'folder']) {
  test(`a linked login ${linked} under ~/.tfx neither re-homes a plaintext login nor deletes it`, async () => {
    const e = env(`link-${linked}`);
    // A real plaintext login as stock tfx-cli leaves it, for the real server.
    const realDir = join(e.HOME, '.tfx', escaped(real.url));
    mkdirSync(realDir, { recursive: true });
    const realFile = join(realDir, '.allusers');
    writeFileSync(realFile, `pat:${token}`);
    // Planted: the other server's folder (or its login file) is a link to the real one, and
    // tfx-cli's last login names the other server, which makes that folder's owner certain.
    const evilDir = join(e.HOME, '.tfx', escaped(evil.url));
    if (linked === 'folder') symlinkSync(realDir, evilDir);
    else {
      mkdirSync(evilDir);
      symlinkSync(realFile, join(evilDir, '.allusers'));
    }
    writeFileSync(join(cacheDir(e), '.connection'), evil.url);
    const stored = async () => {
      const r = await tfxAuth(['status', '--json'], e.env, { timeoutMs: TIMEOUT });
      assert.equal(r.signal, null);
      return JSON.parse(r.stdout).logins.map((l) => l.serviceUrl);
    };

    evil.requests.length = 0;
    const list = await tfx(['build', 'list', '--project', 'P', '--service-url', evil.url], e.env, { timeoutMs: TIMEOUT });
    assert.equal(list.signal, null);
    assert.ok(evil.requests.every((q) => !q.headers.authorization), 'the real login was not sent to the other server');
    assert.deepEqual(await stored(), [], 'nothing was stored for the other server');
    assert.equal(readFileSync(realFile, 'utf8'), `pat:${token}`, 'the real plaintext login is still there');

    const logout = await tfxAuth(['logout', evil.url], e.env, { timeoutMs: TIMEOUT });
    assert.equal(logout.signal, null);
    assert.equal(readFileSync(realFile, 'utf8'), `pat:${token}`, 'a logout of the other URL does not delete it');
    await tfxAuth(['logout', '--all'], e.env, { timeoutMs: TIMEOUT });
  });
}
