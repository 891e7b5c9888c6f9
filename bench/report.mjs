// Writes BENCHMARKS.md for bench/run.mjs: every pair with its ratio spread, the targets of
// issue 15 checked against this run, and the commands to reproduce it.
import { writeFileSync, readFileSync } from 'node:fs';
import { cpus, totalmem, release } from 'node:os';
import { resolve, join } from 'node:path';

export const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
};
export const f1 = (x) => x.toFixed(1);
export const f2 = (x) => x.toFixed(2);

// Targets: [scenario name prefix, Node major or 'any', highest median ratio].
const RATIO_TARGETS = [
  ['tfx version', 24, 0.85],
  ['tfx build list, default URL', 24, 0.85],
  ['tfx build list --service-url', 24, 0.85],
  ['tfx login, 0 ms added', 24, 0.35],
];

function targets(r) {
  const lines = [];
  const major = (label) => Number(label.replace(/^Node v/, '').split('.')[0]);
  const rowsOn = (m) => r.pairs.filter((p) => major(p.node) === m);
  const check = (ok, text) => lines.push(`- ${ok ? 'met' : '**not met**'}: ${text}`);
  for (const [name, m, limit] of RATIO_TARGETS) {
    const row = rowsOn(m).find((p) => p.name === name);
    if (!row) lines.push(`- not measured: ${name} on Node ${m}`);
    else check(row.ratio.median <= limit, `${name} on Node ${m}: ${f2(row.ratio.median)} (target ≤ ${f2(limit)}; spread ${f2(row.ratio.min)}–${f2(row.ratio.max)})`);
  }
  const majors = [...new Set(r.pairs.map((p) => major(p.node)))];
  for (const m of majors) {
    const worst = rowsOn(m).reduce((a, b) => (b.ratio.median > a.ratio.median ? b : a));
    check(worst.ratio.median <= 1, `no median ratio above 1.00 on Node ${m} (highest: ${worst.name}, ${f2(worst.ratio.median)})`);
  }
  for (const [key, what] of [['warm', 'warm getCredential'], ['cold', 'fresh process getCredential']]) {
    const v = r.versus?.find((x) => x.key === key);
    if (v) check(v.ratio.median <= 1, `${what} against @napi-rs/keyring's getPassword: ${f2(v.ratio.median)} (target ≤ 1.00; spread ${f2(v.ratio.min)}–${f2(v.ratio.max)})`);
  }
  if (r.addon) check(r.addon.mb <= 5.5, `addon: ${f2(r.addon.mb)} MB stripped (target ≤ 5.5 MB)`);
  const warm = r.getcred.find((g) => g.store === 'keyring' && g.count === 1);
  if (warm) check(warm.warm <= 1.5, `warm getCredential on the Secret Service: ${f2(warm.warm)} ms (target ≤ 1.5 ms)`);
  if (r.status) {
    const bound = 1.5 * (r.status.one + r.status.nodeStart);
    check(r.status.statusProcess <= bound, `\`tfx-auth status\` with 50 logins: ${f1(r.status.statusProcess)} ms (target ≤ 1.5 × (one validation + Node start) = ${f1(bound)} ms)`);
  }
  return lines;
}

// bench/notes.md: the profiles and the size per crate behind the figures (written by hand).
function notes(ROOT) {
  try {
    return [readFileSync(join(ROOT, 'bench', 'notes.md'), 'utf8').trimEnd(), ''];
  } catch {
    return [];
  }
}

/** The "against @napi-rs/keyring" table: per row, both sides' medians with min–max. */
function versusTable(rows) {
  if (!rows?.length) return [];
  const side = (x) => `${f2(x.median)} (${f2(x.min)}–${f2(x.max)})`;
  return [
    '## Against @napi-rs/keyring',
    '',
    "tfx-auth's `getCredential` (async, encrypted Secret Service session) against `@napi-rs/keyring`'s `Entry.getPassword` (synchronous) on the same private gnome-keyring, one entry each; every figure is a fresh process (bench/versus.mjs), the two alternating (theirs, ours, theirs, ...). Warm: the median of 1,000 reads after the first, per process. Fresh process: from before `require` to the first secret. 200 reads: tfx-auth's issued at once, @napi-rs/keyring's one after another. Ratio = median of the per-pair tfx-auth / @napi-rs/keyring ratios, min–max in brackets.",
    '',
    '| measure | pairs | tfx-auth, median (min–max) ms | @napi-rs/keyring, median (min–max) ms | ratio (min–max) |',
    '|---|---|---|---|---|',
    ...rows.map((v) => `| ${v.name} | ${v.runs} | ${side(v.ours)} | ${side(v.stock)} | **${f2(v.ratio.median)}** (${f2(v.ratio.min)}–${f2(v.ratio.max)}) |`),
    '',
  ];
}

