// Shared helpers for the node:test suites: isolated folders, child processes,
// and the secret scan every suite ends with.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A fresh HOME and XDG_CONFIG_HOME under one temp folder. */
export function freshDirs(label = 'tfx-auth-test') {
  const base = mkdtempSync(join(tmpdir(), `${label}-`));
  return { base, HOME: join(base, 'home'), XDG_CONFIG_HOME: join(base, 'config') };
}

/** Points this process at fresh folders; call before the addon's first use. */
export function isolateThisProcess(label) {
  const dirs = freshDirs(label);
  process.env.HOME = dirs.HOME;
  process.env.XDG_CONFIG_HOME = dirs.XDG_CONFIG_HOME;
  return dirs;
}

/** A random, recognisable secret; every one made is checked by the leak scan. */
const secretsUsed = new Set();
export function makeSecret(prefix = 'sekrit') {
  return rememberSecret(`${prefix}${randomBytes(12).toString('hex')}`);
}
/** Tracks a secret for this suite's scan and for the whole-run scan (leak-scan.mjs). */
export function rememberSecret(secret) {
  secretsUsed.add(secret);
  if (process.env.TFX_TEST_SECRETS_LOG) appendFileSync(process.env.TFX_TEST_SECRETS_LOG, `${secret}\n`);
  return secret;
}

/** Everything shown to a user in this suite: messages, stack traces, output. */
const shown = [];
export function record(text) {
  shown.push(String(text));
  return text;
}

/** Awaits `promise`, expecting a rejection; records and returns the error. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    record(err?.message);
    record(err?.stack);
    record(JSON.stringify(err));
    return err;
  }
  throw new Error('expected a rejection');
}

// How much longer a child may take before it counts as hung: test-arm64.sh sets it, as every
// arm64 process there runs under qemu's instruction translation.
const TIMEOUT_SCALE = Math.max(1, Number(process.env.TFX_TEST_TIMEOUT_SCALE) || 1);

/** Runs a command; resolves to { code, stdout, stderr } and records the output. */
export function run(cmd, args, { env = process.env, input, cwd = ROOT, timeoutMs = 60_000, recordOutput = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs * TIMEOUT_SCALE);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    // A child that exits without reading its input must not crash the test.
    child.stdin.on('error', () => {});
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (recordOutput) {
        record(stdout);
        record(stderr);
      }
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(input ?? '');
  });
}

/** Runs a snippet of ESM in a fresh Node process with `addon` in scope. */
export function runAddonScript(body, env, options = {}) {
  const script = `import { createRequire } from 'node:module';
const addon = createRequire(${JSON.stringify(join(ROOT, 'index.js'))})(${JSON.stringify(join(ROOT, 'index.js'))});
const out = (v) => process.stdout.write(JSON.stringify(v) + '\\n');
try { ${body} } catch (e) { out({ error: e.code ?? String(e), message: e.message }); }`;
  return run(process.execPath, ['--input-type=module', '-e', script], { env, ...options });
}

/** Every file under `dir` (recursively), for leak scans. */
export function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size < 5_000_000) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * The leak scan: no secret used in this suite appears in anything recorded
 * (messages, stacks, child output) nor in any file under `dirs`, except the
 * files listed in `allowed` (the file store, by design).
 */
export function findLeaks({ dirs = [], allowed = [] } = {}) {
  const leaks = [];
  for (const secret of secretsUsed) {
    shown.forEach((text, i) => text.includes(secret) && leaks.push(`recorded output #${i}`));
    for (const dir of dirs) {
      for (const file of filesUnder(dir)) {
        if (allowed.includes(file)) continue;
        if (readFileSync(file).includes(secret)) leaks.push(file);
      }
    }
  }
  return leaks;
}

export function secretCount() {
  return secretsUsed.size;
}
