#!/usr/bin/env bash
# Starts or stops a throwaway Redis (Debian's redis-server) on 127.0.0.1 for tests and local runs.
#   infra/local/redis.sh start [--dir DIR] [--port PORT]   prints REDIS_URL=... and REDIS_PID=...
#   infra/local/redis.sh stop  --dir DIR
# With an append-only file in DIR (fsync every second): a restart on the same DIR finds the read
# models again. Only a speed-up of recovery: the projector rebuilds them from Kafka when they are
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
dir=""; port=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done

ensure_redis() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "redis.sh: installing Debian's redis-server" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >&2 \
      || die "could not install redis-server with apt-get"
  else
    die "redis-server is not installed (Debian: apt-get install redis-server)"
  fi
}

case $cmd in
  start)
    ensure_redis
    [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-redis.XXXXXX")
    mkdir -p "$dir"
    # Absolute: redis-server changes into --dir before it opens the log file given relative to it.
    dir=$(cd "$dir" && pwd)
    [ -n "$port" ] || port=$(free_port)
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly yes \
      --appendfsync everysec \
      --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >/dev/null
    for _ in $(seq 1 100); do
      if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
        echo "REDIS_URL=redis://127.0.0.1:$port"
        echo "REDIS_PID=$(cat "$dir/redis.pid")"
        echo "REDIS_VERSION=$(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/')"
        echo "REDIS_DIR=$dir"
        exit 0
      fi
      sleep 0.05
    done
    cat "$dir/redis.log" >&2 || true
    die "redis-server did not answer PING on port $port"
    ;;
  stop)
    [ -n "$dir" ] || die "stop needs --dir"
    stop_pid "$dir/redis.pid"
    ;;
  *) die "usage: redis.sh start [--dir DIR] [--port PORT] | stop --dir DIR" ;;
esac
