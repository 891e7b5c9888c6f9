// tfx-auth against @napi-rs/keyring on one Secret Service, one measurement per fresh process,
// printed as JSON on stdout (bench/run.mjs alternates them). `ours` is tfx-auth's
// getCredential (the package's main, as users require it); `theirs` is @napi-rs/keyring's
// Entry.getPassword (synchronous). Each side reads its own one entry.
//   node bench/versus.mjs seed <url> <token>   -> one login for tfx-auth, one entry for theirs
//   node bench/versus.mjs clean <url>
//   node bench/versus.mjs cold ours|theirs <url>          -> require + first read
//   node bench/versus.mjs warm ours|theirs <url> <reads>  -> median of <reads> reads after the first
//   node bench/versus.mjs many ours|theirs <url> <reads>  -> <reads> reads: ours concurrent, theirs one by one
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const [what, side, url, extra] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const out = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const SERVICE = 'tfx-auth-bench-versus';
const USER = 'bench';

/** One read function per side, each failing loudly when its entry is missing. */
function reader(which, target) {
  if (which === 'ours') {
    const { getCredential } = require('../binding.js');
    return async () => {
      const c = await getCredential(target);
      if (!c?.token) throw new Error('tfx-auth: no login');
      return c.token;
    };
  }
  if (which === 'theirs') {
    const { Entry } = require('@napi-rs/keyring');
    const entry = new Entry(SERVICE, USER);
    return () => {
      const p = entry.getPassword();
      if (!p) throw new Error('@napi-rs/keyring: no entry');
      return p;
    };
  }
  throw new Error(`unknown side ${which}`);
}

switch (what) {
  case 'seed': {
    await require('../binding.js').storeCredential(side, { type: 'pat', token: url });
    new (require('@napi-rs/keyring').Entry)(SERVICE, USER).setPassword(url);
    out({ done: true });
    break;
  }
  case 'clean': {
    await require('../binding.js').deleteCredential(side);
    new (require('@napi-rs/keyring').Entry)(SERVICE, USER).deletePassword();
    out({ done: true });
    break;
  }
  case 'cold': {
    const read = reader(side, url);
    await read();
    out({ ms: performance.now() - t0 });
    break;
  }
  case 'warm': {
    const read = reader(side, url);
    await read();
    const times = [];
    // The synchronous side is not awaited: its figure is the call alone.
    const sync = side === 'theirs';
    for (let i = 0; i < Number(extra); i++) {
      const s = performance.now();
      if (sync) read();
      else await read();
      times.push(performance.now() - s);
    }
    out({ ms: median(times) });
    break;
  }
  case 'many': {
    const read = reader(side, url);
    await read();
    const n = Number(extra);
    const s = performance.now();
    if (side === 'ours') await Promise.all(Array.from({ length: n }, read));
    else for (let i = 0; i < n; i++) read();
    out({ ms: performance.now() - s });
    break;
  }
  default:
    throw new Error(`unknown probe ${what}`);
}
