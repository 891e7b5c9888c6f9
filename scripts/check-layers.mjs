#!/usr/bin/env node
// `npm run lint` (scripts/lint.sh): the Rust core's arrows point down. Every module belongs to one
// layer; a module may use its own layer and the layers below it, never one above:
//
//   1 bottom    error secret text service_url fsutil credential environment (types, files)
//   2 protocol  http validate entra                               (the wire; no stores, no logins)
//   3 stores    store                                              (where secrets live)
//   4 policy    auth                                               (logins, migration, resolve)
//   5 bindings  bindings                                           (napi conversion only)
//
// It reads every `crate::<module>` path in src/ (imports and inline paths, comments skipped).
// Usage: node scripts/check-layers.mjs [src folder]; exit 1 with one line per violation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LAYERS = {
  error: 1, secret: 1, text: 1, service_url: 1, fsutil: 1, credential: 1, environment: 1,
  http: 2, validate: 2, entra: 2,
  store: 3,
  auth: 4,
  bindings: 5,
};
const NAMES = ['', 'bottom', 'protocol', 'stores', 'policy', 'bindings'];

function rustFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return rustFiles(path);
    return name.endsWith('.rs') ? [path] : [];
  });
}

/** The top-level module a file under src/ belongs to (`src/auth/logins.rs` -> `auth`). */
function moduleOf(src, file) {
  const first = relative(src, file).split(sep)[0];
  return first.replace(/\.rs$/, '');
}

/** Every violation under `src`: `{ file, line, from, to }`. */
export function violations(src) {
  const found = [];
  for (const file of rustFiles(src)) {
    const from = moduleOf(src, file);
    if (from === 'lib') continue; // the module list itself
    const own = LAYERS[from];
    if (own === undefined) {
      found.push({ file: relative(src, file), line: 0, from, to: null, unknown: true });
      continue;
    }
    readFileSync(file, 'utf8').split('\n').forEach((text, i) => {
      const code = text.replace(/\/\/.*$/, '');
      for (const m of code.matchAll(/\bcrate::([a-z_]+)/g)) {
        const to = m[1];
        const theirs = LAYERS[to];
        if (theirs !== undefined && theirs > own) found.push({ file: relative(src, file), line: i + 1, from, to });
      }
    });
  }
  return found;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const src = process.argv[2] || join(fileURLToPath(new URL('..', import.meta.url)), 'src');
  const found = violations(src);
  for (const v of found) {
    if (v.unknown) {
      console.error(`check-layers: src/${v.file}: module \`${v.from}\` has no layer; add it to LAYERS in scripts/check-layers.mjs`);
    } else {
      console.error(`check-layers: src/${v.file}:${v.line}: \`${v.from}\` (${NAMES[LAYERS[v.from]]}) uses \`crate::${v.to}\` (${NAMES[LAYERS[v.to]]}), a layer above it`);
    }
  }
  if (found.length > 0) process.exit(1);
  console.log(`check-layers: every arrow points down (${Object.keys(LAYERS).length} modules in 5 layers)`);
}
