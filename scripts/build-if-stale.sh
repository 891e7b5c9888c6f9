#!/usr/bin/env bash
# Builds the addon (debug, or release with --release) when any Rust input is
# newer than the built .node file.
set -euo pipefail
cd "$(dirname "$0")/.."
node_file="$(ls tfx-auth.*.node 2>/dev/null | head -n1 || true)"
if [[ -n "$node_file" && -z "$(find src Cargo.toml Cargo.lock build.rs scripts/dts-header.d.ts -newer "$node_file" -print -quit)" ]]; then
  exit 0
fi
echo "build: compiling the addon${1:+ ($1)}"
npx napi build --platform "$@"
