#!/usr/bin/env bash
# Runs every cargo-fuzz target for a short while from the committed corpus
# (SECONDS_PER_TARGET, default 10). cargo-fuzz needs nightly features; the
# stable toolchain provides them with RUSTC_BOOTSTRAP=1.
# Usage: scripts/fuzz-smoke.sh [target...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz
export RUSTC_BOOTSTRAP=1
seconds="${SECONDS_PER_TARGET:-10}"
targets=("$@")
((${#targets[@]})) || targets=(service_url host_agreement stored_credential legacy_escape classify)
for target in "${targets[@]}"; do
  # A scratch copy of the corpus: new inputs found in a smoke run are not committed.
  work="$(mktemp -d)"
  cp -r "corpus/$target/." "$work/" 2>/dev/null || true
  echo "fuzz: $target for ${seconds}s"
  log="$work.log"
  if ! cargo fuzz run "$target" "$work" -- -max_total_time="$seconds" -print_final_stats=1 >"$log" 2>&1; then
    grep -E 'panicked|ERROR|Test unit written' "$log" >&2 || tail -n 30 "$log" >&2
    echo "fuzz: $target crashed" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $target /"
  rm -rf "$work" "$log"
done
echo "fuzz: ${#targets[@]} targets, no crash"
