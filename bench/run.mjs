// `npm run bench`: stock tfx-cli 0.23.1 against tfx-auth's `tfx`, side by side in one run, on
// this machine's Node and on Node 24 (scripts/node24.sh unpacks it once into the user's cache).
// Every form in which users run a command is measured: the default URL, --service-url, a URL in
// another case with a trailing slash, AZURE_DEVOPS_EXT_PAT, --token, `extension show` against a
// marketplace-style root. Starts the fake Azure DevOps server (optionally adding a delay per
// request to stand in for a network) and, when no Secret Service is reachable, re-runs itself
// under a private gnome-keyring. Runs A and B alternately (A B A B ...) after a warm-up, reports
// min / median / max and the median of per-pair ratios with their min–max spread, and writes
// BENCHMARKS.md (report.mjs). No timed assertions live in the tests.
//
//   node bench/run.mjs [--runs 20] [--warmup 2] [--out BENCHMARKS.md] [--node24 auto|off]
//                      [--counts 1,100,1000]
// `npm test` runs a smoke of it: --runs 1 --warmup 0 --counts 1 --out <tmp file>.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startFakeAdo, IDS } from '../__test__/fixtures/fake-ado.mjs';
import { startFakeAuthority } from '../__test__/fixtures/fake-authority.mjs';
import { writeReport, stats, f1, f2 } from './report.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { currentTarget } = createRequire(import.meta.url)('../scripts/platform.js');
const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '2' },
    out: { type: 'string', default: 'BENCHMARKS.md' },
    node24: { type: 'string', default: 'auto' },
    counts: { type: 'string', default: '1,100,1000' },
  },
});
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);
const COUNTS = opts.counts.split(',').map(Number);

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(cmd, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = performance.now() - start;
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(0, 400)}`));
      else resolve({ ms, stdout, stderr });
    });
  });
}

function homes(label) {
  const base = mkdtempSync(join(tmpdir(), `tfx-bench-${label}-`));
  const env = { ...process.env, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'config'), XDG_CACHE_HOME: join(base, 'cache'), TERM: 'dumb', TFX_AUTH_STORE: '' };
  for (const name of ['AZURE_DEVOPS_EXT_PAT', 'TFX_ENTRA_TOKEN', 'SYSTEM_ACCESSTOKEN', 'NODE_COMPILE_CACHE', 'NODE_DISABLE_COMPILE_CACHE', 'NODE_OPTIONS']) delete env[name];
  return { base, env };
}

const STOCK = join(ROOT, 'node_modules/tfx-cli/_build/tfx-cli.js');
const OURS = join(ROOT, 'tfx/tfx.js');

/** A B A B ... after a warm-up; returns the table row. `names` only label the log line. */
async function pair(node, name, a, b, note = '', { runs = RUNS, names = ['stock', 'tfx-auth'] } = {}) {
  for (let i = 0; i < WARMUP; i++) { await a(); await b(); }
  const as = [];
  const bs = [];
  const ratios = [];
  for (let i = 0; i < runs; i++) {
    const ta = await a();
    const tb = await b();
    as.push(ta);
    bs.push(tb);
    ratios.push(tb / ta);
  }
  const row = { node: node.label, name, note, stock: stats(as), ours: stats(bs), ratio: stats(ratios) };
  console.log(`[${node.label}] ${name}: ${names[0]} ${f2(row.stock.median)} ms, ${names[1]} ${f2(row.ours.median)} ms, ratio ${f2(row.ratio.median)} (${f2(row.ratio.min)}–${f2(row.ratio.max)})`);
  return row;
}

function nodes() {
  const list = [{ label: `Node ${process.version}`, bin: process.execPath, version: process.version }];
  if (opts.node24 === 'off' || process.version.startsWith('v24.')) return { list, note: null };
  try {
    const bin = execFileSync('bash', [join(ROOT, 'scripts/node24.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
    list.push({ label: `Node ${version}`, bin, version });
    return { list, note: null };
  } catch (e) {
    const note = `Node 24 not measured: scripts/node24.sh failed (${String(e.stderr || e.message).trim().split('\n')[0]})`;
    console.log(note);
    return { list, note };
  }
}

/** Every scenario on one Node; fresh homes, so tfx-auth's compile cache starts empty. */
async function scenarios(node, server, slow, token, servicePrincipal) {
  const rows = [];
  const stock = homes('stock');
  const ours = homes('ours');
  try {
    const timed = (script, args, env) => async () => (await run(node.bin, [script, ...args], env)).ms;
    const both = (name, stockArgs, oursArgs = stockArgs, oursEnv = ours.env, note = '') =>
      pair(node, name, timed(STOCK, stockArgs, stock.env), timed(OURS, oursArgs, oursEnv), note).then((r) => rows.push(r));
    const login = (url) => ['login', '--service-url', url, '--token', token, '--no-prompt'];

    await both('tfx version', ['version']);
    await both('tfx login, 0 ms added', login(server.url));
    await both('tfx login, 25 ms added per request', login(slow.url));
    // Both now hold a login for `server.url` as their default.
    await run(node.bin, [STOCK, ...login(server.url)], stock.env);
    await run(node.bin, [OURS, ...login(server.url)], ours.env);
    const list = ['build', 'list', '--project', 'P', '--no-prompt'];
    await both('tfx build list, default URL', list);
    await both('tfx build list --service-url', [...list, '--service-url', server.url]);
    // The key of a login ignores the case of scheme, host and path, and a trailing slash.
    const u = new URL(server.url);
    const shouting = `HTTP://${u.host}${u.pathname.toLowerCase()}/`;
    await both('tfx build list --service-url, other case and trailing slash', [...list, '--service-url', server.url], [...list, '--service-url', shouting],
      ours.env, `tfx-auth given ${shouting.replace(/:\d+/, ':PORT')}; stock refuses a trailing slash, so it is given the URL as logged in`);
    await both('tfx build list, AZURE_DEVOPS_EXT_PAT', [...list, '--token', token], list, { ...ours.env, AZURE_DEVOPS_EXT_PAT: token },
      'stock has no such variable: it is given --token');
    await both('tfx build list --token', [...list, '--service-url', server.url, '--token', token]);
    // A Node script's getBuilds through azure-devops-node-api: tfx-auth's getRequestHandler with
    // the stored login against the library's own PAT handler given the token.
    const script = (handler) => ['-e', `const { WebApi${handler ? '' : ', getPersonalAccessTokenHandler'} } = require('azure-devops-node-api');
      const url = ${JSON.stringify(server.url)};
      ${handler ? `require(${JSON.stringify(join(ROOT, 'binding.js'))}).getRequestHandler(url)` : `Promise.resolve(getPersonalAccessTokenHandler(${JSON.stringify(token)}))`}
        .then((h) => new WebApi(url, h).getBuildApi()).then((b) => b.getBuilds('P'))
        .then((builds) => { if (!Array.isArray(builds)) process.exit(3); });`];
    await pair(node, 'Node script: azure-devops-node-api getBuilds', timed(script(false)[0], script(false).slice(1), stock.env),
      timed(script(true)[0], script(true).slice(1), ours.env), 'tfx-auth: getRequestHandler with the stored login; stock: getPersonalAccessTokenHandler given the token')
      .then((r) => rows.push(r));
    // A pipeline with a service principal: tfx-auth asks the authority (25 ms per answer, as a
    // network would add) once per command for an Entra token; stock is given the PAT.
    await both('tfx build list, service principal (AZURE_CLIENT_SECRET), authority 25 ms per request',
      [...list, '--service-url', server.url, '--token', token], [...list, '--service-url', server.url],
      { ...ours.env, ...servicePrincipal.env }, 'stock is given --token; tfx-auth exchanges the secret for a token (ahead of its stored login), one request per command');
    // A login to the root (it becomes tfx-auth's default); stock cannot reuse a stored login for
    // extension commands (it re-prompts: tfs-cli issue 455), so it is given --token.
    await run(node.bin, [OURS, ...login(server.origin)], ours.env);
    const show = ['extension', 'show', '--publisher', 'fabfiber', '--extension-id', 'build-tools', '--service-url', server.origin, '--json', '--no-prompt'];
    await both('tfx extension show, marketplace-style root', [...show, '--token', token], show, ours.env, 'tfx-auth reuses its stored login; stock is given --token');
  } finally {
    rmSync(stock.base, { recursive: true, force: true });
    rmSync(ours.base, { recursive: true, force: true });
  }
  return rows;
}

