#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages that Qt, VTK (software OpenGL), Xvfb and the MQTT tests need,
# only the ones missing, and only when we can (root or passwordless sudo). Never fails the build on a
# non-Debian system: it says what to install instead.
set -u
missing=()
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-system-deps: not a Debian/Ubuntu system; install Xvfb, Mesa OpenGL and mosquitto yourself" >&2
  exit 0
fi
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-system-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-system-deps: please run: sudo apt-get install ${missing[*]}" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
