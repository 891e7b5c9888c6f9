// Microsoft Entra ID sign-in end to end: the addon's two-step device code login and the real
// tfx-cli (`tfx login --auth-type entra`, then commands with a Bearer token) against a loopback
// fake authority (fixtures/fake-authority.mjs: RFC 8628 and the refresh grant) and the fake
// Azure DevOps server accepting only the access tokens that authority issued. The test plays the
// user: it reads the code from stderr (or the addon's answer) and approves it at the authority.
// Logins go to a private gnome-keyring; every token issued is scanned for at the end.
import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startFakeAdo, IDS } from './fixtures/fake-ado.mjs';
import { startFakeAuthority, AZURE_CLI_CLIENT_ID, RESOURCE } from './fixtures/fake-authority.mjs';
import { ROOT, isolateThisProcess, makeSecret, rememberSecret, record, rejection, runAddonScript, findLeaks, filesUnder } from './helpers.mjs';
import * as tfxHelpers from './tfx-helpers.mjs';

const { startPrivateKeyring, commandEnv, tfx, tfxAuth, keyringLookup, basicHeader, BANNER, TFX } = tfxHelpers;
// The addon and the working folder under test (an installed package when tfx-helpers says so).
const loadAddon = tfxHelpers.loadAddon ?? (() => createRequire(import.meta.url)('../index.js'));
const CWD = tfxHelpers.CWD ?? ROOT;

const self = isolateThisProcess('entra-self');
// The fakes run on loopback, outside Azure DevOps Services: Entra tokens may go there only
// because the user lists the host (the Entra host rule, src/entra/hosts.rs). Set before the
// addon loads: it reads the environment once.
const LISTED = { TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' };
process.env.TFX_AUTH_ENTRA_HOSTS = LISTED.TFX_AUTH_ENTRA_HOSTS;
const base = mkdtempSync(join(tmpdir(), 'tfx-entra-'));
const PATH = [dirname(process.execPath), ...(process.env.PATH || '').split(':')].join(':');
const SCOPE = `${RESOURCE}/.default offline_access`;

let keyring;
let addon;
const closers = [];

before(async () => {
  keyring = await startPrivateKeyring();
  process.env.DBUS_SESSION_BUS_ADDRESS = keyring.address;
  addon = loadAddon();
});

afterEach(async () => {
  const r = await runAddonScript('out(await addon.logoutAll());', commandEnv(base, 'cleanup', keyring.address).env);
  assert.equal(r.code, 0, r.stderr);
  await Promise.all(closers.splice(0).map((close) => close()));
});

after(async () => {
  await keyring?.stop();
  rmSync(base, { recursive: true, force: true });
  rmSync(self.base, { recursive: true, force: true });
});

/** A fake authority and a fake Azure DevOps server that trusts exactly its access tokens. */
async function fakes(authorityOptions = {}, adoOptions = {}) {
  const authority = await startFakeAuthority({ onSecret: rememberSecret, ...authorityOptions });
  const ado = await startFakeAdo({ bearerTokens: authority.acceptsAccessToken, ...adoOptions });
  closers.push(() => ado.close(), () => authority.close());
  return { authority, ado };
}

const env = (label, authority, extra = {}) =>
  commandEnv(base, label, keyring.address, { PATH, TFX_AUTH_ENTRA_AUTHORITY: authority.url, ...LISTED, ...extra });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(condition, what, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const key = (url) => addon.normalizeServiceUrl(url);
const buildRequests = (s) => s.requests.filter((q) => /\/_apis\/build\/builds$/i.test(q.pathname));
const connectionData = (s) => s.requests.filter((q) => /\/_apis\/connectiondata$/i.test(q.pathname));
const bearer = (request) => /^Bearer (.+)$/.exec(request?.headers?.authorization ?? '')?.[1] ?? null;
const stored = async (url) => {
  const text = await keyringLookup(key(url), keyring.address);
  assert.ok(text.startsWith('entra:'), 'an Entra login is stored');
  return JSON.parse(text.slice('entra:'.length));
};
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const signInLine = (authority, code) =>
  `To sign in, open ${authority.url}/devicelogin in a browser and enter the code ${code} (valid for 15 min).\n`;

/** Starts a tfx command, lets the test read its stderr while it runs. */
function startTfx(args, e, { input } = {}) {
  const child = spawn(process.execPath, [TFX, ...args], { env: e.env, cwd: CWD, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.on('error', () => {});
  child.stdin.end(input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    record(stdout);
    record(stderr);
    resolve({ code, stdout, stderr });
  }));
  return {
    child,
    done,
    /** The user code once tfx has shown it. */
    async userCode() {
      await until(() => /enter the code \S+ /.test(stderr) || child.exitCode !== null, 'the sign-in code on stderr');
      const m = /enter the code (\S+) /.exec(stderr);
      if (!m) throw new Error(`no code on stderr: ${stderr}`);
      return m[1];
    },
  };
}

/** `tfx login --auth-type entra` through to the end, approving the code like a user. */
async function tfxLoginEntra(e, authority, url, extra = []) {
  const run = startTfx(['login', '--auth-type', 'entra', '--service-url', url, ...extra], e);
  authority.approve(await run.userCode());
  return run.done;
}

// ---- the fixture itself ---------------------------------------------------------

test('fake authority: RFC 8628 answers (pending, slow_down when too fast, denied, expired) and rotating refresh tokens', async () => {
  const { authority } = await fakes({ interval: 1 });
  const post = async (path, form) => {
    const r = await fetch(`${authority.url}${path}`, { method: 'POST', body: new URLSearchParams(form) });
    return { status: r.status, body: await r.json() };
  };
  const start = () => post(`/${IDS.tenant}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI_CLIENT_ID, scope: SCOPE });
  const poll = (dc) => post(`/${IDS.tenant}/oauth2/v2.0/token`, { grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: AZURE_CLI_CLIENT_ID, device_code: dc });

  const a = (await start()).body;
  rememberSecret(a.device_code);
  assert.deepEqual(Object.keys(a).sort(), ['device_code', 'expires_in', 'interval', 'message', 'user_code', 'verification_uri']);
  assert.deepEqual([(await poll(a.device_code)).body.error, (await poll(a.device_code)).body.error], ['authorization_pending', 'slow_down']);
  authority.approve(a.user_code);
  await sleep(6_100); // the interval is now 1 + 5 s
  const tokens = await poll(a.device_code);
  assert.equal(tokens.status, 200);
  assert.ok(authority.acceptsAccessToken(tokens.body.access_token));
  assert.equal((await poll(a.device_code)).body.error, 'bad_verification_code', 'a code is redeemed once');

  const refresh = (rt) => post(`/${IDS.tenant}/oauth2/v2.0/token`, { grant_type: 'refresh_token', client_id: AZURE_CLI_CLIENT_ID, refresh_token: rt, scope: SCOPE });
  const renewed = await refresh(tokens.body.refresh_token);
  assert.equal(renewed.status, 200);
  assert.notEqual(renewed.body.refresh_token, tokens.body.refresh_token);
  assert.deepEqual([(await refresh(tokens.body.refresh_token)).body.error_codes], [[50173]], 'the rotated one is spent');

  const denied = (await start()).body;
  authority.deny(denied.user_code);
  assert.equal((await poll(denied.device_code)).body.error, 'access_denied');
  const expired = (await start()).body;
  authority.expire(expired.user_code);
  assert.equal((await poll(expired.device_code)).body.error, 'expired_token');
  assert.equal((await post(`/${IDS.tenant}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI_CLIENT_ID, scope: 'openid' })).body.error, 'invalid_scope');
});