async function main() {
  const started = { at: new Date(), load: loadavg() };
  const { list, note } = nodes();
  const results = { pairs: [], getcred: [], versus: [], status: null, addon: null, nodes: list, notes: note ? [note] : [] };
  const token = 'bench-pat-0123456789';
  const sp = { clientId: '6f3c2b9e-8d41-4a57-9c1e-2b7d5f0a3e11', secret: 'bench-client-secret-0123456789' };
  const authority = await startFakeAuthority({ latencyMs: 25, apps: [{ tenant: IDS.tenant, clientId: sp.clientId, secret: sp.secret }] });
  const server = await startFakeAdo({ tokens: [token], bearerTokens: authority.acceptsAccessToken });
  const slow = await startFakeAdo({ tokens: [token], delayMs: 25 });
  const servicePrincipal = {
    env: {
      AZURE_AUTHORITY_HOST: authority.url, AZURE_TENANT_ID: IDS.tenant, AZURE_CLIENT_ID: sp.clientId,
      AZURE_CLIENT_SECRET: sp.secret, TFX_AUTH_ENTRA_HOSTS: '127.0.0.1',
    },
  };
  try {
    for (const node of list) results.pairs.push(...await scenarios(node, server, slow, token, servicePrincipal));
    results.versus = await versusFigures();
    results.getcred = await getCredentialFigures(server.url);
    results.status = await statusFigures(slow, token);
    results.addon = await addonFigures();
  } finally {
    await server.close();
    await slow.close();
    await authority.close();
  }
  results.load = { start: started.load, end: loadavg() };
  writeReport(results, { ROOT, RUNS, WARMUP, out: opts.out, argv: process.argv.slice(2) });
}

