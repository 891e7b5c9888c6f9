// One host for every parser. tfx-auth keys a login by the host the Rust `url` crate reads, while
// tfx-cli's HTTP stack connects to the host Node reads: legacy `url.parse` (typed-rest-client) of
// `url.resolve(serviceUrl, '_apis/...')` (azure-devops-node-api's VsoClient). Over a generated
// corpus of confusable spellings, every URL the addon accepts must name the same scheme, host and
// port in the Rust key, WHATWG `URL`, legacy `url.parse` and both `url.resolve` forms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import legacyUrl from 'node:url';

const addon = createRequire(import.meta.url)('../index.js');

const BASES = [
  'http://127.0.0.1:8080/tfs/DefaultCollection',
  'https://dev.azure.com/fabfiber',
  'http://[::1]:8080/tfs',
  'http://tfs.fabfiber.local/tfs/DefaultCollection',
  'https://dev.azure.com',
];

const hex = (c) => c.codePointAt(0).toString(16).padStart(2, '0');
const fullwidth = (c) => (/[!-~]/.test(c) ? String.fromCodePoint(c.codePointAt(0) + 0xfee0) : null);

// Inserted at, or put in place of the character at, every position of the authority.
const TOKENS = [
  // escapes of separators and of host characters
  '%31', '%2e', '%2E', '%6D', '%6d', '%00', '%2f', '%5c', '%40', '%3a', '%3A', '%3f', '%23', '%3b', '%25', '%20',
  '%09', '%5b', '%5d', '%', '%%', '%zz', '%e3%80%82', '%ef%bc%8e',
  // separators and other ASCII punctuation
  '\\', '\\\\', '/', '//', '@', ':', ';', '?', '#', '.', '..', '[', ']', '_', '-', '+', '!', '$', '&', "'", '(', ')',
  '*', ',', '=', '~', '|', '^', '<', '>', '"', '`', '{', '}',
  // Unicode dots, look-alikes, fullwidth and zero-width characters
  '\u3002', '\uff0e', '\uff61', '\u2024', '\ufe52', '\u0430', '\u043e', '\u0435', '\u0131', '\u017f', '\u212a', '\u00df',
  '\uff11', '\uff41', '\uff21', '\uff1a', '\uff0f', '\uff20', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad',
  '\u0338', '\u2215', '\u2044',
  // userinfo-like and backslash forms
  'evil.example@', 'user@', ':@', '@evil.example', 'a:b@', '\\@', '/\\', '\\evil.example', '@127.0.0.1',
];

// Whole-host spellings (the port is kept).
const HOSTS = [
  '127.1', '127.0.1', '0x7f.0.0.1', '0x7f000001', '2130706433', '0177.0.0.1', '127.0.0.01', '127.000.000.001',
  '127.0.0.1.', '0x7F.1', '017700000001', '127.0.0.0x1', '127.0.0.1%31', '127.0.0.1%2e', '0', '0.0.0.0', '1.2.3.4.5',
  '[0:0::1]', '[::0:1]', '[0:0:0:0:0:0:0:1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '[::127.0.0.1]', '[::1%25lo]',
  '[::1]', '[::01]', '[::ABCD]', '[0::1]', '[::1].', '::1', '[::1', '::1]',
  'localhost', 'LOCALHOST', 'localhost.', 'dev.azure.com', 'DEV.Azure.COM', 'dev.azure.com.', 'dev.azure.com..',
  '.dev.azure.com', 'dev..azure.com', 'dev.azure.co%6D', 'dev.azure.co%6d', 'dev.azure\u3002com', 'dev\uff0eazure.com',
  'dev.azure.com\u200b', 'xn--bcher-kva.example', 'xn--a.example', 'xn--.example', 'xn--ls8h.la', 'b\u00fccher.example',
  'tfs_server', 'TFS-01', '-tfs', 'tfs-', `${'a'.repeat(63)}.example`, `${'a'.repeat(64)}.example`,
  `${'a.'.repeat(130)}example`, `${'a'.repeat(300)}.example`,
];

const PORTS = ['', ':80', ':443', ':8080', ':0080', ':08080', ':', ':65535', ':65536', ':0', ':+80', ':0x50', ':80.0',
  ':8080:8080', ':\uff18\uff10', ':8%30'];

const SCHEMES = ['http://', 'https://', 'HTTP://', 'hTtPs://', 'http:/', 'http:', 'http:\\\\', 'http:///', 'http:\\/',
  'https:/\\', 'ws://', 'http://\u200b'];

function split(base) {
  const start = base.indexOf('://') + 3;
  const end = base.indexOf('/', start) === -1 ? base.length : base.indexOf('/', start);
  return { scheme: base.slice(0, start), authority: base.slice(start, end), path: base.slice(end) };
}

