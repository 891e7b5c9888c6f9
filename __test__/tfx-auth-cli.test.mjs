// The `tfx-auth` command (bin/tfx-auth.js) as a user runs it: status (human and --json, every
// login checked at once, each within its own timeout), logout, migrate, token, and its errors.
// Real gnome-keyring (a private one for this suite, see tfx-helpers.mjs), fake Azure DevOps
// servers on loopback, a fresh HOME and XDG_CONFIG_HOME per test.
import { createRequire as requireFrom } from 'node:module';
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { makeSecret, run, runAddonScript, findLeaks } from './helpers.mjs';
import { startPrivateKeyring, commandEnv, tfx, tfxAuth, keyringLookup, BANNER } from './tfx-helpers.mjs';

const base = mkdtempSync(join(tmpdir(), 'tfx-auth-cli-'));
let keyring;
const servers = [];

before(async () => {
  keyring = await startPrivateKeyring();
});

// Every login of a test goes; the next test starts from an empty keyring.
afterEach(async () => {
  const cleanup = commandEnv(base, 'cleanup', keyring.address);
  const r = await runAddonScript('out(await addon.logoutAll());', cleanup.env);
  assert.equal(r.code, 0, r.stderr);
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

after(async () => {
  await keyring?.stop();
  rmSync(base, { recursive: true, force: true });
});

async function server(options) {
  const s = await startFakeAdo(options);
  servers.push(s);
  return s;
}

// A URL where nothing listens: a server's port right after it closed.
async function deadUrl() {
  const s = await startFakeAdo();
  await s.close();
  return s.url;
}

const env = (label, extra) => commandEnv(base, label, keyring.address, extra);
// The `tfx on PATH` line, as bin/hook-info.js words what `status --json` found (checked for real
// against global installs in __test__/installed/global-tfx-cli.test.mjs).
const { describeTfx } = requireFrom(import.meta.url)('../bin/hook-info.js');

// Stores without validation, in the given command environment (settings live in its XDG folder).
async function store(e, url, credential) {
  const r = await runAddonScript(`await addon.storeCredential(${JSON.stringify(url)}, ${JSON.stringify(credential)}); out('ok');`, e.env);
  assert.equal(r.stdout, '"ok"\n', r.stderr);
}

async function loginWithTfx(e, url, token) {
  const r = await tfx(['login', '--service-url', url, '--token', token, '--no-prompt'], e.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `${BANNER}Logged in successfully\n`);
}

const key = (url) => url.toLowerCase();

test('status: one login valid, one rejected (401), one server down; each with its fix; exit 1', async () => {
  const e = env('status');
  const good = makeSecret('pat');
  const ok = await server({ tokens: [good] });
  const rejecting = await server({ scenario: 'unauthorized-json' });
  const down = await deadUrl();
  const password = makeSecret('pw');
  await loginWithTfx(e, ok.url, good);
  await store(e, rejecting.url, { type: 'pat', token: makeSecret('pat') });
  await store(e, down, { type: 'basic', username: 'fabfiber\\peter', password });

  const json = await tfxAuth(['status', '--json'], e.env);
  assert.equal(json.code, 1, json.stderr);
  assert.equal(json.stderr, '');
  const report = JSON.parse(json.stdout);
  assert.equal(report.storage.backend, 'keyring');
  assert.equal(report.storage.persistent, true);
  assert.deepEqual(report.source, { kind: 'stored', label: 'stored login', defaultServiceUrl: ok.url });
  const byUrl = Object.fromEntries(report.logins.map((l) => [l.serviceUrl, l]));
  assert.deepEqual(Object.keys(byUrl).sort(), [ok.url, rejecting.url, down].sort());
  assert.deepEqual(byUrl[ok.url], {
    serviceUrl: ok.url, normalizedUrl: key(ok.url), authType: 'pat', username: null, isDefault: true,
    skipCertValidation: false, valid: true,
    user: { id: '6f3e2a1b-8c4d-4e5f-9a0b-1c2d3e4f5a6b', displayName: 'Peter Fabfiber', uniqueName: 'peter@fabfiber.com' },
  });
  const rejected = byUrl[rejecting.url];
  assert.equal(rejected.valid, false);
  assert.equal(rejected.error.code, 'AUTH_REJECTED');
  assert.equal(rejected.error.status, 401);
  assert.equal(rejected.error.fix, `run: tfx login --service-url ${rejecting.url}`);
  const unreachable = byUrl[down];
  assert.deepEqual([unreachable.authType, unreachable.username, unreachable.isDefault, unreachable.valid],
    ['basic', 'fabfiber\\peter', false, false]);
  assert.equal(unreachable.error.code, 'NETWORK_ERROR');

  // The human form: one block per URL, in the store's order (by normalised URL).
  const human = await tfxAuth(['status'], e.env);
  assert.equal(human.code, 1);
  assert.equal(human.stderr, '');
  const blocks = {
    [ok.url]: [
      `${ok.url} (default)`,
      '  ✓ Logged in as Peter Fabfiber (peter@fabfiber.com)',
      '  - Auth type: personal access token',
    ],
    [rejecting.url]: [
      rejecting.url,
      '  X The stored credential was rejected (AUTH_REJECTED)',
      `  - ${rejected.error.message}`,
      '  - Auth type: personal access token',
      `  - To fix, run: tfx login --service-url ${rejecting.url}`,
    ],
    [down]: [
      down,
      '  X Cannot reach the server (NETWORK_ERROR)',
      `  - ${unreachable.error.message}`,
      '  - Auth type: basic (user fabfiber\\peter)',
      `  - To fix, check the network and proxy (HTTPS_PROXY, NO_PROXY), then run: tfx-auth status; if the server is gone, run: tfx-auth logout ${down}`,
    ],
  };
  const order = report.logins.map((l) => l.serviceUrl);
  assert.deepEqual(order, [...order].sort((a, b) => key(a).localeCompare(key(b))));
  const expected = [
    `Store: OS keyring: ${report.storage.location}`,
    '  - Survives a reboot: yes',
    `  - Chosen because: ${report.storage.reason}`,
    `Credential in effect: stored login for the default URL ${ok.url}`,
    `tfx on PATH: ${describeTfx(report.tfx)}`,
    ...order.flatMap((u) => ['', ...blocks[u]]),
  ].join('\n') + '\n';
  assert.equal(human.stdout, expected);
  assert.ok(!human.stdout.includes(good) && !human.stdout.includes(password));
});

test('status: all logins valid, or none at all, exits 0', async () => {
  const e = env('status-ok');
  const none = await tfxAuth(['status', '--json'], e.env);
  assert.equal(none.code, 0, none.stderr);
  assert.deepEqual(JSON.parse(none.stdout).logins, []);
  assert.deepEqual(JSON.parse(none.stdout).source, { kind: 'none', label: 'none', defaultServiceUrl: null });
  const noneHuman = await tfxAuth(['status'], e.env);
  assert.equal(noneHuman.code, 0);
  assert.match(noneHuman.stdout, /\nCredential in effect: none\ntfx on PATH: [^\n]+\n\nNo stored logins\. Log in with: tfx login --service-url <organisation or collection URL>\n$/);

  const token = makeSecret('pat');
  const a = await server({ tokens: [token] });
  const b = await server({ scenario: 'onprem', collection: 'tfs/DefaultCollection', basicUsers: { 'fabfiber\\peter': 'P@ss:w0rd' } });
  await loginWithTfx(e, a.url, token);
  await store(e, b.url, { type: 'basic', username: 'fabfiber\\peter', password: 'P@ss:w0rd' });
  const r = await tfxAuth(['status'], e.env);
  assert.equal(r.code, 0, r.stdout);
  assert.match(r.stdout, new RegExp(`\\n${b.url}\\n  ✓ Logged in as Peter \\(fabfiber\\\\peter\\)\\n  - Auth type: basic \\(user fabfiber\\\\peter\\)\\n`));
});

test('status: logins are checked concurrently, each within --timeout-ms', async () => {
  const e = env('status-timeout');
  const token = makeSecret('pat');
  const ok = await server({ tokens: [token] });
  const hanging = await Promise.all([1, 2, 3].map(() => server({ scenario: 'hang' })));
  await loginWithTfx(e, ok.url, token);
  for (const h of hanging) await store(e, h.url, { type: 'pat', token });

  const started = Date.now();
  const r = await tfxAuth(['status', '--json', '--timeout-ms', '1500'], e.env);
  const elapsed = Date.now() - started;
  assert.equal(r.code, 1, r.stderr);
  const logins = JSON.parse(r.stdout).logins;
  assert.deepEqual(logins.map((l) => [l.serviceUrl, l.valid, l.error?.code]).sort(),
    [[ok.url, true, undefined], ...hanging.map((h) => [h.url, false, 'TIMEOUT'])].sort());
  // Three hanging servers checked one after another would take 4.5 s.
  assert.ok(elapsed >= 1500 && elapsed < 3500, `status took ${elapsed} ms`);
  for (const l of logins.filter((x) => !x.valid)) {
    assert.equal(l.error.fix, 'check the network and proxy, or allow longer: tfx-auth status --timeout-ms 30000');
  }
  for (const h of hanging) {
    assert.equal(h.requests.filter((q) => q.pathname.toLowerCase().endsWith('/_apis/connectiondata')).length, 1);
  }
});

test('status: AZURE_DEVOPS_EXT_PAT is reported as the credential in effect', async () => {
  const e = env('status-env', { AZURE_DEVOPS_EXT_PAT: makeSecret('envpat') });
  const token = makeSecret('pat');
  const ok = await server({ tokens: [token] });
  await loginWithTfx(e, ok.url, token);
  const r = await tfxAuth(['status', '--json'], e.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).source, {
    kind: 'env', label: 'environment (AZURE_DEVOPS_EXT_PAT)', variable: 'AZURE_DEVOPS_EXT_PAT', defaultServiceUrl: ok.url,
  });
  const human = await tfxAuth(['status'], e.env);
  assert.match(human.stdout, /\nCredential in effect: environment \(AZURE_DEVOPS_EXT_PAT\); tfx commands without --token or --username\/--password use it instead of a stored login\n/);
  // A blank variable is no credential (tfx ignores it too).
  const blank = await tfxAuth(['status', '--json'], { ...e.env, AZURE_DEVOPS_EXT_PAT: '  ' });
  assert.equal(JSON.parse(blank.stdout).source.kind, 'stored');
});

// Any C0/C1 control character but the line feeds between lines (and the ESC of no colour: TERM unset).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

test('status: a hostile server\'s names reach the terminal without control characters', async () => {
  const e = env('status-hostile');
  const token = makeSecret('pat');
  const hostile = await server({
    tokens: [token],
    displayName: '\x1b]0;pwned\x07\x1b[2J\rMallory\u202e\x9b1A',
    account: 'mallory\x1b[1A@evil.example\x07\r\n',
  });
  await loginWithTfx(e, hostile.url, token);
  const human = await tfxAuth(['status'], e.env);
  assert.equal(human.code, 0, human.stderr);
  assert.ok(human.stdout.includes(`\n${hostile.url} (default)\n  ✓ Logged in as Mallory (mallory@evil.example)\n`), JSON.stringify(human.stdout));
  assert.ok(!CONTROL.test(human.stdout), JSON.stringify(human.stdout));
  const json = JSON.parse((await tfxAuth(['status', '--json'], e.env)).stdout);
  assert.deepEqual([json.logins[0].user.displayName, json.logins[0].user.uniqueName], ['Mallory', 'mallory@evil.example']);
});

test('status: the last guard cleans whatever the addon hands over (in-process, fake addon)', async () => {
  const { main, printable } = await import('../bin/tfx-auth.js');
  assert.equal(printable('\x1b]0;pwned\x07\x1b[2J\rMallory\x9b2J\u202e!'), 'Mallory!');
  assert.equal(printable('a\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\b\x9dt\x9c'), 'alinkb');
  assert.equal(printable('FABFIBER\\peter Zoë'), 'FABFIBER\\peter Zoë');
  const evil = '\x1b]0;t\x07\x1b[2JEvil\r';
  const url = 'https://dev.azure.com/fabfiber';
  const addon = {
    storageInfo: () => ({ backend: 'keyring', persistent: true, location: `loc${evil}`, reason: `why${evil}` }),
    listLogins: async () => [{ serviceUrl: url, normalizedUrl: url, authType: 'basic', username: `u${evil}`, isDefault: true }],
    getDefaultServiceUrl: async () => url,
    resolveCredential: async () => null,
    getSkipCertValidation: async () => false,
    getCredential: async () => ({ type: 'basic', username: 'u', password: 'p' }),
    validateConnection: async () => { throw Object.assign(new Error(`refused by ${evil}`), { code: 'AUTH_REJECTED' }); },
  };
  let stdout = '';
  const code = await main({ argv: ['status'], addon, env: {}, stdout: { write: (s) => { stdout += s; } }, stderr: { write: () => {} } });
  assert.equal(code, 1);
  assert.ok(!CONTROL.test(stdout), JSON.stringify(stdout));
  assert.ok(stdout.includes('  - refused by Evil\n') && stdout.includes('basic (user uEvil)'), stdout);
});

test('status: one login with an absurd expiry is reported on its line; the others still print', async () => {
  // The fake servers are plain http on loopback: listed, so the Entra logins are checked there.
  const e = env('status-expiry', { TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' });
  const token = makeSecret('pat');
  const accessToken = makeSecret('entra');
  const stored = makeSecret('entra');
  const pats = await server({ tokens: [token] });
  const entra = await server({ bearerTokens: [accessToken, stored], collection: 'entra' });
  const fromOldVersion = await server({ bearerTokens: [stored], collection: 'old' });
  await loginWithTfx(e, pats.url, token);
  await store(e, entra.url, { type: 'entra', accessToken, expiresOn: 1e300 });
  // A stored expiry near u64::MAX, as only a hand-written or corrupt item has it.
  const secretTool = await run('secret-tool', ['store', '--label=tfx-auth test', 'service', 'tfx-auth', 'username', key(fromOldVersion.url)], {
    env: e.env, input: `entra:{"v":1,"accessToken":"${stored}","expiresAt":18446744073709551615}`, recordOutput: false,
  });
  assert.equal(secretTool.code, 0, secretTool.stderr);

  const human = await tfxAuth(['status'], e.env);
  assert.equal(human.stderr, '');
  assert.equal(human.code, 0, human.stdout);
  for (const u of [pats.url, entra.url, key(fromOldVersion.url)]) assert.match(human.stdout, new RegExp(`\n${u}( \\(default\\))?\n  ✓ Logged in as`), u);
  const json = await tfxAuth(['status', '--json'], e.env);
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout).logins.map((l) => [l.authType, l.valid, l.expiresOn ?? null]).sort(),
    [['entra', true, null], ['entra', true, null], ['pat', true, null]]);
});

test('status: a stored Entra login for a URL outside the Entra host rule is not sent there', async () => {
  const e = env('status-entra-unlisted', { TFX_AUTH_ENTRA_HOSTS: '' });
  const accessToken = makeSecret('entra');
  const entra = await server({ bearerTokens: [accessToken], collection: 'unlisted' });
  await store(e, entra.url, { type: 'entra', accessToken });
  const json = await tfxAuth(['status', '--json'], e.env);
  const [login] = JSON.parse(json.stdout).logins;
  assert.deepEqual([login.valid, login.error?.code], [false, 'ENTRA_HOST_NOT_ALLOWED'], json.stdout);
  assert.deepEqual(entra.requests.filter((q) => q.headers.authorization), [], 'the token reached no request');
});

test('status: a fake addon reporting an absurd expiry still prints every login (in-process)', async () => {
  const { main } = await import('../bin/tfx-auth.js');
  const logins = ['https://dev.azure.com/a', 'https://dev.azure.com/b'].map((u, i) => ({
    serviceUrl: u, normalizedUrl: u, authType: i === 0 ? 'entra' : 'pat', isDefault: i === 1, expiresOn: i === 0 ? 1e300 : undefined,
  }));
  const addon = {
    storageInfo: () => ({ backend: 'keyring', persistent: true, location: 'tfx-auth', reason: 'r' }),
    listLogins: async () => logins,
    getDefaultServiceUrl: async () => logins[1].serviceUrl,
    resolveCredential: async () => null,
    getSkipCertValidation: async () => false,
    getCredential: async (u) => (u === logins[0].serviceUrl ? { type: 'entra', accessToken: 'x', expiresOn: 1.8e22 } : { type: 'pat', token: 'x' }),
    validateConnection: async () => ({ authenticatedUser: { id: '1', displayName: 'Peter' } }),
  };
  let stdout = '';
  const code = await main({ argv: ['status'], addon, env: {}, stdout: { write: (s) => { stdout += s; } }, stderr: { write: () => {} } });
  assert.equal(code, 0, stdout);
  assert.ok(stdout.includes('\nhttps://dev.azure.com/a\n  ✓ Logged in as Peter\n  - Auth type: Microsoft Entra ID\n  - Access token: expiry unknown (the stored expiry is not a valid time)\n'), stdout);
  assert.ok(stdout.includes('\nhttps://dev.azure.com/b (default)\n  ✓ Logged in as Peter\n'), stdout);
});

test('logout: a URL, the default, then nothing left; messages say what happened', async () => {
  const e = env('logout');
  const token = makeSecret('pat');
  const ok = await server({ tokens: [token] });
  const other = 'https://dev.azure.com/Fabrikam';
  await store(e, other, { type: 'pat', token: makeSecret('pat') });
  await loginWithTfx(e, ok.url, token);

  const table = [
    [['logout', 'https://dev.azure.com/fabrikam/'], `Logged out of https://dev.azure.com/fabrikam/.\n`],
    [['logout', other], `No stored login for ${other}.\n`],
    [['logout'], `Logged out of ${ok.url}.\n`],
    [['logout'], 'No default login; nothing to log out. (tfx-auth status lists the stored logins.)\n'],
  ];
  for (const [args, stdout] of table) {
    const r = await tfxAuth(args, e.env);
    assert.deepEqual([r.code, r.stdout, r.stderr], [0, stdout, ''], args.join(' '));
  }
  assert.equal(await keyringLookup(key(ok.url), keyring.address), '');
  assert.equal(await keyringLookup('https://dev.azure.com/fabrikam', keyring.address), '');
});

test('logout --all: every login, tfx-cli plaintext ones included', async () => {
  const e = env('logout-all');
  const urls = ['https://dev.azure.com/a', 'https://dev.azure.com/b', 'http://tfs.example:8080/tfs/DefaultCollection'];
  for (const u of urls) await store(e, u, { type: 'pat', token: makeSecret('pat') });
  const legacy = join(e.HOME, '.tfx', 'https__dev.azure.com_legacy');
  mkdirSync(legacy, { recursive: true });
  writeFileSync(join(legacy, '.allusers'), `pat:${makeSecret('legacy')}`);

  const r = await tfxAuth(['logout', '--all'], e.env);
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, 'Removed 4 logins.\n', '']);
  assert.equal(existsSync(join(legacy, '.allusers')), false);
  for (const u of [...urls, 'https://dev.azure.com/legacy']) assert.equal(await keyringLookup(key(u), keyring.address), '');
  const again = await tfxAuth(['logout', '--all'], e.env);
  assert.deepEqual([again.code, again.stdout], [0, 'Removed 0 logins.\n']);
  const listed = await runAddonScript('out(await addon.listLogins());', e.env);
  assert.equal(listed.stdout, '[]\n');
});

