// The napi-rs multi-platform layout: package.json's napi.targets, one platform package per target
// under npm/<platform> exactly as `napi create-npm-dirs` makes them, one version everywhere
// (package.json, npm/*, Cargo.toml, Cargo.lock) that `npm version` (napi version +
// scripts/sync-version.mjs) keeps in step, the generated loader naming those packages, and the
// main package as scripts/pack.mjs packs it for publishing (optionalDependencies on every
// platform package at the same version, no addon inside, the install script and sources for the
// fallback, THIRD-PARTY-LICENSES).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNapiConfig } from '@napi-rs/cli';
import { ROOT } from './helpers.mjs';

const TARGETS = [
  'x86_64-unknown-linux-gnu', 'aarch64-unknown-linux-gnu', 'x86_64-unknown-linux-musl', 'aarch64-unknown-linux-musl',
  'x86_64-apple-darwin', 'aarch64-apple-darwin', 'x86_64-pc-windows-msvc', 'aarch64-pc-windows-msvc',
];
const PLATFORMS = ['linux-x64-gnu', 'linux-arm64-gnu', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-x64', 'darwin-arm64', 'win32-x64-msvc', 'win32-arm64-msvc'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const napiCli = join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js');
const napi = (args, cwd) => execFileSync(process.execPath, [napiCli, ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const pkg = readJson(join(ROOT, 'package.json'));
const cargoVersion = (dir) => /^\[package\]\n(?:(?!\[)[^\n]*\n)*?version = "([^"]*)"/m.exec(readFileSync(join(dir, 'Cargo.toml'), 'utf8'))[1];
const lockVersion = (dir) => /^\[\[package\]\]\nname = "tfx-auth"\nversion = "([^"]*)"/m.exec(readFileSync(join(dir, 'Cargo.lock'), 'utf8'))[1];
const work = mkdtempSync(join(tmpdir(), 'tfx-auth-layout-'));
after(() => rmSync(work, { recursive: true, force: true }));

test('napi.targets: Linux x64/arm64 (glibc and musl), macOS x64/arm64, Windows x64/arm64; scoped platform packages', async () => {
  assert.deepEqual(pkg.napi.targets, TARGETS);
  assert.equal(pkg.napi.binaryName, 'tfx-auth');
  assert.equal(pkg.napi.packageName, '@tfx-auth/binding');
  const config = await readNapiConfig(join(ROOT, 'package.json'));
  assert.deepEqual(config.targets.map((t) => t.platformArchABI), PLATFORMS);
  // The runtime's own naming (scripts/platform.js, for messages and the source build) agrees with napi's.
  const { platformArchABIOf } = createRequire(import.meta.url)('../scripts/platform.js');
  assert.deepEqual(TARGETS.map(platformArchABIOf), PLATFORMS);
});

test('npm/<platform>/ is exactly what `napi create-npm-dirs` makes, one folder per target and no other', () => {
  assert.deepEqual(readdirSync(join(ROOT, 'npm')).sort(), [...PLATFORMS].sort());
  const copy = join(work, 'create');
  cpSync(join(ROOT, 'package.json'), join(copy, 'package.json'));
  napi(['create-npm-dirs'], copy);
  for (const platform of PLATFORMS) {
    for (const file of ['package.json', 'README.md']) {
      assert.equal(readFileSync(join(ROOT, 'npm', platform, file), 'utf8'), readFileSync(join(copy, 'npm', platform, file), 'utf8'), `npm/${platform}/${file}: run npx napi create-npm-dirs`);
    }
    const manifest = readJson(join(ROOT, 'npm', platform, 'package.json'));
    assert.equal(manifest.name, `@tfx-auth/binding-${platform}`);
    assert.deepEqual(manifest.files, [`tfx-auth.${platform}.node`]);
    assert.equal(manifest.main, `tfx-auth.${platform}.node`);
  }
});

test('one version: package.json, every npm/<platform>, Cargo.toml and Cargo.lock', () => {
  const versions = { 'package.json': pkg.version, 'Cargo.toml': cargoVersion(ROOT), 'Cargo.lock': lockVersion(ROOT) };
  for (const platform of PLATFORMS) versions[`npm/${platform}`] = readJson(join(ROOT, 'npm', platform, 'package.json')).version;
  assert.deepEqual(new Set(Object.values(versions)), new Set([pkg.version]), JSON.stringify(versions, null, 2));
});