// ---- the addon ------------------------------------------------------------------------

test('addon: startEntraLogin finds the tenant and gets a code; complete() polls until approved, validates with Bearer, stores one entra: secret', async () => {
  const { authority, ado } = await fakes();
  const signIn = await addon.startEntraLogin(ado.url, { authority: authority.url });

  // Discovery: one unauthenticated connectionData request, answered 401 with the tenant.
  assert.equal(ado.requests.length, 1);
  assert.equal(ado.requests[0].headers.authorization, undefined);
  assert.equal(signIn.tenant, IDS.tenant);
  const [devicecode] = authority.requests;
  assert.deepEqual([devicecode.path, devicecode.form], [`/${IDS.tenant}/oauth2/v2.0/devicecode`, { client_id: AZURE_CLI_CLIENT_ID, scope: SCOPE }]);
  assert.match(signIn.userCode, /^[A-Z0-9]{9}$/);
  assert.equal(signIn.verificationUri, `${authority.url}/devicelogin`);
  assert.equal(`${signIn.message}\n`, signInLine(authority, signIn.userCode));
  assert.ok(Math.abs(signIn.expiresOn - (Date.now() + 900_000)) < 5_000);

  const completing = signIn.complete();
  await until(() => authority.answers(signIn.userCode).length >= 2, 'two polls');
  authority.approve(signIn.userCode);
  const result = await completing;
  assert.equal(result.connection.authenticatedUser.uniqueName, 'peter@fabfiber.com');
  assert.equal(result.storage.backend, 'keyring');
  assert.deepEqual(authority.answers(signIn.userCode).slice(-1), ['tokens']);
  assert.ok(authority.answers(signIn.userCode).slice(0, -1).every((a) => a === 'authorization_pending'));
  const times = authority.pollTimes(signIn.userCode);
  for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 950, `polls ${times[i] - times[i - 1]} ms apart`);

  const secret = await stored(ado.url);
  assert.deepEqual(Object.keys(secret).sort(), ['accessToken', 'authority', 'clientId', 'expiresAt', 'refreshToken', 'tenant', 'v']);
  assert.deepEqual([secret.authority, secret.tenant, secret.clientId], [`${authority.url}/${IDS.tenant}`, IDS.tenant, AZURE_CLI_CLIENT_ID]);
  assert.ok(secret.accessToken.length + secret.refreshToken.length > 2560, 'bigger than a Windows credential blob');
  assert.equal(bearer(connectionData(ado).at(-1)), secret.accessToken, 'validated with the new token');

  const credential = await addon.getCredential(ado.url);
  assert.deepEqual(credential, { type: 'entra', accessToken: secret.accessToken, expiresOn: secret.expiresAt * 1000 });
  const [login] = await addon.listLogins();
  assert.deepEqual(login, { serviceUrl: ado.url, normalizedUrl: key(ado.url), authType: 'entra', isDefault: true, expiresOn: secret.expiresAt * 1000, tenant: IDS.tenant });
  assert.equal(authority.refreshes().length, 0, 'an hour-long token is not renewed');
  assert.equal((await rejection(signIn.complete())).code, 'INVALID_CREDENTIAL', 'a sign-in completes once');
});

