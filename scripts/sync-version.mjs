#!/usr/bin/env node
// `npm version <bump>` runs this after `napi version` (package.json "version" script): the crate
// carries the same version as the npm packages (it is in the User-Agent), so Cargo.toml and the
// tfx-auth entry of Cargo.lock are set to package.json's version. __test__/package-layout.test.mjs
// checks that every version agrees.
// (`--root DIR` works on another copy; the layout test uses it.)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { root: { type: 'string' } } });
const ROOT = values.root ? resolve(values.root) : join(dirname(fileURLToPath(import.meta.url)), '..');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

function replaceOnce(file, pattern, replacement) {
  const path = join(ROOT, file);
  const text = readFileSync(path, 'utf8');
  if (!pattern.test(text)) throw new Error(`${file}: no match for ${pattern}`);
  writeFileSync(path, text.replace(pattern, replacement));
}

replaceOnce('Cargo.toml', /^(\[package\]\n(?:(?!\[)[^\n]*\n)*?version = ")[^"]*"/m, `$1${version}"`);
replaceOnce('Cargo.lock', /^(\[\[package\]\]\nname = "tfx-auth"\nversion = ")[^"]*"/m, `$1${version}"`);
console.log(`Cargo.toml and Cargo.lock: tfx-auth ${version}`);
