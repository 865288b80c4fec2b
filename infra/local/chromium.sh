#!/usr/bin/env bash
# Finds the Chromium that browser tests drive (through playwright-core, which never downloads one),
# installing Debian's chromium when the machine has none.
#   infra/local/chromium.sh path      prints the path of the Chromium binary, and nothing else
#   infra/local/chromium.sh version   prints CHROMIUM_PATH=... and CHROMIUM_VERSION=...
# GATEHOUSE_CHROMIUM in the environment names a binary to use instead (no install then).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
[ $# -eq 0 ] || die "unknown option $1"

find_chromium() {
  if [ -n "${GATEHOUSE_CHROMIUM:-}" ]; then
    [ -x "$GATEHOUSE_CHROMIUM" ] || die "GATEHOUSE_CHROMIUM=$GATEHOUSE_CHROMIUM is not an executable"
    echo "$GATEHOUSE_CHROMIUM"
    return 0
  fi
  # Debian's /usr/bin/chromium is a shell launcher that adds desktop flags from /etc/chromium.d;
  # tests drive the binary behind it, with only the flags they pass.
  if [ -x /usr/lib/chromium/chromium ]; then echo /usr/lib/chromium/chromium; return 0; fi
  command -v chromium 2>/dev/null || command -v chromium-browser 2>/dev/null
}

ensure_chromium() {
  find_chromium && return 0
  command -v apt-get >/dev/null 2>&1 || die "no Chromium found (Debian: apt-get install chromium)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "no Chromium found, and installing it needs root or sudo (Debian: apt-get install chromium)"
    sudo="sudo"
  fi
  echo "chromium.sh: installing Debian's chromium" >&2
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium) >&2 \
    || die "could not install chromium with apt-get"
  find_chromium || die "chromium was installed but is not on PATH"
}

case $cmd in
  path) ensure_chromium ;;
  version)
    bin=$(ensure_chromium)
    echo "CHROMIUM_PATH=$bin"
    # "Chromium 156.0.8078.79 built on Debian ..." -> 156.0.8078.79
    echo "CHROMIUM_VERSION=$("$bin" --version 2>/dev/null | sed -E 's/^[^0-9]*([0-9][0-9.]*).*/\1/')"
    ;;
  *) die "usage: chromium.sh path | version" ;;
esac