test('addon: declined, expired and aborted sign-ins reject with their codes and store nothing; settings are checked first', async () => {
  const { authority, ado } = await fakes();
  const opts = { authority: authority.url };

  const declined = await addon.startEntraLogin(ado.url, opts);
  authority.deny(declined.userCode);
  const d = await rejection(declined.complete());
  assert.equal(d.code, 'SIGN_IN_DECLINED');
  assert.equal(d.message, `the sign-in was declined at ${authority.url}/${IDS.tenant}/oauth2/v2.0/token. Run the login again and approve it, or use a personal access token.`);

  const expired = await addon.startEntraLogin(ado.url, opts);
  authority.expire(expired.userCode);
  assert.equal((await rejection(expired.complete())).code, 'SIGN_IN_EXPIRED');

  const aborted = await addon.startEntraLogin(ado.url, opts);
  const controller = new AbortController();
  const completing = aborted.complete({ signal: controller.signal });
  await until(() => authority.answers(aborted.userCode).length >= 1, 'a poll');
  const t0 = Date.now();
  controller.abort();
  assert.equal((await rejection(completing)).code, 'ABORTED');
  assert.ok(Date.now() - t0 < 500, 'at once, not at the next poll');
  assert.equal((await rejection(addon.startEntraLogin(ado.url, { ...opts, signal: AbortSignal.abort() }))).code, 'ABORTED');

  assert.deepEqual(await addon.listLogins(), []);
  assert.equal(await keyringLookup(key(ado.url), keyring.address), '');

  // A given tenant skips discovery; bad settings fail before any request.
  const before = ado.requests.length;
  const given = await addon.startEntraLogin(ado.url, { ...opts, tenant: 'fabfiber.onmicrosoft.com' });
  assert.equal(given.tenant, 'fabfiber.onmicrosoft.com');
  assert.equal(authority.requests.at(-1).path, '/fabfiber.onmicrosoft.com/oauth2/v2.0/devicecode');
  assert.equal(ado.requests.length, before);
  const sent = authority.requests.length;
  for (const [options, code] of [
    [{ authority: 'http://login.example.com/organizations' }, 'INVALID_URL'],
    [{ ...opts, tenant: '../x' }, 'INVALID_URL'],
    [{ ...opts, clientId: 'not-a-guid' }, 'INVALID_CREDENTIAL'],
  ]) {
    assert.equal((await rejection(addon.startEntraLogin(ado.url, options))).code, code, JSON.stringify(options));
  }
  assert.equal(authority.requests.length, sent);
});

test('addon: a client id the tenant does not know is AUTHORITY_ERROR with the AADSTS code; a down organisation fails before the sign-in', async () => {
  const { authority, ado } = await fakes({ clientIds: [AZURE_CLI_CLIENT_ID] });
  const other = '872cd9fa-d31f-45e0-9eab-6e460a02d1f1';
  const err = await rejection(addon.startEntraLogin(ado.url, { authority: authority.url, clientId: other }));
  assert.equal(err.code, 'AUTHORITY_ERROR');
  assert.equal(err.status, 400);
  assert.match(err.message, /refused the request: unauthorized_client, AADSTS700016 \(HTTP 400\)/);
  assert.equal(authority.requests.at(-1).form.client_id, other);

  const down = await startFakeAdo();
  await down.close();
  const sent = authority.requests.length;
  assert.equal((await rejection(addon.startEntraLogin(down.url, { authority: authority.url }))).code, 'NETWORK_ERROR');
  assert.equal(authority.requests.length, sent);
});

test('addon: slow_down makes the next poll wait 5 s more', async () => {
  const { authority, ado } = await fakes();
  const signIn = await addon.startEntraLogin(ado.url, { authority: authority.url });
  authority.slowDownNext(signIn.userCode);
  const completing = signIn.complete();
  await until(() => authority.answers(signIn.userCode).length >= 1, 'the first poll');
  authority.approve(signIn.userCode);
  await completing;
  const times = authority.pollTimes(signIn.userCode);
  assert.deepEqual(authority.answers(signIn.userCode), ['slow_down', 'tokens']);
  assert.ok(times[1] - times[0] >= 5_900, `${times[1] - times[0]} ms after slow_down`);
});

