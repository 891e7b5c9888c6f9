// The storage behaviours every backend must show, run once against the real
// gnome-keyring and once against the file store (see *-store.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { makeSecret, rejection } from './helpers.mjs';

const addon = createRequire(import.meta.url)('../index.js');

/** A unique URL per test so runs never see each other's logins. */
export function uniqueUrl(base = 'https://dev.azure.com') {
  return `${base}/org-${randomBytes(5).toString('hex')}`;
}

export function defineStoreSuite(backend) {
  test(`${backend}: storageInfo names the ${backend} store and why`, () => {
    const info = addon.storageInfo();
    assert.equal(info.backend, backend);
    assert.equal(info.persistent, true);
    assert.ok(info.reason.length > 0);
    assert.ok(info.location.length > 0);
  });

  test(`${backend}: a PAT round-trips`, async () => {
    const url = uniqueUrl();
    const token = makeSecret('pat');
    await addon.storeCredential(url, { type: 'pat', token });
    assert.deepEqual(await addon.getCredential(url), { type: 'pat', token });
    assert.equal(await addon.deleteCredential(url), true);
    assert.equal(await addon.getCredential(url), null);
    assert.equal(await addon.deleteCredential(url), false);
  });

  test(`${backend}: Basic with domain\\user and non-ASCII round-trips`, async () => {
    for (const username of ['fabfiber\\peter', 'jürgen.größe@fabrikam.example', '山田']) {
      const url = uniqueUrl('http://tfs.example:8080/tfs');
      const password = `${makeSecret('pw')}:äö:€`;
      await addon.storeCredential(url, { type: 'basic', username, password });
      assert.deepEqual(await addon.getCredential(url), { type: 'basic', username, password });
      await addon.deleteCredential(url);
    }
  });

  test(`${backend}: URLs differing in case, trailing slash or default port are one login`, async () => {
    const url = uniqueUrl('https://dev.azure.com');
    const token = makeSecret('pat');
    await addon.storeCredential(`${url}/`, { type: 'pat', token });
    const variants = [url, url.toUpperCase().replace('HTTPS://', 'https://'), url.replace('dev.azure.com', 'DEV.Azure.com:443'), `${url}//`];
    for (const variant of variants) {
      assert.deepEqual(await addon.getCredential(variant), { type: 'pat', token }, variant);
    }
    const mine = (await addon.listLogins()).filter((l) => l.normalizedUrl === url.toLowerCase());
    assert.equal(mine.length, 1);
    await addon.deleteCredential(url.toUpperCase().replace('HTTPS://', 'https://'));
    assert.equal(await addon.getCredential(url), null);
  });

  test(`${backend}: URLs that tfx-cli's escaping collides stay apart`, async () => {
    const a = 'http://127.0.0.1:18080/x';
    const b = 'http://127.0.0.11:8080/x';
    const ta = makeSecret('pat');
    const tb = makeSecret('pat');
    await addon.storeCredential(a, { type: 'pat', token: ta });
    await addon.storeCredential(b, { type: 'pat', token: tb });
    assert.equal((await addon.getCredential(a)).token, ta);
    assert.equal((await addon.getCredential(b)).token, tb);
    await addon.deleteCredential(a);
    assert.equal((await addon.getCredential(b)).token, tb);
    await addon.deleteCredential(b);
  });

  test(`${backend}: listLogins lists several URLs and never a secret`, async () => {
    const urls = [uniqueUrl(), uniqueUrl(), uniqueUrl('http://tfs.example:8080/tfs')];
    const secrets = [];
    for (const [i, url] of urls.entries()) {
      const secret = makeSecret('s');
      secrets.push(secret);
      const credential = i === 2 ? { type: 'basic', username: 'fabfiber\\peter', password: secret } : { type: 'pat', token: secret };
      await addon.storeCredential(url, credential);
    }
    const logins = await addon.listLogins();
    for (const url of urls) {
      const login = logins.find((l) => l.normalizedUrl === addon.normalizeServiceUrl(url));
      assert.ok(login, url);
      assert.equal(login.serviceUrl, url);
    }
    const basic = logins.find((l) => l.normalizedUrl === addon.normalizeServiceUrl(urls[2]));
    assert.deepEqual([basic.authType, basic.username], ['basic', 'fabfiber\\peter']);
    const shown = JSON.stringify(logins);
    for (const secret of secrets) assert.ok(!shown.includes(secret));
    for (const url of urls) await addon.deleteCredential(url);
  });

  test(`${backend}: bad URLs are rejected with INVALID_URL and store nothing`, async () => {
    const before = (await addon.listLogins()).length;
    const bad = ['', 'dev.azure.com/org', 'ftp://host/x', 'https://user:hunter2@dev.azure.com/org', 'https://dev.azure.com/org?a=1',
      'https://dev.azure.com/org#x', 'https:///org', 'https://dev.azure.com/o\nrg', `https://dev.azure.com/${'a'.repeat(3000)}`];
    for (const url of bad) {
      const err = await rejection(addon.storeCredential(url, { type: 'pat', token: makeSecret() }));
      assert.equal(err.code, 'INVALID_URL', JSON.stringify(url));
      assert.ok(err instanceof Error);
      assert.throws(() => addon.normalizeServiceUrl(url), (e) => e.code === 'INVALID_URL');
    }
    assert.equal((await addon.listLogins()).length, before);
  });

  test(`${backend}: bad credentials are rejected with INVALID_CREDENTIAL and keep the previous login`, async () => {
    const url = uniqueUrl();
    const token = makeSecret('pat');
    await addon.storeCredential(url, { type: 'pat', token });
    const bad = [
      { type: 'pat', token: '' }, { type: 'pat', token: '   ' }, { type: 'pat', token: `${makeSecret()}\n` },
      { type: 'pat', token: `a\u0000${makeSecret()}` }, { type: 'pat', token: 'x'.repeat(20_000) },
      { type: 'basic', username: 'a:b', password: makeSecret() }, { type: 'basic', username: '', password: makeSecret() },
      { type: 'basic', username: 'peter', password: '' }, { type: 'basic', username: 'pe\nter', password: makeSecret() },
      { type: 'oauth', token: makeSecret() }, { type: 'pat' }, { type: 'basic', username: 'peter' },
    ];
    for (const credential of bad) {
      const err = await rejection(addon.storeCredential(url, credential));
      assert.equal(err.code, 'INVALID_CREDENTIAL', JSON.stringify(credential).slice(0, 80));
    }
    assert.deepEqual(await addon.getCredential(url), { type: 'pat', token });
    await addon.deleteCredential(url);
  });

  test(`${backend}: the certificate flag is a per-URL boolean`, async () => {
    const a = uniqueUrl();
    const b = uniqueUrl();
    await addon.setSkipCertValidation(a, true);
    assert.equal(await addon.getSkipCertValidation(a), true);
    assert.equal(await addon.getSkipCertValidation(b), false);
    await addon.setSkipCertValidation(a, false);
    assert.equal(await addon.getSkipCertValidation(a), false);
  });
}
