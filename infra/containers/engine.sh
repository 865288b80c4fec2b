#!/usr/bin/env bash
# A Docker-API container engine for tests and images, on machines without Docker: Debian's podman
# with runc (issue "Containers for real"; facts in ../../README.md, "Containers").
#   infra/containers/engine.sh start [--dir DIR]   prints DOCKER_HOST=... (and ENGINE=docker|podman)
#   infra/containers/engine.sh stop  [--dir DIR]   stops the API service this script started
#   infra/containers/engine.sh status
# Where a Docker engine already answers (DOCKER_HOST, or /var/run/docker.sock), it is used as it is
# and nothing is installed. Otherwise each step says what it did: installed, configured, started,
# or found ready — so a machine that kept podman from an earlier run and a new one both work.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../local/lib.sh"

cmd=${1:-}; shift || true
dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$dir" ] || dir="$here/../../.infra/containers"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
say() { echo "engine.sh: $*" >&2; }

sudo=""
if [ "$(id -u)" != 0 ]; then sudo=sudo; fi

# The API socket: root's under /run, a user's under its runtime directory.
if [ "$(id -u)" = 0 ]; then socket=/run/podman/podman.sock
else socket="${XDG_RUNTIME_DIR:-/tmp/podman-$(id -u)}/podman/podman.sock"; fi

docker_answers() {
  local host=$1
  command -v docker >/dev/null 2>&1 || return 1
  DOCKER_HOST=$host timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# What answers behind a Docker API: podman's compat API names itself among the server components
# (its healthchecks then need the loop in compose.sh, its builder `--pull=never`); anything else is
# taken as Docker.
engine_kind() {
  local host=$1
  if DOCKER_HOST=$host timeout 10 docker version --format '{{range .Server.Components}}{{.Name}};{{end}}' \
    2>/dev/null | grep -q 'Podman Engine'; then
    echo podman
  else
    echo docker
  fi
}

install_podman() {
  if command -v podman >/dev/null 2>&1 && command -v runc >/dev/null 2>&1; then
    say "podman $(podman --version | awk '{print $3}') and runc: found"
    install_container_dns
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "no container engine, and no apt-get to install podman"
  say "installing podman and runc (Debian)"
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends podman runc uidmap slirp4netns fuse-overlayfs mmdebstrap netavark \
    aardvark-dns) >&2 \
    || die "could not install podman with apt-get"
  say "podman $(podman --version | awk '{print $3}'): installed"
  install_container_dns
}

# Containers of one network find each other by name (compose's services on its internal network,
# the testcontainers Kafka cluster's brokers). Debian's podman pulls in no name server for its
# networks, and with the CNI backend (podman 4.3's choice without netavark) an internal network
# gets none at all (podman disables DNS there): compose's Kafka could not resolve `kafka`. So
# networks are netavark's (configure_podman), named by aardvark-dns.
install_container_dns() {
  if command -v netavark >/dev/null 2>&1 || [ -x /usr/lib/podman/netavark ]; then
    if [ -x /usr/lib/podman/aardvark-dns ] || command -v aardvark-dns >/dev/null 2>&1; then
      say "container networks (netavark, aardvark-dns): found"
      return
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || die "containers cannot resolve each other's names: install netavark and aardvark-dns"
  say "installing netavark and aardvark-dns (Debian): container networks with name resolution"
  ($sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    --no-install-recommends netavark aardvark-dns) >&2 || die "could not install netavark and aardvark-dns with apt-get"
}

