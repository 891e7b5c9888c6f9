// The credential store pinned to the private file (TFX_AUTH_STORE=file).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isolateThisProcess, makeSecret, findLeaks } from './helpers.mjs';
import { defineStoreSuite, uniqueUrl } from './store-suite.mjs';

process.env.TFX_AUTH_STORE = 'file';
const dirs = isolateThisProcess('tfx-auth-file');
const addon = createRequire(import.meta.url)('../index.js');
const storeFile = join(dirs.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json');

defineStoreSuite('file');

test('file: the store is one 0600 file in a 0700 folder, and says where', async () => {
  await addon.storeCredential(uniqueUrl(), { type: 'pat', token: makeSecret('pat') });
  const info = addon.storageInfo();
  assert.equal(info.location, storeFile);
  assert.match(info.reason, /pinned by TFX_AUTH_STORE=file/);
  assert.equal(info.warning, undefined);
  assert.equal(statSync(storeFile).mode & 0o777, 0o600);
  assert.equal(statSync(join(dirs.XDG_CONFIG_HOME, 'tfx-auth')).mode & 0o777, 0o700);
  const doc = JSON.parse(readFileSync(storeFile, 'utf8'));
  assert.equal(doc.version, 1);
});

after(() => {
  // The file store holds secrets by design; nothing else may.
  assert.deepEqual(findLeaks({ dirs: [dirs.base], allowed: [storeFile] }), []);
});
