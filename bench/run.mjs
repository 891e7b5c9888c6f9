// `npm run bench`: stock tfx-cli 0.23.1 against tfx-auth, side by side in one run.
// Starts the fake Azure DevOps server (optionally adding a delay per request to stand in for a
// network) and, when no Secret Service is reachable, re-runs itself under a private gnome-keyring.
// Runs A and B alternately (A B A B ...) after a warm-up, reports min / median / max and the
// median of per-pair ratios, and writes BENCHMARKS.md. No timed assertions live in the tests.
//
//   node bench/run.mjs [--runs 10] [--warmup 2] [--out BENCHMARKS.md]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir, cpus, totalmem, release } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { startFakeAdo } from '../__test__/fixtures/fake-ado.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '20' }, warmup: { type: 'string', default: '2' }, out: { type: 'string', default: 'BENCHMARKS.md' } },
});
const RUNS = Number(opts.runs);
const WARMUP = Number(opts.warmup);


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

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
const f1 = (x) => x.toFixed(1);
const f2 = (x) => x.toFixed(2);

function homes(label) {
  const base = mkdtempSync(join(tmpdir(), `tfx-bench-${label}-`));
  return { base, env: { ...process.env, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'config'), TERM: 'dumb', TFX_AUTH_STORE: '' } };
}

const STOCK = join(ROOT, 'node_modules/tfx-cli/_build/tfx-cli.js');
const OURS = join(ROOT, 'tfx/tfx.js');

/** A B A B ... after a warm-up; returns the table row. */
async function pair(name, a, b) {
  for (let i = 0; i < WARMUP; i++) { await a(); await b(); }
  const as = [];
  const bs = [];
  const ratios = [];
  for (let i = 0; i < RUNS; i++) {
    const ta = await a();
    const tb = await b();
    as.push(ta);
    bs.push(tb);
    ratios.push(tb / ta);
  }
  const row = { name, stock: stats(as), ours: stats(bs), ratio: stats(ratios).median };
  console.log(`${name}: stock ${f1(row.stock.median)} ms, tfx-auth ${f1(row.ours.median)} ms, ratio ${f2(row.ratio)}`);
  return row;
}

async function main() {
  const results = { pairs: [], getcred: [], status: null, addon: null };
  const token = 'bench-pat-0123456789';
  const server = await startFakeAdo({ tokens: [token] });
  const slow = await startFakeAdo({ tokens: [token], delayMs: 25 });
  const cleanup = [];
  try {
    const stock = homes('stock');
    const ours = homes('ours');
    cleanup.push(stock.base, ours.base);
    const login = (url) => ['login', '--service-url', url, '--token', token, '--no-prompt'];
    const timed = (script, args, env) => async () => (await run(process.execPath, [script, ...args], env)).ms;

    results.pairs.push(await pair('tfx login, 0 ms added', timed(STOCK, login(server.url), stock.env), timed(OURS, login(server.url), ours.env)));
    results.pairs.push(await pair('tfx login, 25 ms added per request', timed(STOCK, login(slow.url), stock.env), timed(OURS, login(slow.url), ours.env)));
    // Both now hold a login for `server.url` as their default.
    await run(process.execPath, [STOCK, ...login(server.url)], stock.env);
    await run(process.execPath, [OURS, ...login(server.url)], ours.env);
    const buildList = ['build', 'list', '--project', 'P', '--no-prompt'];
    results.pairs.push(await pair('tfx build list, reusing the login', timed(STOCK, buildList, stock.env), timed(OURS, buildList, ours.env)));

    results.getcred = await getCredentialFigures(server.url);
    results.status = await statusFigures(slow, token);
    results.addon = await addonFigures();
  } finally {
    await server.close();
    await slow.close();
    for (const dir of cleanup) rmSync(dir, { recursive: true, force: true });
  }
  writeReport(results);
}