# crun (podman's default runtime) refuses hybrid cgroups ("cgroups in hybrid mode not supported");
# runc with cgroupfs works, and setrlimit of RLIMIT_NOFILE is refused, so no default ulimits.
configure_podman() {
  local conf=/etc/containers/containers.conf
  if [ "$(id -u)" != 0 ]; then conf="${XDG_CONFIG_HOME:-$HOME/.config}/containers/containers.conf"; fi
  if [ -f "$conf" ] && grep -q 'gatehouse: infra/containers/engine.sh, v2' "$conf"; then
    say "$conf: configured already"
    return
  fi
  $sudo mkdir -p "$(dirname "$conf")"
  # The file it replaced, if it was not an earlier version of this one.
  if [ -f "$conf" ] && ! grep -q 'gatehouse: infra/containers/engine.sh' "$conf"; then
    $sudo cp "$conf" "$conf.before-gatehouse"
  fi
  $sudo tee "$conf" >/dev/null <<'CONF'
# gatehouse: infra/containers/engine.sh, v2 (crun refuses this machine's hybrid cgroups; RLIMIT_NOFILE
# cannot be set here; netavark names containers on internal networks too). The file it replaced, if
# any, is beside it as containers.conf.before-gatehouse.
[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
CONF
  say "$conf: configured (runc, cgroupfs, no default ulimits, netavark networks)"

}

# A machine that ran podman with CNI before keeps CNI's default bridge, on the subnet netavark's
# default network takes too (10.88.0.0/16): its route, first, made every published port
# unreachable (EHOSTUNREACH on 127.0.0.1, seen here after the switch). Nothing uses it once the
# backend is netavark and no container runs.
drop_stale_cni_bridge() {
  ip link show cni-podman0 >/dev/null 2>&1 || return 0
  [ "$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null)" = netavark ] || return 0
  [ -z "$(podman ps -q 2>/dev/null)" ] || return 0
  $sudo ip link delete cni-podman0 && say "cni-podman0 (CNI's bridge, left from before): removed"
}

start() {
  local kind
  # An engine already named by DOCKER_HOST (a Docker daemon, or this script's podman API exported
  # by an earlier step: then it is podman, whatever the variable's name says).
  if [ -n "${DOCKER_HOST:-}" ] && docker_answers "$DOCKER_HOST"; then
    kind=$(engine_kind "$DOCKER_HOST")
    say "a $kind engine answers at $DOCKER_HOST: ready"
    echo "DOCKER_HOST=$DOCKER_HOST"; echo "ENGINE=$kind"; return
  fi
  if [ -S /var/run/docker.sock ] && docker_answers unix:///var/run/docker.sock; then
    kind=$(engine_kind unix:///var/run/docker.sock)
    say "a $kind engine answers at /var/run/docker.sock: ready"
    echo "DOCKER_HOST=unix:///var/run/docker.sock"; echo "ENGINE=$kind"; return
  fi
  install_podman
  configure_podman
  drop_stale_cni_bridge
  if [ -S "$socket" ] && curl -fsS --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; then
    say "podman API at $socket: ready"
  else
    mkdir -p "$(dirname "$socket")"
    rm -f "$socket"
    # Its own session, so that it outlives this script; stopped by `engine.sh stop` (its PID).
    setsid podman system service --time=0 "unix://$socket" >"$dir/podman-service.log" 2>&1 < /dev/null &
    echo $! >"$dir/podman-service.pid"
    for _ in $(seq 1 100); do
      curl -fsS --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -fsS --unix-socket "$socket" http://d/_ping >/dev/null 2>&1 \
      || die "podman's API did not answer at $socket; see $dir/podman-service.log"
    say "podman API at $socket: started (pid $(cat "$dir/podman-service.pid"))"
  fi
  echo "DOCKER_HOST=unix://$socket"
  echo "ENGINE=podman"
}

stop() {
  if [ -f "$dir/podman-service.pid" ]; then
    stop_pid "$dir/podman-service.pid"
    say "podman API: stopped"
  else
    say "podman API: not started by this script"
  fi
}

case $cmd in
  start) start ;;
  stop) stop ;;
  status) curl -fsS --unix-socket "$socket" http://d/_ping 2>/dev/null && echo || echo "not running" ;;
  *) die "usage: engine.sh start|stop|status [--dir DIR]" ;;
esac
