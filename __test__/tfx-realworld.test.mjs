// Where real users trip (issue 13), end to end with the real tfx-cli 0.23.1 and stock tfx-cli as
// the reference: an upgrade from stock logins, URLs tfx-cli refuses, and what `tfx-auth status`
// tells about them. Logins go to a private gnome-keyring; nothing leaves loopback.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makeSecret, findLeaks, filesUnder } from './helpers.mjs';
import { keyringSuite, tfx, stockTfx, tfxAuth, keyringLookup } from './tfx-helpers.mjs';

const suite = keyringSuite('tfx-realworld', { before, afterEach, after });
const { base, env } = suite;
const server = (options) => suite.server(options);

const TOO_LONG = 'error: Error: Invalid service url - path is too long. A service URL should include the account/application URL and the collection, e.g. https://fabrikam.visualstudio.com/DefaultCollection or http://tfs-server:8080/tfs/DefaultCollection\n';

test('tfx login refuses a URL every later tfx command would refuse, with tfx-cli\'s words, before any request', async () => {
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const projectUrl = `${s.url}/Project`;
  const args = ['login', '--service-url', projectUrl, '--token', token, '--no-prompt'];
  const stock = await stockTfx(args, env('stock').env);
  assert.deepEqual([stock.code, stock.stderr], [255, TOO_LONG], 'stock refuses it too');
  // The fast path, and the hooked tfx-cli (TFX_TRACE sends every command line there).
  for (const extra of [{}, { TFX_TRACE: '1' }]) {
    const e = env('too-long', extra);
    const r = await tfx(args, e.env);
    assert.equal(r.code, 255, JSON.stringify(extra));
    assert.ok(r.stderr.endsWith(TOO_LONG), r.stderr);
    assert.equal(await keyringLookup(suite.addon.normalizeServiceUrl(projectUrl), suite.keyring.address), '');
  }
  assert.deepEqual(s.requests, [], 'nothing was sent');
  // What tfx-cli takes: one path segment, or /tfs/<collection>.
  const e = env('fine');
  const fine = await tfx(['login', '--service-url', `${s.url}/`, '--token', token, '--no-prompt'], e.env);
  assert.equal(fine.code, 0, fine.stderr);
});

test('upgrade from stock: the first tfx-auth command moves every certain plaintext login, says so once, and clears tfx-cli\'s cache', async () => {
  const token = makeSecret('pat');
  const a = await server({ tokens: [token] });
  const e = env('upgrade');
  const stock = await stockTfx(['login', '--service-url', a.url, '--token', token, '--no-prompt'], e.env);
  assert.equal(stock.code, 0, stock.stderr);
  // tfx-cli's folder for a.url glues the port to the IP address: only its cache/.connection
  // (the last login) tells the URL. Another stock login whose folder reads back one way, and one
  // whose host cannot be told at all (nothing names it).
  const tfxDir = join(e.HOME, '.tfx');
  const legacy = (folder) => {
    const file = join(tfxDir, folder, '.allusers');
    mkdirSync(dirname(file));
    writeFileSync(file, `pat:${makeSecret('legacy')}`);
    return file;
  };
  legacy('https__tfs.fabfiber.invalid_DefaultCollection');
  const ambiguous = legacy('http__10.0.0.18080_DefaultCollection');
  assert.equal(existsSync(join(tfxDir, 'cache', '.connection')), true);

  const first = await tfxAuth(['status', '--json', '--timeout-ms', '2000'], e.env);
  assert.equal(first.code, 1, 'the .invalid host cannot be checked');
  assert.equal(first.stderr, `tfx-auth: moved 2 tfx-cli logins from ${tfxDir} into the OS keyring and deleted the plaintext files.\n`);
  const report = JSON.parse(first.stdout);
  assert.deepEqual(report.logins.map((l) => [l.serviceUrl, l.isDefault, l.valid]), [
    [a.url, true, true], ['https://tfs.fabfiber.invalid/DefaultCollection', false, false]]);
  assert.deepEqual(report.plaintextLogins, [{ path: ambiguous, reason: 'the URL cannot be recovered from the folder name; log in again with tfx login' }]);
  assert.equal(await keyringLookup(suite.addon.normalizeServiceUrl(a.url), suite.keyring.address), `pat:${token}`);
  // Only the ambiguous file is left; tfx-cli's last-login URL and certificate flag are carried over.
  assert.deepEqual(readdirSync(tfxDir), ['http__10.0.0.18080_DefaultCollection']);

  const human = await tfxAuth(['status', '--timeout-ms', '2000'], e.env);
  assert.equal(human.stderr, '', 'said once');
  assert.ok(human.stdout.includes(`tfx-cli logins still in plaintext (tfx-auth could not tell their URL; log in again, then delete them):\n  - ${ambiguous}: the URL cannot be recovered`), human.stdout);
  // tfx itself runs the same move: a stock login made now is picked up by the next tfx command.
  const c = await server({ tokens: [token] });
  assert.equal((await stockTfx(['login', '--service-url', c.url, '--token', token, '--no-prompt'], e.env)).code, 0);
  const list = await tfx(['build', 'list', '--project', 'P', '--service-url', c.url], e.env);
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stderr, `tfx-auth: moved 1 tfx-cli login from ${tfxDir} into the OS keyring and deleted the plaintext file.\n`);
  assert.equal(c.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname)).length, 1);
  // (tfx-cli itself makes an empty cache folder again when it looks for saved options.)
  assert.deepEqual(filesUnder(tfxDir), [ambiguous]);
  rmSync(ambiguous); // it holds a secret in plaintext, as stock would
});

