#!/usr/bin/env bash
# Finds the nginx the distributed stack's edge runs on (`pnpm stack`, the end-to-end suite),
# installing Debian's nginx when the machine has none. The stack runs it unprivileged, with its own
# prefix and config (infra/nginx/routes.conf); the nginx service Debian sets up is not used.
#   infra/local/nginx.sh path      prints the path of the nginx binary, and nothing else
# GATEHOUSE_NGINX in the environment names a binary to use instead (no install then).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
[ $# -eq 0 ] || die "unknown option $1"

find_nginx() {
  if [ -n "${GATEHOUSE_NGINX:-}" ]; then
    [ -x "$GATEHOUSE_NGINX" ] || die "GATEHOUSE_NGINX=$GATEHOUSE_NGINX is not an executable"
    echo "$GATEHOUSE_NGINX"
    return 0
  fi
  command -v nginx 2>/dev/null && return 0
  if [ -x /usr/sbin/nginx ]; then echo /usr/sbin/nginx; return 0; fi
  return 1
}

ensure_nginx() {
  find_nginx && return 0
  command -v apt-get >/dev/null 2>&1 || die "no nginx found (Debian: apt-get install nginx)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "no nginx found, and installing it needs root or sudo (Debian: apt-get install nginx)"
    sudo="sudo"
  fi
  echo "nginx.sh: installing Debian's nginx" >&2
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx) >&2 \
    || die "could not install nginx with apt-get"
  find_nginx || die "nginx was installed but is not found"
}

case $cmd in
  path) ensure_nginx ;;
  *) die "usage: nginx.sh path" ;;
esac
