#!/usr/bin/env node
// Packs what `npm publish` ships: one tarball per platform package (npm/<platform>, with its
// prebuilt .node put there by `napi artifacts`) and the main package. The tarballs are what the
// release workflow publishes and what scripts/test-installed.sh installs and tests.
//
// The main package's optionalDependencies are written here, into a staged copy of package.json:
// every platform package of napi.targets at exactly the main version (what `napi pre-publish`
// does). They are not in the committed package.json because npm would look them up in the
// registry during `npm ci` in this repository, and a version that is not published yet breaks
// the lock file ("Missing: @tfx-auth/binding-... from lock file").
//
// Usage: node scripts/pack.mjs [--out DIR] [--platform linux-x64-gnu]... [--all] [--main-only] [--repository URL]
//   --platform  pack only these platform packages (default: every one whose .node is present)
//   --all       every target must have its .node (the release)
//   --main-only only the main package
//   --repository  set repository.url in every package (npm provenance checks it)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readNapiConfig } from '@napi-rs/cli';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'dist') },
    platform: { type: 'string', multiple: true, default: [] },
    all: { type: 'boolean', default: false },
    'main-only': { type: 'boolean', default: false },
    repository: { type: 'string' },
  },
});

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const config = await readNapiConfig(join(ROOT, 'package.json'));
const { version } = config.packageJson;
const out = resolve(values.out);
mkdirSync(out, { recursive: true });
const stageRoot = mkdtempSync(join(tmpdir(), 'tfx-auth-pack-'));

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const writeJson = (file, value) => writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);

/** `npm pack` of a staged folder into `out`; returns { file, size, files }. */
function npmPack(dir) {
  const json = execFileSync(npm, ['pack', '--json', '--pack-destination', out], { cwd: dir, encoding: 'utf8', shell: process.platform === 'win32' });
  const [info] = JSON.parse(json);
  const file = join(out, info.filename);
  return { file, size: statSync(file).size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path) };
}

function withRepository(manifest) {
  if (values.repository) manifest.repository = { type: 'git', url: values.repository };
  return manifest;
}

try {
  const packed = [];
  for (const target of values['main-only'] ? [] : config.targets) {
    const platform = target.platformArchABI;
    const dir = join(ROOT, 'npm', platform);
    const manifest = readJson(join(dir, 'package.json'));
    if (manifest.version !== version) throw new Error(`npm/${platform}/package.json has version ${manifest.version}, not ${version}: run npx napi version`);
    const nodeFile = `${config.binaryName}.${platform}.node`;
    const wanted = values.all || values.platform.includes(platform);
    if (!existsSync(join(dir, nodeFile))) {
      if (wanted) throw new Error(`npm/${platform}/${nodeFile} is missing: build it and run npx napi artifacts`);
      continue;
    }
    if (values.platform.length && !wanted) continue;
    // A staged copy: the prebuilt binary, its package.json, README, and the licenses of the
    // crates compiled into it.
    const stage = join(stageRoot, platform);
    cpSync(dir, stage, { recursive: true });
    cpSync(join(ROOT, 'THIRD-PARTY-LICENSES'), join(stage, 'THIRD-PARTY-LICENSES'));
    manifest.files = [...new Set([...manifest.files, 'THIRD-PARTY-LICENSES'])];
    writeJson(join(stage, 'package.json'), withRepository(manifest));
    const result = npmPack(stage);
    if (!result.files.includes(nodeFile)) throw new Error(`${result.file} lacks ${nodeFile}`);
    packed.push({ name: manifest.name, ...result });
  }
  const missing = values.platform.filter((p) => !config.targets.some((t) => t.platformArchABI === p));
  if (missing.length) throw new Error(`not in napi.targets: ${missing.join(', ')}`);

  // The main package: what `npm pack` would ship from here, with optionalDependencies added.
  const listing = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', shell: process.platform === 'win32' }));
  const stage = join(stageRoot, 'main');
  for (const { path } of listing[0].files) {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    cpSync(join(ROOT, path), join(stage, path));
  }
  const manifest = readJson(join(ROOT, 'package.json'));
  // Consumers run only `install` (the check and source fallback); the rest is for this repository.
  manifest.scripts = { install: manifest.scripts.install };
  manifest.optionalDependencies = Object.fromEntries(config.targets.map((t) => [`${config.packageName}-${t.platformArchABI}`, version]));
  writeJson(join(stage, 'package.json'), withRepository(manifest));
  const main = npmPack(stage);
  const stray = main.files.filter((f) => f.endsWith('.node'));
  if (stray.length) throw new Error(`the main package must not carry an addon: ${stray.join(', ')}`);
  packed.push({ name: manifest.name, ...main });

  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
  for (const p of packed) console.log(`${p.file}\t${p.name}@${version}\t${kb(p.size)} packed, ${kb(p.unpackedSize)} unpacked`);
} finally {
  rmSync(stageRoot, { recursive: true, force: true });
}
