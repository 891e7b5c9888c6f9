#!/usr/bin/env bash
# The one test command (`npm test`): installs what is missing, builds the addon
# when stale, then runs `cargo test` and the node:test suites inside a private
# D-Bus session with a fresh, unlocked gnome-keyring.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-packages.sh

[[ -d node_modules/@napi-rs/cli && -d node_modules/typescript ]] || npm install --no-audit --no-fund

bash scripts/build-if-stale.sh

# Everything the suites write goes under one folder, scanned for secrets at the end.
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tfx-auth-test-run.XXXXXX")"
trap 'rm -rf "$RUN_DIR"' EXIT
mkdir -p "$RUN_DIR/tmp"
export TFX_TEST_SECRETS_LOG="$RUN_DIR/secrets.log" TFX_AUTH_TEST=1

TMPDIR="$RUN_DIR/tmp" scripts/with-keyring.sh bash -c '
  set -euo pipefail
  cargo test --no-default-features
  node --test --test-reporter=tap __test__/*.test.mjs 2>&1 | tee "$0/node-test.log"
' "$RUN_DIR"
node __test__/leak-scan.mjs "$TFX_TEST_SECRETS_LOG" "$RUN_DIR/tmp" "$RUN_DIR/node-test.log"

# A smoke run of `npm run bench` (one pair per scenario, on this Node and Node 24, no
# thresholds): the benchmark keeps working. Its figures mean nothing here.
TMPDIR="$RUN_DIR/tmp" node bench/run.mjs --runs 1 --warmup 0 --counts 1 --out "$RUN_DIR/bench-smoke.md"
