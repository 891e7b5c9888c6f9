// Issue 18 item 12: `tfx login --token X` showed the token to every local user through `ps` for
// as long as the command ran. The bins (tfx, tfx-auth, and register.js for a stock tfx) overwrite
// the command line the kernel shows before anything else runs. Read here as another user would:
// /proc/<pid>/cmdline and `ps` of a real `tfx login` waiting on a slow fake server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isolateThisProcess, makeSecret, record, findLeaks, ROOT } from './helpers.mjs';
import { scrubProxyEnv } from './net-helpers.mjs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';
import { TFX, TFX_AUTH, STOCK_TFX, CWD } from './tfx-helpers.mjs';
import { maskArguments } from '../tfx/secret-arguments.js';

scrubProxyEnv();
const dirs = isolateThisProcess('tfx-auth-secret-arguments');
const token = makeSecret('pat');
const linuxOnly = process.platform !== 'linux' && 'reads /proc/<pid>/cmdline';
let ado;

before(async () => {
  ado = await startFakeAdo({ scenario: 'slow', delayMs: 60_000, tokens: [token] });
});
after(async () => {
  await ado.close();
  assert.deepEqual(findLeaks({ dirs: [dirs.base] }), [], 'no secret in any output or file');
});

test('maskArguments: values of --token/--password in any spelling, -t and -xt, URL passwords', () => {
  const cases = [
    [['login', '--token', 'T'], ['login', '--token', '***']],
    [['login', '-t', 'T', '-u', 'U'], ['login', '-t', '***', '-u', 'U']],
    [['login', '-ut', 'T'], ['login', '-ut', '***']],
    [['login', '--TOKEN', 'a', 'b', '--json'], ['login', '--TOKEN', '***', '***', '--json']],
    [['login', '--auth-type', 'basic', '--username', 'me', '--Password', 'P'], ['login', '--auth-type', 'basic', '--username', 'me', '--Password', '***']],
    [['x', '--token=T', '--pass_word=P'], ['x', '--token=***', '--pass_word=***']],
    [['login', '--token.', 'T', '--_Token_', 'U'], ['login', '--token.', '***', '--_Token_', '***']],
    [['build', 'list', '--proxy', 'http://me:P@p:3128'], ['build', 'list', '--proxy', 'http://me:***@p:3128']],
    [['-u', 'https://me:P@dev.azure.com/x'], ['-u', 'https://me:***@dev.azure.com/x']],
    [['--proxy', 'http://me:p@ss:w@p:3128/'], ['--proxy', 'http://me:***@p:3128/']],
    [['--proxy', 'http://me@corp:pw@p:3128'], ['--proxy', 'http://me@corp:***@p:3128']],
    [['--proxy', 'http://p:3128', '-u', 'http://me@h:8080/x'], ['--proxy', 'http://p:3128', '-u', 'http://me@h:8080/x']],
  ];
  for (const [args, shown] of cases) assert.deepEqual(maskArguments(args), shown, args.join(' '));
  const plain = ['build', 'list', '--service-url', 'https://dev.azure.com/x', '-p', 'P', '--top', '5'];
  assert.equal(maskArguments(plain), plain, 'nothing secret: the same array');
});

const cmdline = (pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1');

/** Starts `args` with node and waits until `ready(child, stderr)`; returns what another user sees. */
async function watch(args, env, ready) {
  const child = spawn(process.execPath, args, { cwd: CWD, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.resume();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    const deadline = Date.now() + 20_000;
    while (!ready(child, stderr)) {
      assert.ok(Date.now() < deadline, `not ready in time: ${stderr}`);
      assert.equal(child.exitCode, null, `exited early: ${stderr}`);
      await sleep(20);
    }
    const shown = { cmdline: cmdline(child.pid), ps: execFileSync('ps', ['-o', 'args=', '-p', String(child.pid)], { encoding: 'latin1' }) };
    record(shown.cmdline);
    record(shown.ps);
    return shown;
  } finally {
    child.kill('SIGKILL');
    await exited;
    record(stderr);
  }
}

const envFor = () => ({ ...process.env, TFX_AUTH_STORE: 'file' });
const waitingOnServer = (before) => () => ado.requests.length > before;

for (const [name, argsFor] of [
  ['the tfx bin', (url) => [TFX, 'login', '--service-url', url, '--token', token]],
  ['the tfx bin (hooked tfx-cli: --save skips the fast path)', (url) => [TFX, 'login', '--service-url', url, '-t', token, '--save']],
  ['a stock tfx under -r tfx-auth/register', (url) => ['-r', join(ROOT, 'register.js'), STOCK_TFX, 'login', '--service-url', url, '--token', token]],
]) {
  test(`${name}: a running tfx login --token shows *** in /proc/<pid>/cmdline and ps`, { skip: linuxOnly }, async () => {
    const shown = await watch(argsFor(ado.url), envFor(), waitingOnServer(ado.requests.length));
    assert.ok(!shown.cmdline.includes(token), 'no token in /proc/<pid>/cmdline');
    assert.ok(!shown.ps.includes(token), 'no token in ps');
    assert.match(shown.ps, /login --service-url \S+ (--token|-t) \*\*\*/);
    assert.ok(shown.cmdline.split('\0').includes(ado.url), 'the rest of the command line stays readable');
  });
}

test('the tfx-auth bin: its arguments are masked too', { skip: linuxOnly }, async () => {
  // tfx-auth takes no secret, so the process is held at exit to be looked at.
  const hold = join(dirs.base, 'hold.cjs');
  writeFileSync(hold, `process.on('exit', () => { require('fs').writeSync(2, 'HOLDING\\n');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000); });\n`);
  const shown = await watch(['-r', hold, TFX_AUTH, 'status', '--token', token], envFor(), (_c, stderr) => stderr.includes('HOLDING'));
  assert.ok(!shown.cmdline.includes(token));
  assert.match(shown.ps, /status --token \*\*\*/);
});