test('migrate: moves tfx-cli plaintext logins, reports the ones it cannot place', async () => {
  const e = env('migrate');
  const tfxDir = join(e.HOME, '.tfx');
  const write = (folder, content) => {
    mkdirSync(join(tfxDir, folder), { recursive: true });
    writeFileSync(join(tfxDir, folder, '.allusers'), content, { mode: 0o644 });
    return join(tfxDir, folder, '.allusers');
  };
  const token = makeSecret('legacy');
  const password = makeSecret('legacy');
  const pat = write('http__127.0.0.118080_DefaultCollection', `pat:${token}`);
  const basic = write('http__localhost_tfs_DefaultCollection', `basic:fabfiber\\peter:${password}`);
  const ambiguous = write('http__10.0.0.18080_DefaultCollection', `pat:${makeSecret('legacy')}`);
  // tfx-cli's last login names the first folder's URL (its ':' is lost in the folder name).
  mkdirSync(join(tfxDir, 'cache'), { recursive: true });
  writeFileSync(join(tfxDir, 'cache', '.connection'), 'http://127.0.0.1:18080/DefaultCollection');

  const r = await tfxAuth(['migrate'], e.env);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const status = JSON.parse((await tfxAuth(['status', '--json', '--timeout-ms', '200'], e.env)).stdout);
  assert.equal(r.stdout, [
    `Moved 2 logins into the OS keyring: ${status.storage.location}:`,
    `  ✓ http://127.0.0.1:18080/DefaultCollection (personal access token); deleted ${pat}`,
    `  ✓ http://localhost/tfs/DefaultCollection (basic); deleted ${basic}`,
    'Skipped 1 file (left in place):',
    `  X ${ambiguous}: the URL cannot be recovered from the folder name; log in again with tfx login`,
  ].join('\n') + '\n');
  assert.equal(existsSync(pat) || existsSync(basic), false);
  assert.equal(existsSync(ambiguous), true);
  assert.equal(await keyringLookup('http://127.0.0.1:18080/defaultcollection', keyring.address), `pat:${token}`);
  assert.equal(await keyringLookup('http://localhost/tfs/defaultcollection', keyring.address), `basic:fabfiber\\peter:${password}`);
  assert.deepEqual(status.logins.map((l) => [l.serviceUrl, l.authType, l.username, l.isDefault]), [
    ['http://127.0.0.1:18080/DefaultCollection', 'pat', null, true],
    ['http://localhost/tfs/DefaultCollection', 'basic', 'fabfiber\\peter', false],
  ]);

  const json = await tfxAuth(['migrate', '--json'], e.env);
  assert.deepEqual(JSON.parse(json.stdout), { migrated: [], skipped: [{ path: ambiguous, reason: 'the URL cannot be recovered from the folder name; log in again with tfx login' }] });
  rmSync(ambiguous);
  const nothing = await tfxAuth(['migrate'], e.env);
  assert.equal(nothing.stdout, `No tfx-cli plaintext logins under ${tfxDir}; nothing to migrate.\n`);
});

