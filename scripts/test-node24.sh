#!/usr/bin/env bash
# `npm run test:node24` (run by .ci/run): `npm test` again under Node.js 24 (scripts/node24.sh
# provides it), while the machine's own Node is older. The addon is the same file (Node-API is
# stable across versions); every node:test suite, the tfx-cli it drives and the children they
# spawn run on Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
node24="$(bash scripts/node24.sh)"
echo "test-node24: node $("$node24" --version) ready ($((SECONDS - start)) s)"
PATH="$(dirname "$node24"):$PATH" bash scripts/test.sh
