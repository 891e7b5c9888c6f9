#!/usr/bin/env bash
# Builds the addon when any Rust input is newer than the built .node file, or
# when the wanted profile (debug, or release with --release) differs from the
# one last built. Extra arguments go to `napi build` (through scripts/build.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
profile=debug
[[ " $* " == *" --release "* ]] && profile=release
stamp=target/.tfx-auth-node-profile
node_file="$(ls tfx-auth.*.node 2>/dev/null | head -n1 || true)"
if [[ -n "$node_file" && "$(cat "$stamp" 2>/dev/null)" == "$profile" &&
      -z "$(find src Cargo.toml Cargo.lock build.rs package.json scripts/dts-header.d.ts scripts/build.mjs scripts/cdylib.js -newer "$node_file" -print -quit)" ]]; then
  exit 0
fi
echo "build: compiling the addon ($profile)"
# The one build command (scripts/build.mjs): the same addon npm run build and the release make.
node scripts/build.mjs --platform "$@"
mkdir -p target && echo "$profile" > "$stamp"
