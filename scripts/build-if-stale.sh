#!/usr/bin/env bash
# Builds the addon when any Rust input is newer than the built .node file, or
# when the wanted profile (debug, or release with --release) differs from the
# one last built. Extra arguments go to `napi build`.
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
[[ " $* " == *" --release "* ]] && profile=release
stamp=target/.tfx-auth-node-profile
node_file="$(ls tfx-auth.*.node 2>/dev/null | head -n1 || true)"
if [[ -n "$node_file" && "$(cat "$stamp" 2>/dev/null)" == "$profile" &&
      -z "$(find src Cargo.toml Cargo.lock build.rs package.json scripts/dts-header.d.ts -newer "$node_file" -print -quit)" ]]; then
  exit 0
fi
echo "build: compiling the addon ($profile)"
# The addon alone as a cdylib: see scripts/cargo-cdylib.sh for why (1.4 MB).
CARGO="$PWD/scripts/cargo-cdylib.sh" npx napi build --platform "$@"
mkdir -p target && echo "$profile" > "$stamp"
