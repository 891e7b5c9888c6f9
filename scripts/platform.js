'use strict';
// Which native addon this machine needs, where it comes from, and the one message that says what
// to do when it cannot be loaded. Shared by binding.js (require('tfx-auth')) and
// scripts/install.js (the install-time check and source build). No dependencies.

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));

const RUST_ARCH = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7', riscv64: 'riscv64gc', ppc64: 'powerpc64le', s390x: 's390x', loong64: 'loongarch64' };
const NODE_ARCH = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm', riscv64gc: 'riscv64', powerpc64le: 'ppc64', s390x: 's390x', loongarch64: 'loong64' };

/** Whether this Linux uses musl (the generated loader asks the same questions). */
function isMusl() {
  if (process.platform !== 'linux') return false;
  try {
    const report = process.report && process.report.getReport();
    if (report && report.header && report.header.glibcVersionRuntime) return false;
    if (report && Array.isArray(report.sharedObjects)) {
      return report.sharedObjects.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'));
    }
  } catch {
    // fall through
  }
  try {
    return fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl');
  } catch {
    return false;
  }
}

/**
 * napi-rs's name for a platform (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`...) and the
 * Rust target triple it is built for.
 */
function currentTarget() {
  const { platform, arch } = process;
  const rustArch = RUST_ARCH[arch] || arch;
  if (platform === 'linux') {
    const libc = isMusl() ? 'musl' : 'gnu';
    const abi = arch === 'arm' ? `${libc}eabihf` : libc;
    return { platformArchABI: `linux-${arch}-${abi}`, triple: `${rustArch}-unknown-linux-${abi}` };
  }
  if (platform === 'win32') return { platformArchABI: `win32-${arch}-msvc`, triple: `${rustArch}-pc-windows-msvc` };
  if (platform === 'darwin') return { platformArchABI: `darwin-${arch}`, triple: `${rustArch}-apple-darwin` };
  if (platform === 'android') return { platformArchABI: `android-${arch}`, triple: `${rustArch}-linux-android` };
  return { platformArchABI: `${platform}-${arch}`, triple: `${rustArch}-unknown-${platform}` };
}

/** napi-rs's platform name of a Rust target triple in package.json's napi.targets. */
function platformArchABIOf(triple) {
  const [cpu, , sys, abi] = triple.split('-');
  const arch = NODE_ARCH[cpu] || cpu;
  if (sys === 'linux') return `linux-${arch}-${abi}`;
  if (sys === 'darwin') return `darwin-${arch}`;
  if (sys === 'windows') return `win32-${arch}-${abi}`;
  return `${sys}-${arch}`;
}

/** Everything about the addon this machine needs. */
function addonInfo() {
  const target = currentTarget();
  const packageName = `${pkg.napi.packageName}-${target.platformArchABI}`;
  const prebuilt = pkg.napi.targets.map(platformArchABIOf);
  return {
    ...target,
    version: pkg.version,
    packageName,
    prebuilt,
    supported: prebuilt.includes(target.platformArchABI),
    // Where a source build puts it; the generated loader looks there first.
    localFile: path.join(ROOT, `${pkg.napi.binaryName}.${target.platformArchABI}.node`),
  };
}

/** Whether a package resolves from tfx-auth's folder (it is installed where the loader looks). */
function isInstalled(name) {
  try {
    require.resolve(`${name}/package.json`, { paths: [ROOT] });
    return true;
  } catch {
    return false;
  }
}

/** The most telling reason in the generated loader's error chain (not a "Cannot find module"). */
function loadReason(error) {
  const messages = [];
  for (let e = error, depth = 0; e && depth < 50; e = e.cause, depth++) {
    if (typeof e.message === 'string') messages.push(e.message.split('\n')[0]);
  }
  return messages.find((m) => !/^Cannot find (module|native binding)|^Failed to load native binding/.test(m)) || null;
}

/**
 * The one message for "the native addon cannot be loaded": the platform, the package that
 * carries its prebuilt addon, what went wrong and what to do.
 * @param {object} [o]
 * @param {Error} [o.cause]   the generated loader's error
 * @param {string} [o.extra]  one more sentence (the install script says why it did not build)
 */
function addonMessage({ cause, extra } = {}) {
  const info = addonInfo();
  const wanted = `${info.packageName}@${info.version}`;
  const lines = [
    `tfx-auth cannot load its native addon on ${info.platformArchABI} (Rust target ${info.triple}, Node.js ${process.version}).`,
  ];
  const reason = cause ? loadReason(cause) : null;
  const because = reason ? `: ${reason}` : '.';
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH;
  if (override) {
    lines.push(`NAPI_RS_NATIVE_LIBRARY_PATH is set to ${override}, and that file did not load${because}`);
  } else if (!ROOT.split(path.sep).includes('node_modules')) {
    // A source checkout, not an installed package: the addon is built here.
    const state = fs.existsSync(info.localFile) ? `its build, ${path.basename(info.localFile)}, did not load${because}` : 'the addon is not built yet.';
    lines.push(`This is a source checkout (${ROOT}) and ${state}`);
    lines.push('To fix: npm run build (or npm run build:debug).');
    return lines.join('\n');
  } else if (fs.existsSync(info.localFile)) {
    lines.push(`The addon built from source, ${info.localFile}, did not load${because}`);
  } else if (!info.supported) {
    lines.push(`No prebuilt addon is published for this platform (it would be ${wanted}); ` +
      `there are prebuilt addons for ${info.prebuilt.join(', ')}.`);
  } else if (isInstalled(info.packageName)) {
    lines.push(`Its prebuilt addon, the package ${wanted}, is installed but did not load${because}`);
  } else {
    lines.push(`Its prebuilt addon is the optional dependency ${wanted}, which is not installed ` +
      '(npm leaves optional dependencies out with --omit=optional, and a package-lock.json written ' +
      'on another platform can lack them: npm/cli#4828).');
  }
  if (extra) lines.push(extra);
  lines.push('To fix, either:');
  if (info.supported) {
    lines.push(`  - reinstall tfx-auth so that npm installs ${wanted} with it: in a project, delete node_modules and ` +
      'package-lock.json, then run npm install (without --omit=optional); for a global install, run npm install -g tfx-auth');
  }
  lines.push(`  - ${info.supported ? 'or ' : ''}build the addon from source: install Rust (https://rustup.rs) and a C compiler, ` +
    'then run npm rebuild tfx-auth (npm rebuild -g tfx-auth for a global install)');
  return lines.join('\n');
}

/**
 * The Error that require('tfx-auth') throws instead of the generated loader's. The loader's own
 * error chain stays reachable as `loaderError` (not enumerable, so an uncaught error prints our
 * message only; its telling part is in the message already).
 */
function addonError(cause) {
  const error = new Error(addonMessage({ cause }));
  error.code = 'NATIVE_ADDON_UNAVAILABLE';
  Object.defineProperty(error, 'loaderError', { value: cause, enumerable: false, configurable: true, writable: true });
  return error;
}

module.exports = { ROOT, pkg, currentTarget, platformArchABIOf, addonInfo, addonMessage, addonError, isInstalled };