test('addon: getCredential renews a token about to expire, stores the rotated refresh token, and renews once for concurrent callers', async () => {
  const { authority, ado } = await fakes({ accessTokenTtl: 3 });
  const signIn = await addon.startEntraLogin(ado.url, { authority: authority.url });
  authority.approve(signIn.userCode);
  await signIn.complete();
  const first = await stored(ado.url);

  const [a, b] = await Promise.all([addon.getCredential(ado.url), addon.getCredential(ado.url)]);
  assert.equal(a.accessToken, b.accessToken);
  assert.notEqual(a.accessToken, first.accessToken);
  assert.deepEqual(authority.refreshes(), [first.refreshToken]);
  const second = await stored(ado.url);
  assert.equal(second.accessToken, a.accessToken);
  assert.notEqual(second.refreshToken, first.refreshToken);
  assert.deepEqual([second.authority, second.tenant, second.clientId], [first.authority, first.tenant, first.clientId]);

  const c = await addon.getCredential(ado.url);
  assert.deepEqual(authority.refreshes(), [first.refreshToken, second.refreshToken], 'the rotated token is the one used next');
  assert.equal(c.accessToken, (await stored(ado.url)).accessToken);
  const info = await addon.validateConnection(ado.url, c);
  assert.equal(info.authenticatedUser.uniqueName, 'peter@fabfiber.com');
});

test('renewals in many processes at once: each waits for the one renewing, none is told to sign in again', async () => {
  // Every access token is due at once (3 s left, the margin is 5 min) and the authority revokes
  // a refresh token when it is used: a process that renews with a token another process has
  // just spent would get REAUTH_REQUIRED, unless renewals take turns.
  const { authority, ado } = await fakes({ accessTokenTtl: 3 });
  const e = env('many', authority);
  const login = await tfxLoginEntra(e, authority, ado.url);
  assert.equal(login.code, 0, login.stderr);
  // Each process renews (or takes the renewed token) and opens the organisation with it.
  const url = JSON.stringify(ado.url);
  const script = `const c = await addon.getCredential(${url});
out({ user: (await addon.validateConnection(${url}, c)).authenticatedUser.uniqueName });`;
  const runs = await Promise.all(Array.from({ length: 12 }, () => runAddonScript(script, e.env)));
  const answers = runs.map((r) => JSON.parse(r.stdout.trim().split('\n').at(-1)));
  assert.deepEqual(answers, answers.map(() => ({ user: 'peter@fabfiber.com' })));
  const spent = authority.refreshes();
  assert.equal(new Set(spent).size, spent.length, 'no refresh token was used twice');
});

// ---- the tfx drop-in --------------------------------------------------------------------

test('tfx login --auth-type entra: the code on stderr, the test approves it; tfx build list reuses the login with Bearer; status, token, logout', async () => {
  const { authority, ado } = await fakes();
  const e = env('tfx', authority);

  // The fast path (no prompt needed) ...
  const run = startTfx(['login', '--auth-type', 'entra', '--service-url', ado.url], e);
  const code = await run.userCode();
  authority.approve(code);
  const login = await run.done;
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, `${BANNER}Logged in successfully\n`, signInLine(authority, code)]);
  const { accessToken, expiresAt } = await stored(ado.url);

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  assert.equal(bearer(buildRequests(ado)[0]), accessToken);
  assert.equal(authority.refreshes().length, 0);

  const status = await tfxAuth(['status', '--json'], e.env);
  assert.equal(status.code, 0, status.stdout);
  const report = JSON.parse(status.stdout);
  assert.deepEqual(report.source, { kind: 'stored', label: 'stored login', defaultServiceUrl: ado.url });
  assert.deepEqual(report.logins, [{
    serviceUrl: ado.url, normalizedUrl: key(ado.url), authType: 'entra', username: null, isDefault: true,
    skipCertValidation: false, valid: true, tenant: IDS.tenant, expiresOn: iso(expiresAt * 1000),
    user: { id: IDS.user, displayName: 'Peter Fabfiber', uniqueName: 'peter@fabfiber.com' },
  }]);
  const human = await tfxAuth(['status'], e.env);
  assert.ok(human.stdout.endsWith([
    `${ado.url} (default)`,
    '  ✓ Logged in as Peter Fabfiber (peter@fabfiber.com)',
    `  - Auth type: Microsoft Entra ID (tenant ${IDS.tenant})`,
    `  - Access token: valid until ${iso(expiresAt * 1000)}, renewed automatically`,
  ].join('\n') + '\n'), human.stdout);
  const token = await tfxAuth(['token'], e.env, { recordOutput: false });
  assert.deepEqual([token.code, token.stdout], [0, `${accessToken}\n`]);

  const logout = await tfx(['logout'], e.env);
  assert.deepEqual([logout.code, logout.stdout], [0, `${BANNER}Successfully logged out.\n`]);
  assert.equal(await keyringLookup(key(ado.url), keyring.address), '');
});

