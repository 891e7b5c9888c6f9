// Issue 20, "the first command a newcomer runs": inside `npm start` npm puts the project's
// node_modules/.bin first on PATH, so `tfx-auth status` named the project's own copy of stock
// tfx-cli ("NOT hooked") while the demo ran tfx-auth's tfx. The demo now runs its bins from a
// folder it puts first on PATH, and status says when the first tfx is a project's
// node_modules/.bin and which tfx comes first outside such folders.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { run, ROOT } from './helpers.mjs';
import { STOCK_TFX, TFX, TFX_AUTH } from './tfx-helpers.mjs';

const { describeTfxOnPath, describeTfx } = createRequire(import.meta.url)('../bin/hook-info.js');
const base = mkdtempSync(join(tmpdir(), 'tfx-auth-on-path-'));
after(() => rmSync(base, { recursive: true, force: true }));

const skipWindows = process.platform === 'win32' && 'links made with symlink(2)';

// A project folder whose node_modules/.bin has tfx-cli's tfx, and a global bin with tfx-auth's.
function layout(name) {
  const project = join(base, name, 'project', 'node_modules', '.bin');
  const global = join(base, name, 'global', 'bin');
  mkdirSync(project, { recursive: true });
  mkdirSync(global, { recursive: true });
  symlinkSync(STOCK_TFX, join(project, 'tfx'));
  symlinkSync(TFX, join(global, 'tfx'));
  return { project, global };
}

test('describeTfxOnPath: a project\'s node_modules/.bin first on PATH is said, with the tfx outside it', { skip: skipWindows }, () => {
  const { project, global } = layout('unit');
  const npmRun = describeTfxOnPath({ PATH: [project, global, '/usr/bin'].join(delimiter), npm_lifecycle_event: 'start' });
  assert.equal(npmRun.path, join(project, 'tfx'));
  assert.equal(npmRun.kind, 'tfx-cli');
  assert.equal(npmRun.projectBin, true);
  assert.equal(npmRun.npmScript, true);
  assert.deepEqual(npmRun.outside, { path: join(global, 'tfx'), kind: 'tfx-auth', hooked: true });
  assert.match(describeTfx(npmRun), new RegExp(
    `^${join(project, 'tfx')} \\(stock tfx-cli 0\\.23\\.1, NOT hooked[^)]*\\), from a project's node_modules/\\.bin ` +
    `\\(first on PATH because npm runs this command\\); outside project folders: ${join(global, 'tfx')} \\(tfx-auth's: logins in the store above\\)$`));

  // Not under npm: still said, without blaming npm; no tfx outside: said too.
  const shell = describeTfxOnPath({ PATH: [project, '/nonexistent'].join(delimiter) });
  assert.equal(shell.npmScript, false);
  assert.equal(shell.outside, null);
  assert.match(describeTfx(shell), /from a project's node_modules\/\.bin \(first on PATH here\); outside project folders: none on PATH/);

  // The user's own PATH: nothing added.
  const user = describeTfxOnPath({ PATH: [global, project].join(delimiter) });
  assert.deepEqual(user, { path: join(global, 'tfx'), kind: 'tfx-auth', hooked: true });
});

test('tfx-auth status run by npm names the project\'s tfx as such, and the one outside', { skip: skipWindows }, async () => {
  const { project, global } = layout('status');
  const home = join(base, 'status', 'home');
  const env = {
    HOME: home, XDG_CONFIG_HOME: join(home, 'config'), TFX_AUTH_STORE: 'file',
    PATH: [project, global, process.env.PATH].join(delimiter), npm_lifecycle_event: 'start',
  };
  const r = await run(process.execPath, [TFX_AUTH, 'status'], { env });
  assert.equal(r.code, 0, r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('tfx on PATH: '));
  assert.match(line, /from a project's node_modules\/\.bin \(first on PATH because npm runs this command\); outside project folders: .*\(tfx-auth's/);
  const json = await run(process.execPath, [TFX_AUTH, 'status', '--json'], { env });
  assert.equal(JSON.parse(json.stdout).tfx.outside.kind, 'tfx-auth');
});

test('npm start: the status step reports the tfx the demo runs (tfx-auth\'s), not the project\'s stock copy', { skip: skipWindows }, async () => {
  const home = join(base, 'demo', 'home');
  mkdirSync(home, { recursive: true });
  const env = { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, 'config') };
  delete env.npm_lifecycle_event;
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = await run(npm, ['start', '--silent'], { env, cwd: ROOT, timeoutMs: 120_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const line = r.stdout.split('\n').find((l) => l.startsWith('tfx on PATH: '));
  assert.match(line, /^tfx on PATH: \S+[\\/]bin[\\/]tfx \(tfx-auth's: logins in the store above\)$/);
  assert.doesNotMatch(r.stdout, /NOT hooked/);
  assert.match(r.stdout, /\ntfx and tfx-auth: this package's \(tfx\/tfx\.js, bin\/tfx-auth\.js\), first on PATH for the demo in /);
});