export function writeReport(r, { ROOT, RUNS, WARMUP, out, argv }) {
  const version = JSON.parse(readFileSync(join(ROOT, 'node_modules/tfx-cli/package.json'), 'utf8')).version;
  const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
  const load = (l) => l.map((x) => x.toFixed(2)).join(', ');
  const pairRow = (p) => `| ${p.name}${p.note ? ` (${p.note})` : ''} | ${f1(p.stock.min)} / ${f1(p.stock.median)} / ${f1(p.stock.max)} | ${f1(p.ours.min)} / ${f1(p.ours.median)} / ${f1(p.ours.max)} | **${f2(p.ratio.median)}** (${f2(p.ratio.min)}–${f2(p.ratio.max)}) |`;
  const lines = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` (bench/run.mjs${argv.length ? ` ${argv.join(' ')}` : ''}) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}; load average (1, 5, 15 min) ${load(r.load.start)} at the start, ${load(r.load.end)} at the end (the cores are shared: absolute times are noisy, the alternating ratios much less).`,
    `Versions: stock tfx-cli ${version}; tfx-auth ${ours}; ${r.nodes.map((n) => n.label).join(' and ')}. Fake Azure DevOps server on 127.0.0.1; private gnome-keyring.`,
    `Method: per Node, ${WARMUP} warm-up pairs, then ${RUNS} counted pairs run alternately (stock, tfx-auth, stock, ...); times are whole processes, wall clock; ratio = median of the per-pair tfx-auth/stock ratios, with their min–max in brackets. Stock runs as users run it (no compile cache); tfx-auth's \`tfx\` keeps its compile cache in the user's cache folder (Node 22.1+'s own, tfx/code-cache.js before), filled by the warm-up.`,
    ...r.notes.map((n) => `Note: ${n}.`),
    '',
    '## Targets',
    '',
    ...targets(r),
    '',
    'A target not met is explained under *Where the time goes* below, with the profile behind it.',
    '',
  ];
  for (const node of r.nodes) {
    lines.push(`## tfx commands, ${node.label}`, '', '| scenario | stock min / median / max (ms) | tfx-auth min / median / max (ms) | ratio (min–max) |', '|---|---|---|---|');
    lines.push(...r.pairs.filter((p) => p.node === node.label).map(pairRow), '');
  }
  lines.push(
    ...versusTable(r.versus),
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
    '| one validation | 50 one after another | 50 concurrent (in process) | `tfx-auth status --json` (whole process) | `node -e 0` |',
    '|---|---|---|---|---|',
    `| ${f1(r.status.one)} ms | ${f1(r.status.sequential)} ms | ${f1(r.status.concurrent)} ms | ${f1(r.status.statusProcess)} ms | ${f1(r.status.nodeStart)} ms |`,
    '',
    `Concurrent / one validation: ${f2(r.status.concurrent / r.status.one)}. Status process / (one validation + Node start): ${f2(r.status.statusProcess / (r.status.one + r.status.nodeStart))}.`,
    '',
    '## The addon',
    '',
    `\`${r.addon.file}\`: ${f2(r.addon.mb)} MB${r.addon.stripped ? ', stripped' : ''}; \`require\` to first call: median ${f2(r.addon.load.median)} ms (min ${f2(r.addon.load.min)}, max ${f2(r.addon.load.max)}).`,
    '',
    ...notes(ROOT),
    '## Reproduce',
    '',
    '```sh',
    'npm ci --no-audit --no-fund',
    'npm run bench                      # release build if stale, then node bench/run.mjs',
    'npm run bench -- --runs 40         # more pairs',
    'bash scripts/node24.sh             # where Node 24 is (unpacked once into ~/.cache/tfx-auth-node24)',
    'node bench/run.mjs --runs 1 --warmup 0 --counts 1 --out /tmp/bench.md   # the smoke run of npm test',
    '```',
    '',
  );
  writeFileSync(resolve(ROOT, out), lines.join('\n'));
  console.log(`wrote ${out}`);
}
