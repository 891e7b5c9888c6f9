#!/usr/bin/env bash
# `npm run test:installed`: ships this platform's package for real and tests what a user gets.
#  1. release build of this platform's addon, copied into npm/<platform>/ (where `napi artifacts`
#     puts every platform's in the release workflow); with TFX_AUTH_ARTIFACTS=<folder> the
#     tfx-auth.<platform>.node found there is used instead (the workflow tests its release build);
#  2. `npm pack` of that platform package and of the main package (scripts/pack.mjs);
#  3. `npm install -g --prefix <fresh folder>` of both tarballs, from a folder with no source tree;
#  4. scripts/smoke-installed.mjs, the smoke test the workflow runs on every platform;
#  5. the drop-in end-to-end suite (__test__/tfx-e2e.test.mjs) against that install
#     (TFX_AUTH_E2E_PREFIX), and __test__/installed/*.test.mjs: the install without its platform
#     package, with and without cargo (the source fallback and its message);
#  6. the whole-run secret scan, as npm test does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

bash scripts/system-packages.sh
[[ -d node_modules/@napi-rs/cli ]] || npm install --no-audit --no-fund

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tfx-auth-installed.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
platform="$(node -p "require('./scripts/platform.js').currentTarget().platformArchABI")"
version="$(node -p "require('./package.json').version")"

step() { printf '\ntest-installed: %s\n' "$*"; }

if [[ -n "${TFX_AUTH_ARTIFACTS:-}" ]]; then
  step "using the prebuilt $TFX_AUTH_ARTIFACTS/tfx-auth.$platform.node"
  cp "$TFX_AUTH_ARTIFACTS/tfx-auth.$platform.node" "npm/$platform/"
else
  step "release build of the $platform addon"
  start=$SECONDS
  # --no-js: the generated loader and types stay as the source tree has them.
  # The one build command, as npm run build and the release workflow run it (scripts/build.mjs).
  node scripts/build.mjs --platform --release --no-js --output-dir "$WORK/artifacts"
  cp "$WORK/artifacts/tfx-auth.$platform.node" "npm/$platform/"
  echo "test-installed: release build took $((SECONDS - start)) s"
fi
ls -l "npm/$platform/"

step "npm pack"
node scripts/pack.mjs --out "$WORK/dist" --platform "$platform" | tee "$WORK/packed.txt"

step "npm install -g --prefix (no source tree around)"
start=$SECONDS
mkdir -p "$WORK/elsewhere"
# --omit=optional keeps the registry out of it: the platform package is the tarball built above,
# installed beside tfx-auth, never a published one.
(cd "$WORK/elsewhere" && npm install --global --prefix "$WORK/prefix" --omit=optional --prefer-offline \
  --no-audit --no-fund --loglevel=error \
  "$WORK/dist/tfx-auth-$version.tgz" "$WORK/dist/tfx-auth-binding-$platform-$version.tgz")
echo "test-installed: install took $((SECONDS - start)) s"

step "smoke test of the install (as on every platform in the workflow)"
node scripts/smoke-installed.mjs "$WORK/prefix"

step "end-to-end suite against the install"
RUN_DIR="$WORK/run"
mkdir -p "$RUN_DIR/tmp"
export TFX_TEST_SECRETS_LOG="$RUN_DIR/secrets.log" TFX_AUTH_TEST=1
export TFX_AUTH_E2E_PREFIX="$WORK/prefix" TFX_AUTH_E2E_DIST="$WORK/dist"
# The source-fallback test reuses the release build's compiled dependencies.
export TFX_AUTH_E2E_CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
TMPDIR="$RUN_DIR/tmp" scripts/with-keyring.sh bash -c '
  set -euo pipefail
  node --test --test-reporter=tap __test__/tfx-e2e.test.mjs __test__/installed/*.test.mjs 2>&1 | tee "$0/node-test.log"
' "$RUN_DIR"
node __test__/leak-scan.mjs "$TFX_TEST_SECRETS_LOG" "$RUN_DIR/tmp" "$RUN_DIR/node-test.log"