/**
 * tfx-auth's getCredential against @napi-rs/keyring's Entry.getPassword on the same keyring,
 * one entry each, every measurement a fresh process (bench/versus.mjs), the two alternating.
 * Rows: `warm` (median of 1,000 reads in one process, per pair), `cold` (require + first read),
 * `many` (200 reads: ours concurrent, theirs one by one, as a synchronous API must).
 */
async function versusFigures() {
  const dirs = homes('versus');
  const env = { ...dirs.env, TFX_AUTH_STORE: 'keyring' };
  const url = `https://versus.bench.test/org${process.pid}`;
  const probe = async (...args) => JSON.parse((await run(process.execPath, [join(ROOT, 'bench/versus.mjs'), ...args], env)).stdout).ms;
  const node = { label: 'vs @napi-rs/keyring' };
  const names = ['@napi-rs/keyring', 'tfx-auth'];
  const rows = [];
  const versus = async (key, name, args, runs) => {
    const row = await pair(node, name, () => probe(args[0], 'theirs', url, ...args.slice(1)), () => probe(args[0], 'ours', url, ...args.slice(1)), '', { runs, names });
    rows.push({ key, ...row, runs });
  };
  await probe('seed', url, 'versus-token-0123456789');
  try {
    await versus('warm', 'warm read, median of 1,000 per process', ['warm', '1000'], Math.max(1, Math.ceil(RUNS / 2)));
    await versus('cold', 'fresh process: `require` + first read', ['cold'], Math.min(16, RUNS));
    await versus('many', '200 reads (tfx-auth concurrent, @napi-rs/keyring one by one)', ['many', '200'], Math.max(1, Math.ceil(RUNS / 2)));
  } finally {
    await probe('clean', url);
    rmSync(dirs.base, { recursive: true, force: true });
  }
  return rows;
}

async function getCredentialFigures(baseUrl) {
  const rows = [];
  for (const store of ['keyring', 'file']) {
    for (const count of COUNTS) {
      const dirs = homes(`getcred-${store}`);
      const env = { ...dirs.env, TFX_AUTH_STORE: store };
      const tag = `gc${count}x${process.pid}`;
      const probe = (...args) => run(process.execPath, [join(ROOT, 'bench/probe.mjs'), ...args], env);
      await probe('seed', String(count), baseUrl, tag);
      const target = `${baseUrl}/${tag}-${Math.floor(count / 2)}`;
      const colds = [];
      let warm = null;
      for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) {
        const r = JSON.parse((await probe('getcred', target, i === 0 ? '1000' : '0')).stdout);
        colds.push(r.coldMs);
        if (i === 0) warm = r.warmMedianMs;
      }
      await probe('clean', String(count), baseUrl, tag);
      rmSync(dirs.base, { recursive: true, force: true });
      const row = { store, count, cold: stats(colds).median, warm };
      console.log(`getCredential ${store} with ${count} logins: cold ${f2(row.cold)} ms, warm median ${f2(row.warm)} ms`);
      rows.push(row);
    }
  }
  return rows;
}