async function getCredentialFigures(baseUrl) {
  const rows = [];
  for (const store of ['keyring', 'file']) {
    for (const count of [1, 100, 1000]) {
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
  for (let i = 0; i < Math.max(3, Math.floor(RUNS / 2)); i++) {
    one.push(JSON.parse((await probe('validate', 'sequential', token, urls[0])).stdout).ms);
    sequential.push(JSON.parse((await probe('validate', 'sequential', token, ...urls)).stdout).ms);
    concurrent.push(JSON.parse((await probe('validate', 'concurrent', token, ...urls)).stdout).ms);
    statusCmd.push((await run(process.execPath, [join(ROOT, 'bin/tfx-auth.js'), 'status', '--json'], env).catch((e) => ({ ms: NaN, e }))).ms);
  }
  rmSync(dirs.base, { recursive: true, force: true });
  const row = { one: stats(one).median, sequential: stats(sequential).median, concurrent: stats(concurrent).median, statusProcess: stats(statusCmd).median };
  console.log(`50 validations at 25 ms: one ${f1(row.one)} ms, sequential ${f1(row.sequential)} ms, concurrent ${f1(row.concurrent)} ms, tfx-auth status process ${f1(row.statusProcess)} ms`);
  return row;
}

async function addonFigures() {
  const file = execFileSync('bash', ['-c', 'ls tfx-auth.*.node'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n')[0];
  const bytes = statSync(join(ROOT, file)).size;
  const stripped = !execFileSync('file', [join(ROOT, file)], { encoding: 'utf8' }).includes('not stripped');
  const loads = [];
  for (let i = 0; i < RUNS; i++) {
    const r = JSON.parse((await run(process.execPath, [join(ROOT, 'bench/probe.mjs'), 'load'], process.env)).stdout);
    loads.push(r.firstCallMs);
  }
  const row = { file, mb: bytes / 1e6, stripped, load: stats(loads) };
  console.log(`${file}: ${f2(row.mb)} MB${stripped ? ' (stripped)' : ''}, require to first call median ${f2(row.load.median)} ms`);
  return row;
}

function writeReport(r) {
  const version = JSON.parse(readFileSync(join(ROOT, 'node_modules/tfx-cli/package.json'), 'utf8')).version;
  const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.mjs) on ${new Date().toISOString().slice(0, 10)}.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}; Node ${process.version}.`,
    `Versions: stock tfx-cli ${version}; tfx-auth ${ours} (release build). Fake Azure DevOps server on 127.0.0.1; private gnome-keyring.`,
    `Method: ${WARMUP} warm-up pairs, then ${RUNS} counted pairs run alternately (stock, tfx-auth, stock, ...); times are whole processes, wall clock; ratio = median of per-pair tfx-auth/stock.`,
    '',
    '| scenario | stock min / median / max (ms) | tfx-auth min / median / max (ms) | ratio |',
    '|---|---|---|---|',
    ...r.pairs.map((p) => `| ${p.name} | ${f1(p.stock.min)} / ${f1(p.stock.median)} / ${f1(p.stock.max)} | ${f1(p.ours.min)} / ${f1(p.ours.median)} / ${f1(p.ours.max)} | ${f2(p.ratio)} |`),
    '',
    '## getCredential in process',
    '',
    'Cold = a fresh process: addon `require` plus the first call. Warm = median of 1,000 calls.',
    '',
    '| store | logins stored | cold (ms) | warm median (ms) |',
    '|---|---|---|---|',
    ...r.getcred.map((g) => `| ${g.store} | ${g.count} | ${f2(g.cold)} | ${f2(g.warm)} |`),
    '',
    '## Validating 50 logins, 25 ms added per request',
    '',
    '| one validation | 50 one after another | 50 concurrent (in process) | `tfx-auth status --json` (whole process) |',
    '|---|---|---|---|',
    `| ${f1(r.status.one)} ms | ${f1(r.status.sequential)} ms | ${f1(r.status.concurrent)} ms | ${f1(r.status.statusProcess)} ms |`,
    '',
    `Concurrent / one validation: ${f2(r.status.concurrent / r.status.one)}.`,
    '',
    '## The addon',
    '',
    `\`${r.addon.file}\`: ${f2(r.addon.mb)} MB${r.addon.stripped ? ', stripped' : ''}; \`require\` to first call: median ${f2(r.addon.load.median)} ms (min ${f2(r.addon.load.min)}, max ${f2(r.addon.load.max)}).`,
    '',
    'Rerun: `npm run bench` (builds the release addon if needed; `-- --runs 40` for more pairs).',
    '',
  ];
  writeFileSync(resolve(ROOT, opts.out), lines.join('\n'));
  console.log(`wrote ${opts.out}`);
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
