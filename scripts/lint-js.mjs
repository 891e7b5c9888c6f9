#!/usr/bin/env node
// The JavaScript check of `npm run lint`: every .js/.mjs/.cjs file of the repository (tracked or
// new, not ignored) parses (`node --check`), and every package.json is valid JSON.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' })
  .split('\0').filter(Boolean);
const scripts = listed.filter((f) => /\.(c|m)?js$/.test(f) && !f.startsWith('fuzz/'));
const manifests = listed.filter((f) => f === 'package.json' || f.endsWith('/package.json'));

const failures = [];
for (const f of manifests) {
  try {
    JSON.parse(readFileSync(join(ROOT, f), 'utf8'));
  } catch (e) {
    failures.push(`${f}: ${e.message}`);
  }
}
const check = (file) => new Promise((resolve) => {
  const child = spawn(process.execPath, ['--check', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  child.on('close', (code) => {
    if (code !== 0) failures.push(`${file}:\n${err}`);
    resolve();
  });
});
const queue = [...scripts];
await Promise.all(Array.from({ length: Math.max(2, availableParallelism()) }, async () => {
  while (queue.length) await check(queue.shift());
}));
if (failures.length) {
  console.error(failures.join('\n'));
  process.exit(1);
}
console.log(`lint-js: ${scripts.length} scripts parse, ${manifests.length} package.json files are valid JSON`);