async function statusFigures(slow, token) {
  const dirs = homes('status');
  const env = dirs.env;
  const urls = Array.from({ length: 50 }, (_, i) => `${slow.origin}/org${i}`);
  const probe = (...args) => run(process.execPath, [join(ROOT, 'bench/probe.mjs'), ...args], env);
  await run(process.execPath, ['-e', `
    const a = require(${JSON.stringify(join(ROOT, 'index.js'))});
    Promise.all(${JSON.stringify(urls)}.map((u) => a.storeCredential(u, { type: 'pat', token: ${JSON.stringify(token)} })));`], env);
  const one = [];
  const sequential = [];
  const concurrent = [];
  const statusCmd = [];
  const nodeStart = [];
  for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) {
    one.push(JSON.parse((await probe('validate', 'sequential', token, urls[0])).stdout).ms);
    sequential.push(JSON.parse((await probe('validate', 'sequential', token, ...urls)).stdout).ms);
    concurrent.push(JSON.parse((await probe('validate', 'concurrent', token, ...urls)).stdout).ms);
    nodeStart.push((await run(process.execPath, ['-e', '0'], env)).ms);
    statusCmd.push((await run(process.execPath, [join(ROOT, 'bin/tfx-auth.js'), 'status', '--json'], env).catch((e) => ({ ms: NaN, e }))).ms);
  }
  rmSync(dirs.base, { recursive: true, force: true });
  const row = { one: stats(one).median, sequential: stats(sequential).median, concurrent: stats(concurrent).median, statusProcess: stats(statusCmd).median, nodeStart: stats(nodeStart).median };
  console.log(`50 validations at 25 ms: one ${f1(row.one)} ms, sequential ${f1(row.sequential)} ms, concurrent ${f1(row.concurrent)} ms, tfx-auth status process ${f1(row.statusProcess)} ms, node -e 0 ${f1(row.nodeStart)} ms`);
  return row;
}

// The addon users install: this platform's release build from `npm run build:release`
// (artifacts/, cargo-zigbuild, glibc 2.17), which `npm run bench` makes first. Without it (npm
// test's smoke run) the `npm run build` one here, the same command linked by this machine's linker.
function shippedAddon() {
  const shipped = join('artifacts', `tfx-auth.${currentTarget().platformArchABI}.node`);
  if (existsSync(join(ROOT, shipped))) return shipped;
  return execFileSync('bash', ['-c', 'ls tfx-auth.*.node'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n')[0];
}

async function addonFigures() {
  const file = shippedAddon();
  const bytes = statSync(join(ROOT, file)).size;
  const stripped = !execFileSync('file', [join(ROOT, file)], { encoding: 'utf8' }).includes('not stripped');
  const loads = [];
  // The generated loader loads exactly this file.
  const env = { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: join(ROOT, file) };
  for (let i = 0; i < Math.max(3, RUNS); i++) {
    const r = JSON.parse((await run(process.execPath, [join(ROOT, 'bench/probe.mjs'), 'load'], env)).stdout);
    loads.push(r.firstCallMs);
  }
  const row = { file, mb: bytes / 1e6, stripped, load: stats(loads) };
  console.log(`${file}: ${f2(row.mb)} MB${stripped ? ' (stripped)' : ''}, require to first call median ${f2(row.load.median)} ms`);
  return row;
}

if (!process.env.TFX_BENCH_INSIDE) {
  // A private, unlocked gnome-keyring for the whole run (as the tests use).
  const child = spawn(join(ROOT, 'scripts/with-keyring.sh'), [process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, TFX_BENCH_INSIDE: '1' },
  });
  child.on('exit', (code) => process.exit(code ?? 1));
} else {
  await main();
}
