#!/usr/bin/env bash
# Cargo for `napi build` (through its CARGO override): `cargo build` becomes
# `cargo rustc --lib --crate-type cdylib`, so the addon is linked as a cdylib
# alone. Built together with the rlib that tests/ and fuzz/ link against, every
# public Rust item stays exported, LTO cannot drop or internalise it, and the
# stripped addon was 1.4 MB larger (6.18 MB against 4.78 MB; BENCHMARKS.md).
# Any other cargo command passes through unchanged.
set -euo pipefail
cargo="${TFX_AUTH_REAL_CARGO:-cargo}"
unset CARGO
if [[ "${1:-}" == build ]]; then
  shift
  exec "$cargo" rustc --lib --crate-type cdylib "$@"
fi
exec "$cargo" "$@"