test('headless (no Secret Service): the fallback warning only when a secret is read or written, once, in plain words', async () => {
  const token = makeSecret('pat');
  const s = await server({ tokens: [token] });
  const headless = (label, extra = {}) => env(label, { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus', ...extra });
  const list = ['build', 'list', '--project', 'P', '--service-url', s.url];
  // A credential from a flag or the environment never touches the store: nothing to warn about.
  const e = headless('headless');
  for (const [args, extra] of [[[...list, '--token', token], {}], [list, { AZURE_DEVOPS_EXT_PAT: token }]]) {
    const r = await tfx(args, { ...e.env, ...extra });
    assert.deepEqual([r.code, r.stderr], [0, ''], args.join(' '));
  }
  const login = await tfx(['login', '--service-url', s.url, '--token', token, '--no-prompt'], e.env);
  assert.equal(login.code, 0, login.stderr);
  const lines = login.stderr.trim().split('\n');
  assert.equal(lines.length, 1, login.stderr);
  assert.match(lines[0], /^tfx-auth: no OS keyring \(no Secret Service \(gnome-keyring, KWallet, KeePassXC\) answered on the D-Bus session\); storing credentials in .*credentials\.json \(mode 0600\)\. Set TFX_AUTH_STORE=file to silence this\. The file keeps them from other users, not from programs running as you, root or backups/);
  assert.doesNotMatch(login.stderr, /unix:path|Failed to connect|zbus/i);
  const reused = await tfx(list, e.env);
  assert.equal(reused.code, 0, reused.stderr);
  assert.equal(reused.stderr.trim().split('\n').length, 1, 'once per command that reads the store');
  const pinned = await tfx(list, { ...e.env, TFX_AUTH_STORE: 'file' });
  assert.deepEqual([pinned.code, pinned.stderr], [0, '']);
  const logout = await tfx(['logout', '--service-url', s.url], { ...e.env, TFX_AUTH_STORE: 'file' });
  assert.equal(logout.code, 0, logout.stderr); // the file store holds the token in plaintext until then
});

test('leak check: no token of this suite in any output, nor in any file under the test folders', () => {
  assert.deepEqual(findLeaks({ dirs: [base] }), []);
  assert.ok(filesUnder(base).length > 0);
});
