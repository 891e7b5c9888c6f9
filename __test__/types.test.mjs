// The TypeScript face of the package, as a user sees it: index.d.ts and the README's ```ts
// examples compiled by the pinned `typescript` devDependency with `strict`, `lib: es2022` and no
// @types/node (`types: []`), importing 'tfx-auth' through its package.json like any consumer.
// A type that only @types/node or the DOM declares (AbortSignal, Buffer, NodeJS.*) fails here.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, run } from './helpers.mjs';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const base = mkdtempSync(join(tmpdir(), 'tfx-auth-types-'));
after(() => rmSync(base, { recursive: true, force: true }));

const STRICT = { strict: true, lib: ['es2022'], types: [], noEmit: true, target: 'es2022', module: 'nodenext' };

/**
 * A consumer project: `files` written into it and compiled (with `also`, absolute paths), 'tfx-auth'
 * resolving to this package through node_modules; tsc's exit code and output.
 */
async function compile(label, files, compilerOptions = STRICT, also = [], packages = {}) {
  const dir = join(base, label);
  mkdirSync(join(dir, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'tfx-auth'), 'dir');
  for (const [name, target] of Object.entries(packages)) symlinkSync(target, join(dir, 'node_modules', name), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `types-${label}`, private: true, type: 'module' }));
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: [...Object.keys(files), ...also] }, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const { code, stdout, stderr } = await run(process.execPath, [TSC, '-p', dir], { cwd: dir, recordOutput: false });
  return { code, output: `${stdout}${stderr}` };
}

/** The ```ts blocks of the README, in order. */
function readmeTypeScript() {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The README's Node-scripts example: the block using azure-devops-node-api. */
const NODE_API_EXAMPLE = (blocks = readmeTypeScript()) => blocks.filter((b) => b.includes("from 'azure-devops-node-api'"));

test('index.d.ts type-checks on its own: strict, lib es2022, no @types/node', async () => {
  const direct = await compile('alone', {}, STRICT, [join(ROOT, 'index.d.ts')]);
  assert.equal(direct.code, 0, direct.output);
  // And through the package's "types", as `import` finds it.
  const imported = await compile('imported', { 'check.ts': "export type { Credential, ConnectOptions } from 'tfx-auth';\n" });
  assert.equal(imported.code, 0, imported.output);
});

test('the README\'s TypeScript examples compile under --strict without @types/node', async () => {
  // The Node-scripts example needs azure-devops-node-api and fetch: the next test.
  const blocks = readmeTypeScript().filter((b) => !NODE_API_EXAMPLE().includes(b));
  assert.ok(blocks.length >= 2, `README has ${blocks.length} \`\`\`ts blocks`);
  const files = Object.fromEntries(blocks.map((text, i) => [`example-${i + 1}.ts`, text]));
  const { code, output } = await compile('readme', files);
  assert.equal(code, 0, `${output}\n${Object.entries(files).map(([n, t]) => `--- ${n}\n${t}`).join('')}`);
});

test('a real AbortSignal fits every signal option, and something else does not', async () => {
  const use = `import { validateConnection, login, startEntraLogin, type ConnectOptions } from 'tfx-auth';
const controller = new AbortController();
const options: ConnectOptions = { signal: controller.signal, timeoutMs: 5000 };
await validateConnection('https://dev.azure.com/fabfiber', { type: 'pat', token: 't' }, options);
await login('https://dev.azure.com/fabfiber', { type: 'pat', token: 't' }, { signal: AbortSignal.timeout(1000) });
const signIn = await startEntraLogin('https://dev.azure.com/fabfiber', { signal: controller.signal });
await signIn.complete({ signal: controller.signal });
// @ts-expect-error a string is no signal
const wrong: ConnectOptions = { signal: 'abort' };
// @ts-expect-error an object without addEventListener is no signal
await signIn.complete({ signal: { aborted: false } });
export { wrong };
`;
  // The DOM's AbortSignal (Node's has the same shape): lib dom declares it, index.d.ts must not need it.
  const { code, output } = await compile('signal', { 'signal.ts': use }, { ...STRICT, lib: ['es2022', 'dom'] });
  assert.equal(code, 0, output);
});

test('the README\'s Node-scripts example (getWebApi, getRequestHandler, getAuthorizationHeader) compiles against the real azure-devops-node-api', async () => {
  const [example, ...more] = NODE_API_EXAMPLE();
  assert.ok(example && more.length === 0, 'one README block uses azure-devops-node-api');
  for (const name of ['getWebApi', 'getRequestHandler', 'getAuthorizationHeader']) assert.match(example, new RegExp(`\\b${name}(<\\w+>)?\\(`));
  // A consumer with azure-devops-node-api installed. Its own .d.ts files import Node's `http`
  // (@types/node, absent here), so they are not checked (skipLibCheck) but still read: WebApi's
  // constructor must accept a RequestHandler. `fetch` and `console` come from lib dom.
  const nodeApi = dirname(createRequire(import.meta.url).resolve('azure-devops-node-api/package.json'));
  const options = { ...STRICT, lib: ['es2022', 'dom'], skipLibCheck: true };
  const { code, output } = await compile('node-api', { 'scripts.ts': example }, options, [], { 'azure-devops-node-api': nodeApi });
  assert.equal(code, 0, `${output}\n${example}`);
  // And a handler of the wrong shape is refused there: the check above can fail.
  const wrong = "import { WebApi } from 'azure-devops-node-api';\nnew WebApi('https://x', { prepareRequest: 1 });\n";
  const refused = await compile('node-api-wrong', { 'wrong.ts': wrong }, options, [], { 'azure-devops-node-api': nodeApi });
  assert.notEqual(refused.code, 0, refused.output);
});
