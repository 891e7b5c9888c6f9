#!/usr/bin/env node
// Writes THIRD-PARTY-LICENSES: every crate compiled into the native addon, for every target in
// package.json's napi.targets, with its license expression and the license and notice texts it
// ships, from `cargo metadata` (Cargo.lock's resolution, normal dependencies only: build and dev
// dependencies do not end up in the .node). Identical texts are printed once.
//
//   node scripts/third-party-licenses.mjs           write THIRD-PARTY-LICENSES
//   node scripts/third-party-licenses.mjs --check   fail if it is not up to date
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'THIRD-PARTY-LICENSES');
const check = process.argv.includes('--check');
const { napi } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

const LICENSE_FILE = /^(licen[cs]e|copying|copyright|notice|unlicense)([-._].*)?$/i;

// For an MIT crate that ships no license file (the napi-rs crates): the MIT License with the
// crate's authors as the copyright holders.
const MIT = (holders) => `MIT License

Copyright (c) ${holders}

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

/** package id -> { pkg, targets:Set } over every target's resolved normal-dependency graph. */
const used = new Map();
for (const target of napi.targets) {
  const meta = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--locked', '--filter-platform', target],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] }));
  const packages = new Map(meta.packages.map((p) => [p.id, p]));
  const nodes = new Map(meta.resolve.nodes.map((n) => [n.id, n]));
  // `cargo metadata` unifies features across dev-dependencies too (keyring-core's `sample` store,
  // used only by tests, pulls in crates the addon never builds); `cargo tree -e normal` resolves
  // features as a build of the addon does, so a crate counts only when it is in both.
  const built = new Set(execFileSync('cargo', ['tree', '--locked', '-e', 'normal', '--target', target, '--prefix', 'none', '--format', '{p}'],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] })
    .split('\n').filter(Boolean).map((line) => line.split(' ').slice(0, 2).join(' ')));
  const root = meta.resolve.root;
  const seen = new Set([root]);
  const queue = [root];
  while (queue.length) {
    const node = nodes.get(queue.shift());
    for (const dep of node.deps) {
      if (!dep.dep_kinds.some((k) => k.kind === null)) continue; // build/dev only
      const pkg = packages.get(dep.pkg);
      if (!built.has(`${pkg.name} v${pkg.version}`)) continue; // only in a test build
      if (seen.has(dep.pkg)) continue;
      seen.add(dep.pkg);
      queue.push(dep.pkg);
    }
  }
  seen.delete(root);
  for (const id of seen) {
    const entry = used.get(id) || { pkg: packages.get(id), targets: new Set() };
    entry.targets.add(target);
    used.set(id, entry);
  }
}

const crates = [...used.values()].sort((a, b) => a.pkg.name.localeCompare(b.pkg.name) || a.pkg.version.localeCompare(b.pkg.version, 'en', { numeric: true }));
const texts = new Map(); // text -> [crate labels]
const withoutFiles = [];
for (const { pkg } of crates) {
  const dir = dirname(pkg.manifest_path);
  const files = readdirSync(dir).filter((f) => LICENSE_FILE.test(f)).sort();
  if (pkg.license_file && existsSync(join(dir, pkg.license_file)) && !files.includes(pkg.license_file)) files.push(pkg.license_file);
  const label = `${pkg.name} ${pkg.version}`;
  if (!files.length) {
    withoutFiles.push(label);
    const holders = pkg.authors.map((a) => a.replace(/\s*<[^>]*>/, '')).join(', ');
    if (pkg.license === 'MIT' && holders) {
      const text = MIT(holders);
      if (!texts.has(text)) texts.set(text, []);
      texts.get(text).push(`${label} (declared MIT; text with its Cargo.toml authors)`);
    }
  }
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8').replace(/\r\n/g, '\n').replace(/[ \t]+$/gm, '').trim();
    if (!text) continue;
    if (!texts.has(text)) texts.set(text, []);
    texts.get(text).push(`${label} (${f})`);
  }
}

const byLicense = new Map();
for (const { pkg } of crates) {
  const license = pkg.license || (pkg.license_file ? `see ${pkg.license_file}` : 'not declared');
  byLicense.set(license, (byLicense.get(license) || 0) + 1);
}

const allTargets = napi.targets.length;
const lines = [
  'THIRD-PARTY LICENSES',
  '',
  "tfx-auth's native addon (tfx-auth.<platform>.node, in the @tfx-auth/binding-<platform> packages or",
  'built from source at install time) is compiled from the Rust crates below. Their licenses and',
  'notices follow. tfx-auth itself is MIT-licensed. The npm packages tfx-auth depends on (tfx-cli and',
  'its dependencies) are installed by npm with their own license files and are not listed here.',
  '',
  'Generated by scripts/third-party-licenses.mjs from Cargo.lock for the targets',
  ...napi.targets.map((t) => `  ${t}`),
  'Do not edit; run `npm run licenses` after changing dependencies.',
  '',
  `${crates.length} crates, by license:`,
  ...[...byLicense].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([l, n]) => `  ${String(n).padStart(4)}  ${l}`),
  '',
  '================================================================================',
  'Crates (name, version, license, source; targets when not all)',
  '================================================================================',
  '',
];
for (const { pkg, targets } of crates) {
  const only = targets.size === allTargets ? '' : `  [${[...targets].sort().join(', ')}]`;
  lines.push(`${pkg.name} ${pkg.version}  ${pkg.license || `license file ${pkg.license_file}`}  ${pkg.repository || 'crates.io'}${only}`);
}
if (withoutFiles.length) {
  lines.push('', `Crates that ship no license file (their declared license applies): ${withoutFiles.join(', ')}`);
}
lines.push('', '================================================================================', 'License and notice texts', '================================================================================');
const sortedTexts = [...texts].sort((a, b) => a[1][0].localeCompare(b[1][0]));
for (const [text, users] of sortedTexts) {
  lines.push('', `-------- ${users.length === 1 ? users[0] : `used by ${users.length} crates: ${users.join(', ')}`}`, '', text);
}
const output = `${lines.join('\n')}\n`;

if (check) {
  const current = existsSync(OUT) ? readFileSync(OUT, 'utf8') : '';
  if (current !== output) {
    console.error('THIRD-PARTY-LICENSES is out of date with Cargo.lock: run `npm run licenses` and commit the result');
    process.exit(1);
  }
  console.log(`THIRD-PARTY-LICENSES is up to date (${crates.length} crates, ${texts.size} distinct license texts)`);
} else {
  writeFileSync(OUT, output);
  console.log(`wrote THIRD-PARTY-LICENSES: ${crates.length} crates, ${texts.size} distinct license texts, ${(output.length / 1024).toFixed(0)} KiB`);
}