test('`npm version` keeps them in step: its "version" script (napi version, sync-version) on a copy', () => {
  assert.match(pkg.scripts.version, /^napi version && node scripts\/sync-version\.mjs /);
  const copy = join(work, 'bump');
  for (const f of ['package.json', 'Cargo.toml', 'Cargo.lock']) cpSync(join(ROOT, f), join(copy, f));
  cpSync(join(ROOT, 'npm'), join(copy, 'npm'), { recursive: true, filter: (src) => !src.endsWith('.node') });
  writeFileSync(join(copy, 'package.json'), JSON.stringify({ ...pkg, version: '9.8.7' }, null, 2)); // what `npm version` does first
  napi(['version'], copy);
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'sync-version.mjs'), '--root', copy], { stdio: 'ignore' });
  for (const platform of PLATFORMS) assert.equal(readJson(join(copy, 'npm', platform, 'package.json')).version, '9.8.7', platform);
  assert.equal(cargoVersion(copy), '9.8.7');
  assert.equal(lockVersion(copy), '9.8.7');
});

test('the generated loader (index.js) loads ./tfx-auth.<platform>.node, then @tfx-auth/binding-<platform>; require("tfx-auth") goes through binding.js', () => {
  const loader = readFileSync(join(ROOT, 'index.js'), 'utf8');
  assert.match(loader, /auto-generated by NAPI-RS/);
  assert.match(loader, /NAPI_RS_NATIVE_LIBRARY_PATH/);
  for (const platform of PLATFORMS) {
    assert.ok(loader.includes(`require('./tfx-auth.${platform}.node')`), platform);
    assert.ok(loader.includes(`require('@tfx-auth/binding-${platform}')`), `${platform}: regenerate index.js with napi build`);
  }
  assert.ok(!/require\('tfx-auth-/.test(loader), 'no unscoped platform package names left');
  assert.equal(pkg.main, 'binding.js');
  // binding.js loads index.js and checks arguments; every export of the loader, and the
  // JavaScript-only helpers of script-api.js, is an `exports.<name> =` assignment there, so ESM
  // named imports keep working (cjs-module-lexer).
  const main = readFileSync(join(ROOT, 'binding.js'), 'utf8');
  assert.match(main, /^ {2}native = require\('\.\/index\.js'\);$/m);
  const scripts = ['getAuthorizationHeader', 'getRequestHandler', 'getWebApi'];
  const generated = [...loader.matchAll(/^module\.exports\.(\w+) = /gm)].map((m) => m[1]).concat(scripts).sort();
  assert.deepEqual([...main.matchAll(/^exports\.(\w+) = /gm)].map((m) => m[1]).sort(), generated);
  // Not in the committed package.json: npm ci would look unpublished versions up in the registry.
  assert.equal(pkg.optionalDependencies, undefined);
  assert.equal(pkg.scripts.install, 'node scripts/install.js');
});

test('the main package as published: optionalDependencies on every platform package at the same version, no addon, the fallback\'s sources', () => {
  const out = join(work, 'pack');
  const printed = execFileSync(process.execPath, [join(ROOT, 'scripts', 'pack.mjs'), '--main-only', '--out', out], { cwd: ROOT, encoding: 'utf8' });
  const tarball = join(out, `tfx-auth-${pkg.version}.tgz`);
  assert.ok(printed.includes(tarball), printed);
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }));
  assert.deepEqual(manifest.optionalDependencies, Object.fromEntries(PLATFORMS.map((p) => [`@tfx-auth/binding-${p}`, pkg.version])));
  assert.deepEqual(manifest.scripts, { install: 'node scripts/install.js' });
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  assert.deepEqual(files.filter((f) => f.endsWith('.node')), []);
  for (const f of ['binding.js', 'index.js', 'index.d.ts', 'scripts/install.js', 'scripts/platform.js', 'THIRD-PARTY-LICENSES', '.cargo/config.toml',
    'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs', 'tfx/tfx.js', 'bin/tfx-auth.js', 'register.js', 'request-handler.js', 'script-api.js']) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.deepEqual(files.filter((f) => /^(target|npm|node_modules|fuzz|tests|\.github)\//.test(f)), []);
});