test('token: prints the stored secret for scripts, or fails with NOT_LOGGED_IN', async () => {
  const e = env('token');
  const token = makeSecret('pat');
  const password = `${makeSecret('pw')}:with colon`;
  const ok = await server({ tokens: [token] });
  await loginWithTfx(e, ok.url, token);
  await store(e, 'http://tfs.example:8080/tfs/DefaultCollection', { type: 'basic', username: 'fabfiber\\peter', password });

  const cases = [
    [['token'], 0, `${token}\n`, ''],
    [['token', `${ok.url.toUpperCase().replace('HTTP://', 'http://')}/`], 0, `${token}\n`, ''],
    [['token', 'http://TFS.example:8080/tfs/DefaultCollection'], 0, `${password}\n`, ''],
    [['token', 'https://dev.azure.com/nobody'], 1, '',
      'error: Not logged in to https://dev.azure.com/nobody. Log in with: tfx login --service-url https://dev.azure.com/nobody\n'],
    [['token', 'not a url'], 1, '', 'error: invalid service URL: the URL contains spaces, line breaks or control characters\n'],
  ];
  for (const [args, code, stdout, stderr] of cases) {
    const r = await tfxAuth(args, e.env, { recordOutput: false });
    assert.deepEqual([r.code, r.stdout, r.stderr], [code, stdout, stderr], args.join(' '));
  }
  await tfxAuth(['logout'], e.env);
  const none = await tfxAuth(['token'], e.env);
  assert.deepEqual([none.code, none.stdout, none.stderr], [1, '',
    'error: Not logged in: there is no default login. Log in with: tfx login --service-url <url>, or name one: tfx-auth token <url>\n']);
});

