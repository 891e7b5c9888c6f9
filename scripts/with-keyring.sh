#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked
# gnome-keyring (Secret Service), in a throw-away XDG_DATA_HOME, and tears it
# all down afterwards. Usage: scripts/with-keyring.sh <command> [args...]
#
# Inside the command: DBUS_SESSION_BUS_ADDRESS points at the private bus and
# TFX_TEST_KEYRING_PASSWORD holds the keyring's password (tests lock/unlock it).
# TFX_TEST_DBUS_NO_ACTIVATION=1 gives a bus that cannot restart a killed keyring.
# TFX_TEST_KEYRING_NO_COLLECTION=1 starts gnome-keyring without creating or unlocking the login
# collection: a Secret Service with no default collection, as over SSH on a machine where
# nobody ever logged in to a desktop (no TFX_TEST_KEYRING_PASSWORD then).
set -euo pipefail

if [[ "${1:-}" != "--inside" ]]; then
  for tool in dbus-run-session gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || {
      echo "with-keyring: '$tool' is missing; install it with: apt-get install -y --no-install-recommends gnome-keyring dbus libsecret-tools" >&2
      exit 127
    }
  done
  config=()
  if [[ -n "${TFX_TEST_DBUS_NO_ACTIVATION:-}" ]]; then
    # A bus that cannot start services on demand, so a killed keyring stays dead.
    conf="$(mktemp "${TMPDIR:-/tmp}/tfx-auth-bus.XXXXXX.conf")"
    cat > "$conf" <<'CONF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
    config=(--config-file="$conf")
  fi
  exec dbus-run-session "${config[@]}" -- "$0" --inside "$@"
fi
shift

KEYRING_HOME="$(mktemp -d "${TMPDIR:-/tmp}/tfx-auth-keyring.XXXXXX")"
export XDG_DATA_HOME="$KEYRING_HOME/data" XDG_RUNTIME_DIR="$KEYRING_HOME/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export TFX_TEST_KEYRING_PASSWORD="test-keyring-$RANDOM$RANDOM"

if [[ -n "${TFX_TEST_KEYRING_NO_COLLECTION:-}" ]]; then
  unset TFX_TEST_KEYRING_PASSWORD
  eval "$(gnome-keyring-daemon --start --components=secrets 2>/dev/null)"
else
  # gnome-keyring reads the unlock password on stdin and creates the login
  # collection with it; --components=secrets starts only the Secret Service.
  eval "$(printf '%s' "$TFX_TEST_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets)"
fi
export GNOME_KEYRING_CONTROL

cleanup() {
  if [[ -n "${GNOME_KEYRING_PID:-}" ]]; then kill "$GNOME_KEYRING_PID" 2>/dev/null || true; fi
  rm -rf "$KEYRING_HOME"
}
trap cleanup EXIT

# Wait until the Secret Service owns its bus name (asking it anything sooner
# could start a second daemon through D-Bus activation)...
for _ in $(seq 1 100); do
  if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q 'boolean true'; then
    break
  fi
  sleep 0.05
done
# ...and until its default collection (the login keyring) is in place: callers
# that come earlier find no keyring.
for _ in $(seq 1 200); do
  [[ -z "${TFX_TEST_KEYRING_NO_COLLECTION:-}" ]] || break
  if dbus-send --session --print-reply --reply-timeout=1000 --dest=org.freedesktop.secrets /org/freedesktop/secrets \
      org.freedesktop.Secret.Service.ReadAlias string:default 2>/dev/null | grep -q 'object path "/org/freedesktop/secrets/collection/'; then
    break
  fi
  sleep 0.05
done

"$@"