test('tfx login --auth-type entra through the hooked tfx-cli (URL prompt) and with --json prints what the fast path prints', async () => {
  const { authority, ado } = await fakes();
  const e = env('hooked', authority);
  const run = startTfx(['login', '--auth-type', 'entra'], e, { input: `${ado.url}\n` });
  const code = await run.userCode();
  authority.approve(code);
  const login = await run.done;
  assert.deepEqual([login.code, login.stdout, login.stderr], [0, `${BANNER}> Service URL: Logged in successfully\n`, signInLine(authority, code)]);
  assert.equal(bearer(connectionData(ado).at(-1)), (await stored(ado.url)).accessToken);

  const json = startTfx(['login', '--auth-type', 'entra', '--service-url', ado.url, '--json'], e);
  const again = await json.userCode();
  authority.approve(again);
  const r = await json.done;
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, '{\n    "success": true\n}\n', signInLine(authority, again)]);

  // A command asking for Entra without a login says how to get one. (The keyring is one per
  // user, not per HOME: another collection of the same server has no login.)
  const none = env('hooked-none', authority);
  const other = `${ado.origin}/OtherCollection`;
  const list = await tfx(['build', 'list', '--project', 'P', '--auth-type', 'entra', '--service-url', other], none.env);
  assert.deepEqual([list.code, list.stderr], [255,
    `error: Error: Not signed in to ${other} with Microsoft Entra ID. Run: tfx login --service-url ${other} --auth-type entra\n`]);
});

test('tfx login --auth-type entra: a declined sign-in and a Ctrl-C exit 255 and store nothing', async () => {
  const { authority, ado } = await fakes();
  const e = env('declined', authority);
  const run = startTfx(['login', '--auth-type', 'entra', '--service-url', ado.url], e);
  const code = await run.userCode();
  authority.deny(code);
  const r = await run.done;
  assert.deepEqual([r.code, r.stdout, r.stderr], [255, BANNER,
    `${signInLine(authority, code)}error: Error: the sign-in was declined at ${authority.url}/${IDS.tenant}/oauth2/v2.0/token. Run the login again and approve it, or use a personal access token.\n`]);

  const interrupted = startTfx(['login', '--auth-type', 'entra', '--service-url', ado.url], e);
  const second = await interrupted.userCode();
  interrupted.child.kill('SIGINT');
  const i = await interrupted.done;
  assert.deepEqual([i.code, i.stderr], [255, `${signInLine(authority, second)}error: Error: the operation was aborted\n`]);
  assert.equal(await keyringLookup(key(ado.url), keyring.address), '');
});

test('silent refresh: with short-lived tokens every tfx command renews; old access and refresh tokens are refused', async () => {
  const { authority, ado } = await fakes({ accessTokenTtl: 3 });
  const e = env('refresh', authority);
  const login = await tfxLoginEntra(e, authority, ado.url);
  assert.equal(login.code, 0, login.stderr);
  const first = await stored(ado.url);
  await sleep(3_100);
  assert.equal(authority.acceptsAccessToken(first.accessToken), false, 'the first access token has expired');

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  const second = await stored(ado.url);
  assert.equal(bearer(buildRequests(ado)[0]), second.accessToken);
  assert.notEqual(second.accessToken, first.accessToken);
  assert.deepEqual(authority.refreshes(), [first.refreshToken]);

  const again = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.equal(again.code, 0, again.stderr);
  const third = await stored(ado.url);
  assert.deepEqual(authority.refreshes(), [first.refreshToken, second.refreshToken]);
  assert.equal(bearer(buildRequests(ado)[1]), third.accessToken);
});

test('REAUTH_REQUIRED after the refresh token is revoked: tfx says to sign in again, the login stays for status, logout removes it', async () => {
  const { authority, ado } = await fakes({ accessTokenTtl: 3 });
  const e = env('reauth', authority);
  assert.equal((await tfxLoginEntra(e, authority, ado.url)).code, 0);
  authority.revokeRefreshTokens();
  const message = `the Microsoft Entra sign-in for ${ado.url} can no longer be renewed (invalid_grant, AADSTS50173). Sign in again: tfx login --service-url ${ado.url} --auth-type entra`;

  const list = await tfx(['build', 'list', '--project', 'P'], e.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [255, BANNER, `error: Error: ${message}\n`]);
  assert.equal(buildRequests(ado).length, 0);
  const err = await rejection(addon.getCredential(ado.url));
  assert.deepEqual([err.code, err.message], ['REAUTH_REQUIRED', message]);
  assert.equal((await addon.listLogins()).length, 1, 'the login stays');

  const status = await tfxAuth(['status', '--json'], e.env);
  assert.equal(status.code, 1);
  const [l] = JSON.parse(status.stdout).logins;
  assert.deepEqual([l.authType, l.valid, l.error.code, l.error.fix], ['entra', false, 'REAUTH_REQUIRED', `run: tfx login --service-url ${ado.url} --auth-type entra`]);
  const human = await tfxAuth(['status'], e.env);
  assert.ok(human.stdout.includes(`\n${ado.url} (default)\n  X The Microsoft Entra sign-in can no longer be renewed (REAUTH_REQUIRED)\n  - ${message}\n  - Auth type: Microsoft Entra ID (tenant ${IDS.tenant})\n  - Access token: expires `), human.stdout);

  // Signing in again repairs it.
  assert.equal((await tfxLoginEntra(e, authority, ado.url)).code, 0);
  assert.equal((await tfx(['build', 'list', '--project', 'P'], e.env)).code, 0);

  const logout = await tfxAuth(['logout', ado.url], e.env);
  assert.deepEqual([logout.code, logout.stdout], [0, `Logged out of ${ado.url}.\n`]);
  assert.equal(await keyringLookup(key(ado.url), keyring.address), '');
});