function corpus() {
  const out = new Set();
  for (const base of BASES) {
    const { scheme, authority, path } = split(base);
    const hostEnd = authority.startsWith('[') ? authority.indexOf(']') + 1 : authority.lastIndexOf(':') === -1 ? authority.length : authority.lastIndexOf(':');
    const port = authority.slice(hostEnd);
    // Every position of the authority and the first character of the path.
    const region = authority + path.slice(0, 1);
    const rest = path.slice(1);
    for (let i = 0; i <= region.length; i += 1) {
      const before = region.slice(0, i);
      const here = region.slice(i, i + 1);
      const after = region.slice(i + 1);
      const own = here ? [`%${hex(here)}`, `%${hex(here).toUpperCase()}`, fullwidth(here)].filter(Boolean) : [];
      for (const token of [...TOKENS, ...own]) {
        out.add(`${scheme}${before}${token}${here}${after}${rest}`);
        if (here) out.add(`${scheme}${before}${token}${after}${rest}`);
      }
    }
    for (const host of HOSTS) out.add(`${scheme}${host}${port}${path}`);
    for (const p of PORTS) out.add(`${scheme}${authority.slice(0, hostEnd)}${p}${path}`);
    for (const s of SCHEMES) out.add(`${s}${authority}${path}`);
    for (const p of ['', '/', '//', '///x', '//evil.example/x', '/..', '/../..//evil.example', '/%2e%2e/x', '/@evil.example', '/\\evil.example']) {
      out.add(`${scheme}${authority}${p}`);
    }
  }
  return [...out];
}

const DEFAULT_PORT = { 'http:': 80, 'https:': 443 };

/** `scheme//host:port` as one parser reads it; legacy hosts get IPv6 brackets back. */
function origin(protocol, hostname, port) {
  const host = String(hostname ?? '').toLowerCase();
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  // typed-rest-client: `parsedUrl.port ? parseInt(parsedUrl.port) : defaultPort`.
  const number = port ? Number.parseInt(port, 10) : DEFAULT_PORT[protocol];
  return `${protocol}//${bracketed}:${number}`;
}

function views(input, key) {
  const read = (name, f) => {
    try {
      return [name, f()];
    } catch (err) {
      return [name, `throws ${err.code || err.message}`];
    }
  };
  const legacy = (u) => {
    const p = legacyUrl.parse(u);
    return origin(p.protocol, p.hostname, p.port);
  };
  const whatwg = (u) => {
    const p = new URL(u);
    return origin(p.protocol, p.hostname, p.port);
  };
  const api = '_apis/connectionData';
  return Object.fromEntries([
    read('rust key', () => whatwg(key)),
    read('WHATWG URL', () => whatwg(input)),
    read('url.parse', () => legacy(input)),
    read('url.resolve (slash)', () => legacy(legacyUrl.resolve(input.replace(/\/*$/, '/'), api))),
    read('url.resolve', () => legacy(legacyUrl.resolve(input, api))),
  ]);
}

test('every accepted service URL names one scheme, host and port for every parser', (t) => {
  const inputs = corpus();
  let accepted = 0;
  let rejected = 0;
  const disagreements = [];
  for (const input of inputs) {
    let key;
    try {
      key = addon.normalizeServiceUrl(input);
    } catch (err) {
      assert.equal(err.code, 'INVALID_URL', `${JSON.stringify(input)}: ${err.message}`);
      rejected += 1;
      continue;
    }
    accepted += 1;
    const seen = views(input, key);
    if (new Set(Object.values(seen)).size !== 1) disagreements.push({ input, key, seen });
  }
  t.diagnostic(`inputs ${inputs.length}, accepted ${accepted}, rejected ${rejected}, disagreements ${disagreements.length}`);
  for (const d of disagreements.slice(0, 5)) t.diagnostic(JSON.stringify(d));
  assert.ok(inputs.length > 10_000, 'the corpus covers every position');
  assert.ok(accepted > 100, 'ordinary URLs are still accepted');
  assert.deepEqual(disagreements.slice(0, 5), [], `${disagreements.length} accepted URLs are read differently`);
});

test('the two URLs from the report are refused with INVALID_URL saying how to write the host', () => {
  for (const input of ['http://127.0.0.1%31/x', 'https://dev.azure.co%6D/org']) {
    assert.throws(() => addon.normalizeServiceUrl(input), (err) => {
      assert.equal(err.code, 'INVALID_URL', input);
      assert.match(err.message, /percent-escape/);
      return true;
    });
  }
});

test('ordinary service URLs keep their keys', () => {
  for (const [input, key] of [
    ['https://dev.azure.com/FabFiber/', 'https://dev.azure.com/fabfiber'],
    ['HTTPS://Dev.Azure.COM:443/fabfiber', 'https://dev.azure.com/fabfiber'],
    ['http://127.0.0.1:8080/tfs/DefaultCollection', 'http://127.0.0.1:8080/tfs/defaultcollection'],
    ['http://[::1]:8080/tfs', 'http://[::1]:8080/tfs'],
    ['http://tfs_01.fabfiber.local/tfs', 'http://tfs_01.fabfiber.local/tfs'],
    ['https://xn--bcher-kva.example/org', 'https://xn--bcher-kva.example/org'],
  ]) {
    assert.equal(addon.normalizeServiceUrl(input), key, input);
  }
});
