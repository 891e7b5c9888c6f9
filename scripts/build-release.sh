#!/usr/bin/env bash
# `npm run build:release` (run by .ci/run and by the release workflow's Linux build jobs): the
# Linux addons of the four platform packages, built as they ship, then checked.
#
#   bash scripts/build-release.sh [--out DIR] [TARGET...]
#
# TARGET is a cargo-zigbuild target; the default is all four:
#   x86_64-unknown-linux-gnu.2.17   -> linux-x64-gnu     aarch64-unknown-linux-gnu.2.17 -> linux-arm64-gnu
#   x86_64-unknown-linux-musl       -> linux-x64-musl    aarch64-unknown-linux-musl     -> linux-arm64-musl
# The .node files go to DIR (default: artifacts/, where the workflow uploads them and
# `npx napi artifacts` takes them from), named as napi names them (tfx-auth.<platform>.node).
#
# Tools, installed once and reused (idempotent): zig and cargo-zigbuild from PyPI into a venv in
# ${XDG_CACHE_HOME:-~/.cache}/tfx-auth-release (the pinned versions below), the Rust targets with
# rustup. Every build is scripts/build.mjs, the one build command (the cdylib alone, release
# profile), with napi's --cross-compile (cargo-zigbuild, zig as the linker and C compiler). They
# share one cargo target folder, target/zigbuild, apart from the host builds' target/ (zig as the
# linker would make the two rebuild each other's dependencies).
#
# Each artefact is checked with readelf (it reads every ELF machine, so the arm64 ones need no
# cross binutils):
#   architecture  ELF machine X86-64 or AArch64, a shared object, exporting napi_register_module_v1
#   glibc builds  no symbol version above GLIBC_2.17 (the README promises glibc 2.17), and only
#                 glibc's own libraries NEEDED
#   musl builds   no glibc library NEEDED and no GLIBC_ symbol version; musl's libc (libc.so) NEEDED,
#                 as a cdylib links libc dynamically (.cargo/config.toml: -crt-static) and takes the
#                 one the musl Node process already has
#   size          at most 5.5 MB (5,500,000 bytes)
# and prints `build-release: <target>: N passed, N failed (S s)`; the last line sums them up.
set -euo pipefail
cd "$(dirname "$0")/.."

ZIG_VERSION=0.14.1
CARGO_ZIGBUILD_VERSION=0.24.1
MAX_BYTES=5500000
MAX_GLIBC=2.17
ALL_TARGETS=(x86_64-unknown-linux-gnu.2.17 aarch64-unknown-linux-gnu.2.17 x86_64-unknown-linux-musl aarch64-unknown-linux-musl)

out=artifacts
targets=()
while (($#)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    -*) echo "build-release: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${ALL_TARGETS[@]}")

tools() {
  local venv="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-release/zig-$ZIG_VERSION-zigbuild-$CARGO_ZIGBUILD_VERSION"
  if [[ ! -x "$venv/bin/cargo-zigbuild" ]]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: \
      "ziglang==$ZIG_VERSION" "cargo-zigbuild==$CARGO_ZIGBUILD_VERSION"
  fi
  # cargo-zigbuild finds zig as `python3 -m ziglang`, the venv's python3 first on PATH.
  export PATH="$venv/bin:$PATH"
  local installed
  installed="$(rustup target list --installed)"
  for target in "${targets[@]}"; do
    local triple="${target%%.*}"
    grep -qx "$triple" <<<"$installed" || rustup target add "$triple"
  done
  [[ -d node_modules/@napi-rs/cli ]] || npm ci --no-audit --no-fund
}

# The platform package a target belongs to (napi's name: linux-x64-gnu, ...).
platform_of() {
  node -p "require('./scripts/platform.js').platformArchABIOf(process.argv[1])" "${1%%.*}"
}

passed=0 failed=0
check() {
  local what="$1"; shift
  if "$@"; then
    echo "  ok   $what"
    ((++passed))
  else
    echo "  FAIL $what"
    ((++failed))
  fi
}

needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }
glibc_versions() { readelf -V -W "$1" | grep -o 'GLIBC_[0-9][0-9.]*' | sort -u -V || true; }
is_glibc_library() { [[ "$1" =~ ^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1|ld-linux.*)$ ]]; }