// ---- non-interactive sources ------------------------------------------------------------

/** A fake `az` on PATH: logs its arguments, fetches a token from the fake authority (never on disk). */
function fakeAz(authority) {
  const dir = mkdtempSync(join(base, 'az-'));
  const log = join(dir, 'calls.log');
  const mode = join(dir, 'mode');
  writeFileSync(mode, 'ok');
  writeFileSync(join(dir, 'az'), `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + '\\n');
if (fs.readFileSync(${JSON.stringify(mode)}, 'utf8') === 'fail') {
  process.stderr.write("ERROR: Please run 'az login' to setup account.\\n");
  process.exit(1);
}
fetch(${JSON.stringify(`${authority.url}/_fake/az`)}).then((r) => r.text()).then((t) => process.stdout.write(t));
`);
  chmodSync(join(dir, 'az'), 0o755);
  return {
    path: `${dir}:${PATH}`,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8') : '').split('\n').filter(Boolean).map((l) => JSON.parse(l)),
    fail: () => writeFileSync(mode, 'fail'),
  };
}

test('environment sources: flags > AZURE_DEVOPS_EXT_PAT > TFX_ENTRA_TOKEN > SYSTEM_ACCESSTOKEN > stored login > Azure CLI; status says which', async () => {
  const storedPat = makeSecret('pat');
  const envPat = makeSecret('envpat');
  const flagPat = makeSecret('flagpat');
  const { authority, ado } = await fakes({}, { tokens: [storedPat, envPat, flagPat] });
  const entraToken = authority.issueAccessToken();
  const pipelineToken = authority.issueAccessToken();
  const e = env('sources', authority);
  assert.equal((await tfx(['login', '--service-url', ado.url, '--token', storedPat, '--no-prompt'], e.env)).code, 0);
  const all = { AZURE_DEVOPS_EXT_PAT: envPat, TFX_ENTRA_TOKEN: entraToken.token, SYSTEM_ACCESSTOKEN: pipelineToken.token, SYSTEM_COLLECTIONURI: `${ado.url}/` };
  const { AZURE_DEVOPS_EXT_PAT: _p, ...entraAndPipeline } = all;
  const cases = [
    [['--token', flagPat], all, basicHeader('OAuth', flagPat)],
    [[], all, basicHeader('OAuth', envPat)],
    [[], entraAndPipeline, `Bearer ${entraToken.token}`],
    [[], { SYSTEM_ACCESSTOKEN: pipelineToken.token, SYSTEM_COLLECTIONURI: ado.url }, `Bearer ${pipelineToken.token}`],
    [[], { TFX_ENTRA_TOKEN: '  ' }, basicHeader('OAuth', storedPat)],
  ];
  for (const [flags, extra, header] of cases) {
    const r = await tfx(['build', 'list', '--project', 'P', ...flags], { ...e.env, ...extra });
    assert.deepEqual([r.code, r.stderr], [0, ''], JSON.stringify(extra));
    assert.equal(buildRequests(ado).at(-1).headers.authorization, header, JSON.stringify(Object.keys(extra)));
  }

  const source = async (extra) => JSON.parse((await tfxAuth(['status', '--json'], { ...e.env, ...extra })).stdout).source;
  assert.deepEqual(await source(entraAndPipeline), {
    kind: 'env', label: 'environment (TFX_ENTRA_TOKEN)', variable: 'TFX_ENTRA_TOKEN', defaultServiceUrl: ado.url,
    authType: 'entra', expiresOn: iso(entraToken.expiresOn * 1000),
  });
  assert.equal((await source({ SYSTEM_ACCESSTOKEN: pipelineToken.token, SYSTEM_COLLECTIONURI: ado.url })).variable, 'SYSTEM_ACCESSTOKEN');
  assert.equal((await source(all)).variable, 'AZURE_DEVOPS_EXT_PAT');
  const human = await tfxAuth(['status'], { ...e.env, ...entraAndPipeline });
  assert.ok(human.stdout.includes(`\nCredential in effect: environment (TFX_ENTRA_TOKEN) (a Microsoft Entra ID access token, valid until ${iso(entraToken.expiresOn * 1000)}); tfx commands without --token or --username/--password use it instead of a stored login\n`), human.stdout);

  // tfx login never stores an Entra variable: without flags it prompts as stock does.
  const fresh = env('sources-login', authority, entraAndPipeline);
  const login = await tfx(['login', '--service-url', ado.url, '--no-prompt'], fresh.env);
  assert.deepEqual([login.code, login.stderr], [255, "error: Error: Missing required value for argument 'token'.\n"]);

  // The Azure CLI: asked only when nothing is stored for the URL (another collection: the
  // keyring is one per user, and the PAT above is stored for ado.url).
  const az = fakeAz(authority);
  const azUrl = `${ado.origin}/AzCollection`;
  // Its token is good for every organisation of the tenant: never to a host that is not Azure
  // DevOps over https (this loopback server) unless the user lists it.
  const unlisted = env('sources-az-unlisted', authority, { PATH: az.path, TFX_AUTH_ENTRA_HOSTS: '' });
  const before = buildRequests(ado).length;
  const refused = await tfx(['build', 'list', '--project', 'P', '--service-url', azUrl, '--no-prompt'], unlisted.env);
  assert.deepEqual([refused.code, refused.stderr], [255, "error: Error: Missing required value for argument 'token'.\n"]);
  assert.deepEqual(az.calls(), [], 'az is not even asked');
  assert.equal(buildRequests(ado).length, before, 'no request reached the server');
  const withAz = env('sources-az', authority, { PATH: az.path, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1' });
  const list = await tfx(['build', 'list', '--project', 'P', '--service-url', azUrl, '--no-prompt'], withAz.env);
  assert.deepEqual([list.code, list.stdout, list.stderr], [0, BANNER, '']);
  const azToken = bearer(buildRequests(ado).at(-1));
  assert.ok(azToken && authority.acceptsAccessToken(azToken), 'a token from az');
  assert.deepEqual(az.calls(), [['account', 'get-access-token', '--resource', RESOURCE, '--output', 'json']]);
  const azSource = await source({ PATH: az.path, HOME: withAz.HOME, XDG_CONFIG_HOME: withAz.XDG_CONFIG_HOME });
  assert.deepEqual(Object.keys(azSource), ['kind', 'label', 'authType', 'expiresOn', 'defaultServiceUrl']);
  assert.deepEqual([azSource.kind, azSource.label, azSource.defaultServiceUrl], ['azure-cli', 'Azure CLI (az account get-access-token)', null]);
  const withStored = await tfx(['build', 'list', '--project', 'P'], { ...e.env, PATH: az.path });
  assert.equal(withStored.code, 0);
  assert.equal(az.calls().length, 2, 'status asked az once more; the stored login needed no az');
  assert.equal(buildRequests(ado).at(-1).headers.authorization, basicHeader('OAuth', storedPat));

  // az on PATH but not logged in: a warning, then tfx's own prompt (here: --no-prompt).
  az.fail();
  const failed = await tfx(['build', 'list', '--project', 'P', '--service-url', azUrl, '--no-prompt'], withAz.env);
  assert.deepEqual([failed.code, failed.stderr], [255,
    "tfx-auth: warning: the Azure CLI gave no access token: az account get-access-token failed (ERROR: Please run 'az login' to setup account.). " +
    "Run `az login` (with the account that can open the organisation), or log in with tfx login.\n" +
    "error: Error: Missing required value for argument 'token'.\n"]);
});

test('the Entra host rule: TFX_ENTRA_TOKEN, SYSTEM_ACCESSTOKEN and az reach no server outside it; no token with --skip-cert-validation; an Entra sign-in outside it is refused before the authority hears of it', async () => {
  const { authority, ado } = await fakes();
  // A recording server on another port, where the job token is not issued for and which is not
  // listed: whatever reaches it is recorded.
  const recorder = await startFakeAdo({ bearerTokens: authority.acceptsAccessToken });
  closers.push(() => recorder.close());
  const entraToken = authority.issueAccessToken();
  const jobToken = authority.issueAccessToken();
  const az = fakeAz(authority);
  const unlisted = { TFX_AUTH_ENTRA_HOSTS: '' };
  const missing = "error: Error: Missing required value for argument 'token'.\n";
  const headers = (server) => server.requests.map((q) => q.headers.authorization ?? null);
  const cases = [
    ['TFX_ENTRA_TOKEN to an unlisted host', [], { TFX_ENTRA_TOKEN: entraToken.token, ...unlisted }],
    ['SYSTEM_ACCESSTOKEN with no collection named', [], { SYSTEM_ACCESSTOKEN: jobToken.token }],
    ['SYSTEM_ACCESSTOKEN for another collection (another port)', [], { SYSTEM_ACCESSTOKEN: jobToken.token, SYSTEM_COLLECTIONURI: `${ado.url}/` }],
    ['SYSTEM_ACCESSTOKEN for another collection (legacy name)', [], { SYSTEM_ACCESSTOKEN: jobToken.token, SYSTEM_TEAMFOUNDATIONCOLLECTIONURI: `${recorder.origin}/Other/` }],
    ['TFX_ENTRA_TOKEN with --skip-cert-validation', ['--skip-cert-validation'], { TFX_ENTRA_TOKEN: entraToken.token }],
    ['the Azure CLI with --skip-cert-validation', ['--skip-cert-validation'], { PATH: az.path }],
  ];
  for (const [what, flags, extra] of cases) {
    const e = env('rule', authority, extra);
    const r = await tfx(['build', 'list', '--project', 'P', '--service-url', recorder.url, '--no-prompt', ...flags], e.env);
    assert.deepEqual([r.code, r.stderr], [255, missing], what);
    assert.deepEqual(headers(recorder), [], `${what}: nothing reached the recording server`);
    assert.deepEqual(headers(ado), [], `${what}: nor the pipeline's own server`);
  }
  assert.deepEqual(az.calls(), [], 'az was not even asked');
  // The same URL and tokens where the rule allows them: the recorder would have seen them.
  const allowed = [
    [{ TFX_ENTRA_TOKEN: entraToken.token }, `Bearer ${entraToken.token}`],
    [{ SYSTEM_ACCESSTOKEN: jobToken.token, SYSTEM_COLLECTIONURI: `${recorder.url}/` }, `Bearer ${jobToken.token}`],
  ];
  for (const [extra, header] of allowed) {
    const r = await tfx(['build', 'list', '--project', 'P', '--service-url', recorder.url, '--no-prompt'], env('rule-ok', authority, extra).env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(buildRequests(recorder).at(-1).headers.authorization, header);
  }
  const seen = recorder.requests.length;
  // The JS API decides alike: the flag, and the URL's remembered choice.
  const viaApi = await runAddonScript(`
    out(await addon.resolveCredential(${JSON.stringify(recorder.url)}, { skipCertValidation: true }));
    await addon.setSkipCertValidation(${JSON.stringify(recorder.url)}, true);
    out(await addon.resolveCredential(${JSON.stringify(recorder.url)}));
    out((await addon.resolveCredential(${JSON.stringify(`${ado.url}/`)}))?.source);`,
  env('rule-api', authority, { TFX_ENTRA_TOKEN: entraToken.token }).env);
  assert.deepEqual(viaApi.stdout.trim().split('\n').map((l) => JSON.parse(l)), [null, null, 'TFX_ENTRA_TOKEN'], viaApi.stderr);

  // An Entra sign-in for plain http to a host that is not this machine (a name that resolves
  // nowhere, RFC 6761), with the tenant given so not even discovery would be needed first.
  const before = authority.requests.length;
  const far = 'http://tfs.fabfiber.invalid:8080/tfs/DefaultCollection';
  const e = env('rule-login', authority, { TFX_AUTH_ENTRA_TENANT: 'fabfiber.com' });
  const login = await tfx(['login', '--auth-type', 'entra', '--service-url', far, '--no-prompt'], e.env);
  assert.equal(login.code, 255);
  assert.match(login.stderr, /a Microsoft Entra ID token is not sent to http:\/\/tfs\.fabfiber\.invalid:8080\/tfs\/DefaultCollection: it is plain http to a host that is not this machine/);
  const skipped = await tfx(['login', '--auth-type', 'entra', '--service-url', ado.url, '--skip-cert-validation', '--no-prompt'], e.env);
  assert.equal(skipped.code, 255);
  assert.match(skipped.stderr, /certificate checks are skipped for it/);
  const api = await runAddonScript(`
    for (const [url, options] of [[${JSON.stringify(far)}, {}], [${JSON.stringify(recorder.url)}, {}], [${JSON.stringify(ado.url)}, { skipCertValidation: true }]]) {
      try { await addon.startEntraLogin(url, options); out('started'); } catch (e) { out(e.code); }
    }
    try { await addon.login(${JSON.stringify(recorder.url)}, { type: 'entra', accessToken: ${JSON.stringify(entraToken.token)} }); out('stored'); } catch (e) { out(e.code); }`,
  env('rule-login-api', authority, { TFX_AUTH_ENTRA_TENANT: 'fabfiber.com', ...unlisted }).env);
  assert.deepEqual(api.stdout.trim().split('\n').map((l) => JSON.parse(l)),
    ['ENTRA_HOST_NOT_ALLOWED', 'ENTRA_HOST_NOT_ALLOWED', 'ENTRA_HOST_NOT_ALLOWED', 'ENTRA_HOST_NOT_ALLOWED'], api.stderr);
  assert.equal(authority.requests.length, before, 'the authority was not contacted');
  assert.equal(recorder.requests.length, seen, 'nor the organisation: the login was refused before validation');
});

test('leak check: no token, refresh token or device code in any output, nor in any file under the test folders', () => {
  const dirs = [base];
  assert.deepEqual(findLeaks({ dirs }), []);
  // The scan is not vacuous: the stored logins were in the keyring, not in these folders.
  assert.ok(filesUnder(base).length > 0);
});
