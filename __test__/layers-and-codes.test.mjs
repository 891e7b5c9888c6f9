// Two things nothing else keeps in step: the Rust core's layering (scripts/check-layers.mjs, run
// by `npm run lint`), proven to catch a planted upward import; and the stable error codes, listed
// in src/error.rs (the source) and, for the few only JavaScript throws, script-api.js's
// JS_ERROR_CODES; index.d.ts (generated from scripts/dts-header.d.ts), the README's table and
// `tfx-auth status`'s diagnosis.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run } from './helpers.mjs';
import { violations } from '../scripts/check-layers.mjs';
import { createRequire } from 'node:module';

test('layers: every arrow points down, and a planted upward import is caught', async () => {
  assert.deepEqual(violations(join(ROOT, 'src')), []);
  const copy = mkdtempSync(join(tmpdir(), 'tfx-auth-layers-'));
  try {
    cpSync(join(ROOT, 'src'), join(copy, 'src'), { recursive: true });
    appendFileSync(join(copy, 'src', 'validate.rs'), '\nuse crate::auth::logins::Logins;\n');
    appendFileSync(join(copy, 'src', 'secret.rs'), '\n// crate::store is only a comment here\n');
    const found = violations(join(copy, 'src'));
    assert.deepEqual(found.map(({ file, from, to }) => [file, from, to]), [['validate.rs', 'validate', 'auth']]);
    const r = await run(process.execPath, [join(ROOT, 'scripts', 'check-layers.mjs'), join(copy, 'src')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /src\/validate\.rs:\d+: `validate` \(protocol\) uses `crate::auth` \(policy\), a layer above it/);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
});

const read = (file) => readFileSync(join(ROOT, file), 'utf8');
const set = (codes) => [...new Set(codes)].sort();

test('error codes: error.rs and script-api.js, index.d.ts, the README and tfx-auth status agree', () => {
  const fromRust = [...read('src/error.rs').matchAll(/=> "([A-Z_]+)"/g)].map((m) => m[1]);
  assert.ok(fromRust.length > 20, 'codes were found in error.rs');
  const { JS_ERROR_CODES } = createRequire(import.meta.url)('../script-api.js');
  assert.deepEqual(JS_ERROR_CODES.filter((c) => fromRust.includes(c)), [], 'a JavaScript code is not also a Rust one');
  const codes = set([...fromRust, ...JS_ERROR_CODES]);
  const union = (text) => set([...text.split('TfxAuthErrorCode =')[1].split('\n/**')[0].matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]));
  assert.deepEqual(union(read('index.d.ts')), codes, 'index.d.ts');
  assert.deepEqual(union(read('scripts/dts-header.d.ts')), codes, 'scripts/dts-header.d.ts');
  const table = read('README.md').split('| code | meaning |')[1].split('\n\n')[0];
  const readme = set([...table.matchAll(/^\| `([A-Z_]+)`(?: \/ `([A-Z_]+)`)? \|/gm)].flatMap((m) => [m[1], m[2]].filter(Boolean)));
  assert.deepEqual(readme, codes, 'README error table');
  const diagnose = read('bin/status.js').split('function diagnose')[1].split('\nfunction ')[0];
  const bin = set([...diagnose.matchAll(/case '([A-Z_]+)'/g)].map((m) => m[1]));
  // What a status check can never meet: no signal, no sign-in, no Azure CLI in it.
  // Nor a script's missing azure-devops-node-api.
  const notInStatus = ['ABORTED', 'AZURE_CLI_ERROR', 'SIGN_IN_DECLINED', 'SIGN_IN_EXPIRED', 'MISSING_PEER_DEPENDENCY'];
  assert.deepEqual(set([...bin, ...notInStatus]), codes, 'bin/tfx-auth.js diagnose');
});
