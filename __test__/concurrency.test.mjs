// 32 processes at once, against the real keyring and the file store: logins to
// 32 URLs all land, 32 writers of one URL leave exactly one readable login,
// and a reader never sees a partial file.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshDirs, makeSecret, run, ROOT, findLeaks } from './helpers.mjs';
import { startFakeAdo } from './fixtures/fake-ado.mjs';

const PROCESSES = 32;
const dirs = freshDirs('tfx-auth-concurrency');
process.env.HOME = dirs.HOME;
process.env.XDG_CONFIG_HOME = dirs.XDG_CONFIG_HOME;
const index = JSON.stringify(join(ROOT, 'index.js'));

function loginIn(store, url, token) {
  const script = `const a = require(${index});
a.login(${JSON.stringify(url)}, { type: 'pat', token: ${JSON.stringify(token)} })
  .then(() => process.exit(0), (e) => { console.error(e.code); process.exit(1); });`;
  return run(process.execPath, ['-e', script], { env: { ...process.env, TFX_AUTH_STORE: store } });
}

function readAll(store, urls) {
  const script = `const a = require(${index});
Promise.all(${JSON.stringify(urls)}.map((u) => a.getCredential(u))).then((c) => console.log(JSON.stringify(c)));`;
  return run(process.execPath, ['-e', script], { env: { ...process.env, TFX_AUTH_STORE: store }, recordOutput: false });
}

for (const store of ['keyring', 'file']) {
  test(`concurrency (${store}): ${PROCESSES} processes logging in to ${PROCESSES} URLs all land`, async (t) => {
    const tokens = Array.from({ length: PROCESSES }, () => makeSecret('c'));
    const server = await startFakeAdo({ tokens });
    try {
      const urls = tokens.map((_, i) => `${server.origin}/${store}-many-${i}`);
      const start = Date.now();
      const results = await Promise.all(urls.map((u, i) => loginIn(store, u, tokens[i])));
      assert.deepEqual(results.map((r) => r.code), results.map(() => 0), results.map((r) => r.stderr).join(''));
      const read = JSON.parse((await readAll(store, urls)).stdout);
      assert.deepEqual(read.map((c) => c && c.token), tokens);
      t.diagnostic(`${store}: ${PROCESSES}/${PROCESSES} logins readable after ${Date.now() - start} ms`);
    } finally {
      await server.close();
    }
  });

  test(`concurrency (${store}): ${PROCESSES} processes writing one URL leave one whole login`, async (t) => {
    const tokens = Array.from({ length: PROCESSES }, () => makeSecret('s'));
    const server = await startFakeAdo({ tokens });
    const url = `${server.origin}/${store}-same`;
    const storeFile = join(dirs.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json');
    // A reader that parses the store file in a loop while the writers run.
    let reads = 0;
    let partial = 0;
    let reading = store === 'file';
    const reader = (async () => {
      while (reading) {
        try {
          JSON.parse(readFileSync(storeFile, 'utf8'));
          reads++;
        } catch (e) {
          if (e.code !== 'ENOENT') partial++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const results = await Promise.all(tokens.map((t) => loginIn(store, url, t)));
      reading = false;
      await reader;
      assert.deepEqual(results.map((r) => r.code), results.map(() => 0));
      const [cred] = JSON.parse((await readAll(store, [url])).stdout);
      assert.ok(tokens.includes(cred.token), 'the login is one of the written ones, whole');
      if (store === 'file') {
        assert.equal(partial, 0, `a reader saw a partial file (${reads} good reads)`);
        assert.ok(reads > 0);
        t.diagnostic(`file: ${reads} reads during ${PROCESSES} writers, ${partial} partial`);
      } else {
        const items = await run('secret-tool', ['search', '--all', 'service', 'tfx-auth', 'username', createRequire(import.meta.url)('../index.js').normalizeServiceUrl(url)], { recordOutput: false });
        assert.equal((items.stdout.match(/^\[/gm) || []).length, 1, 'exactly one keyring item');
      }
    } finally {
      reading = false;
      await server.close();
    }
  });
}

after(() => {
  const storeFile = join(dirs.XDG_CONFIG_HOME, 'tfx-auth', 'credentials.json');
  assert.deepEqual(findLeaks({ dirs: [dirs.base], allowed: [storeFile] }), []);
});
