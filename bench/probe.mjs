// One measurement inside a fresh Node process, printed as JSON on stdout.
//   node bench/probe.mjs load                      -> addon require + first call
//   node bench/probe.mjs getcred <url> <warmCalls> -> cold first getCredential, then warm median
//   node bench/probe.mjs seed <count> <base> <tag> -> stores <count> logins <base>/<tag>-<i>
//   node bench/probe.mjs clean <count> <base> <tag>
//   node bench/probe.mjs validate <mode> <token> <url...> -> one | sequential | concurrent timings
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const [what, ...args] = process.argv.slice(2);
const out = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const t0 = performance.now();
const addon = createRequire(import.meta.url)('../index.js');
const loaded = performance.now();

switch (what) {
  case 'load': {
    addon.normalizeServiceUrl('https://dev.azure.com/x');
    out({ requireMs: loaded - t0, firstCallMs: performance.now() - t0 });
    break;
  }
  case 'getcred': {
    const [url, warmCalls] = [args[0], Number(args[1])];
    const cred = await addon.getCredential(url);
    const coldMs = performance.now() - t0;
    if (!cred) throw new Error(`no login for ${url}`);
    const times = [];
    for (let i = 0; i < warmCalls; i++) {
      const s = performance.now();
      await addon.getCredential(url);
      times.push(performance.now() - s);
    }
    out({ coldMs, warmMedianMs: median(times), backend: addon.storageInfo().backend });
    break;
  }
  case 'seed':
  case 'clean': {
    const [count, base, tag] = [Number(args[0]), args[1], args[2]];
    for (let i = 0; i < count; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(count, i + 50); j++) {
        const url = `${base}/${tag}-${j}`;
        batch.push(what === 'seed' ? addon.storeCredential(url, { type: 'pat', token: `bench-token-${j}` }) : addon.deleteCredential(url));
      }
      await Promise.all(batch);
    }
    out({ done: count });
    break;
  }
  case 'validate': {
    const [mode, token, ...urls] = args;
    const cred = { type: 'pat', token };
    const s = performance.now();
    if (mode === 'concurrent') await Promise.all(urls.map((u) => addon.validateConnection(u, cred)));
    else for (const u of urls) await addon.validateConnection(u, cred);
    out({ ms: performance.now() - s });
    break;
  }
  default:
    throw new Error(`unknown probe ${what}`);
}