machine_is() { readelf -h "$1" | grep -q "Machine:[[:space:]]*$2\$"; }
# A shared object defining the symbol Node-API looks up when it loads an addon.
napi_addon() {
  readelf -h "$1" | grep -q 'Type:[[:space:]]*DYN' &&
    readelf --dyn-syms -W "$1" | awk '$7 != "UND" && $8 == "napi_register_module_v1"' | grep -q .
}
max_glibc_at_most() {
  local highest
  highest="$(glibc_versions "$1" | tail -n1)"
  echo "       highest symbol version: ${highest:-none}"
  [[ -n "$highest" && "$(printf '%s\n' "GLIBC_$2" "$highest" | sort -V | tail -n1)" == "GLIBC_$2" ]]
}
only_glibc_libraries() {
  local lib
  for lib in $(needed "$1"); do
    is_glibc_library "$lib" || [[ "$lib" == libgcc_s.so.1 ]] || { echo "       unexpected: $lib"; return 1; }
  done
}
no_glibc() {
  local lib bad=0
  for lib in $(needed "$1"); do
    if is_glibc_library "$lib"; then echo "       glibc library: $lib"; bad=1; fi
  done
  [[ -z "$(glibc_versions "$1")" ]] || { echo "       GLIBC_ symbol versions: $(glibc_versions "$1" | xargs)"; bad=1; }
  ((bad == 0))
}
needs_musl_libc() { needed "$1" | grep -qx 'libc.so'; }
size_at_most() {
  local bytes
  bytes="$(stat -c %s "$1")"
  echo "       $bytes bytes ($(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e6 }') MB)"
  ((bytes <= $2))
}

build_and_check() {
  local target="$1" start=$SECONDS
  local triple="${target%%.*}" platform file
  platform="$(platform_of "$target")"
  file="$out/tfx-auth.$platform.node"
  local before_passed=$passed before_failed=$failed
  echo
  echo "build-release: $target -> $file"
  rm -f "$file"
  if node scripts/build.mjs --platform --release --target "$target" --cross-compile \
      --target-dir target/zigbuild --no-js --output-dir "$out"; then
    check "built $file" test -f "$file"
  else
    check "built $file" false
  fi
  if [[ -f "$file" ]]; then
    case "$triple" in
      x86_64-*) check "architecture: x86-64" machine_is "$file" 'Advanced Micro Devices X86-64' ;;
      aarch64-*) check "architecture: AArch64" machine_is "$file" AArch64 ;;
    esac
    check "a shared object exporting napi_register_module_v1" napi_addon "$file"
    echo "       NEEDED: $(needed "$file" | xargs)"
    case "$triple" in
      *-gnu)
        check "no symbol version above GLIBC_$MAX_GLIBC" max_glibc_at_most "$file" "$MAX_GLIBC"
        check "only glibc's libraries (and libgcc_s) NEEDED" only_glibc_libraries "$file"
        ;;
      *-musl)
        check "no glibc library NEEDED, no GLIBC_ symbol version" no_glibc "$file"
        check "musl's libc.so NEEDED" needs_musl_libc "$file"
        ;;
    esac
    check "size at most 5.5 MB" size_at_most "$file" "$MAX_BYTES"
  fi
  echo "build-release: $target: $((passed - before_passed)) passed, $((failed - before_failed)) failed ($((SECONDS - start)) s)"
}

start=$SECONDS
tools
echo "build-release: tools ready ($((SECONDS - start)) s)"
mkdir -p "$out"
for target in "${targets[@]}"; do build_and_check "$target"; done
echo
echo "build-release: ${#targets[@]} artefacts: $passed passed, $failed failed ($((SECONDS - start)) s)"
((failed == 0))
