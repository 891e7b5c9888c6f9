#!/usr/bin/env bash
# Installs the system tools the test suites use for real (Secret Service, secret-tool, a proxy,
# TLS, a terminal) when run as root, or prints the exact apt-get line otherwise.
# Used by scripts/test.sh and scripts/test-installed.sh. Other scripts pass their own
# `tool=package` pairs instead (scripts/cross-clippy.sh, scripts/test-windows.sh).
set -euo pipefail

declare -A PACKAGE_OF=(
  [gnome-keyring-daemon]=gnome-keyring [dbus-run-session]=dbus [dbus-send]=dbus
  [secret-tool]=libsecret-tools [tinyproxy]=tinyproxy [openssl]=openssl [tmux]=tmux
)
if (($#)); then
  PACKAGE_OF=()
  for pair in "$@"; do PACKAGE_OF[${pair%%=*}]=${pair#*=}; done
fi
missing=()
for tool in "${!PACKAGE_OF[@]}"; do
  command -v "$tool" >/dev/null || missing+=("${PACKAGE_OF[$tool]}")
done
if ((${#missing[@]})); then
  packages="$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')"
  if [[ "$(id -u)" == 0 ]]; then
    echo "test: installing $packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $packages >/dev/null
  else
    echo "test: missing system packages; run: sudo apt-get install -y --no-install-recommends $packages" >&2
    exit 1
  fi
fi
