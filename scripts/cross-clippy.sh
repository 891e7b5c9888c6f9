#!/usr/bin/env bash
# `cargo clippy -D warnings`, both feature sets, for the Windows and macOS targets we ship, from
# this Linux machine (run by .ci/run). Nothing is linked, so no Windows or macOS SDK is needed:
# only ring's build script compiles C, which Debian's clang does with the settings below
# (PLATFORMS.md in the shared notes). The objects it makes are never used.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(x86_64-pc-windows-msvc aarch64-pc-windows-msvc x86_64-apple-darwin aarch64-apple-darwin)

bash scripts/system-packages.sh clang=clang llvm-lib=llvm llvm-ar=llvm
installed="$(rustup target list --installed)"
for target in "${TARGETS[@]}"; do
  grep -qx "$target" <<<"$installed" || rustup target add "$target"
done

# A stand-in for the one macOS SDK header ring's C includes.
SDK_STUB="target/cross-clippy/include"
mkdir -p "$SDK_STUB"
cat > "$SDK_STUB/TargetConditionals.h" <<'H'
/* Stand-in for the macOS SDK header, for `cargo clippy` only (nothing is linked). */
#pragma once
#define TARGET_OS_MAC 1
#define TARGET_OS_OSX 1
#define TARGET_OS_IPHONE 0
#define TARGET_OS_IOS 0
H

for target in "${TARGETS[@]}"; do
  t="${target//-/_}"
  case "$target" in
    *-windows-msvc)
      export "CC_$t=clang" "AR_$t=llvm-lib" "CFLAGS_$t=-DRING_CORE_NOSTDLIBINC=1 -fgnuc-version=4.2.1" ;;
    *-apple-darwin)
      export "CC_$t=clang" "AR_$t=llvm-ar" \
        "CFLAGS_$t=-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -isystem $PWD/$SDK_STUB" ;;
  esac
  start=$SECONDS
  cargo clippy --quiet --target "$target" --all-targets -- -D warnings
  cargo clippy --quiet --target "$target" --all-targets --no-default-features -- -D warnings
  echo "cross-clippy: $target clean ($((SECONDS - start)) s)"
done