test('usage errors and help', async () => {
  const e = env('usage');
  const cases = [
    [['frob'], 1, '', 'error: unknown command "frob"; see tfx-auth --help\n'],
    [['status', '--frob'], 1, '', 'error: unknown option --frob for tfx-auth status; see tfx-auth --help\n'],
    [['status', '--timeout-ms'], 1, '', 'error: --timeout-ms needs a value; see tfx-auth --help\n'],
    [['status', '--timeout-ms', 'soon'], 1, '', 'error: --timeout-ms wants a whole number of milliseconds from 1 to 600000, got "soon"\n'],
    [['status', '--timeout-ms', '600001'], 1, '', 'error: --timeout-ms wants a whole number of milliseconds from 1 to 600000, got "600001"\n'],
    [['status', 'extra'], 1, '', 'error: unexpected argument "extra" for tfx-auth status; see tfx-auth --help\n'],
    [['logout', 'https://dev.azure.com/a', '--all'], 1, '', 'error: give a URL or --all, not both\n'],
    [['token', 'a', 'b'], 1, '', 'error: unexpected argument "b" for tfx-auth token; see tfx-auth --help\n'],
  ];
  for (const [args, code, stdout, stderr] of cases) {
    const r = await tfxAuth(args, e.env);
    assert.deepEqual([r.code, r.stdout, r.stderr], [code, stdout, stderr], args.join(' '));
  }
  const help = await tfxAuth(['--help'], e.env);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^tfx-auth: the logins tfx .*\n\nUsage:\n  tfx-auth status \[--json\] \[--timeout-ms N\]\n/);
  for (const sub of ['logout [url] [--all]', 'migrate [--json]', 'token [url]']) assert.ok(help.stdout.includes(`tfx-auth ${sub}`), sub);
  const sub = await tfxAuth(['status', '--help'], e.env);
  assert.deepEqual([sub.code, sub.stdout], [0, help.stdout]);
  const bare = await tfxAuth([], e.env);
  assert.deepEqual([bare.code, bare.stdout, bare.stderr], [1, '', help.stdout]);
});

test('leak check: no secret of this suite in any output or file', () => {
  assert.deepEqual(findLeaks({ dirs: [base] }), []);
});
