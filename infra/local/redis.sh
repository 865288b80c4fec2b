#!/usr/bin/env bash
# Starts or stops a throwaway Redis (Debian's redis-server) on 127.0.0.1 for tests and local runs.
#   infra/local/redis.sh start [--dir DIR] [--port PORT]   prints REDIS_URL=... and REDIS_PID=...
#   infra/local/redis.sh stop  --dir DIR
# With --sentinel: two redis-server nodes (a, b; a starts as the primary, b as its replica) and three
# Sentinels (redis-server --sentinel) watching them as master `gatehouse`, quorum 2, a node down
# after 1 s. Prints REDIS_URL=redis+sentinel://h:p,h:p,h:p/gatehouse (what GATEHOUSE_REDIS_URL
# takes), REDIS_SENTINELS, REDIS_SENTINEL_NAME, REDIS_PRIMARY_PORT, REDIS_REPLICA_PORT and pids.
#   infra/local/redis.sh start --sentinel [--dir DIR]
#   infra/local/redis.sh stop --dir DIR [--role primary|replica|sentinels] [--kill]
#       a role stops only those (primary and replica as the Sentinels see them now); --kill: SIGKILL
#   infra/local/redis.sh primary --dir DIR    prints REDIS_PRIMARY_PORT= of the current primary
#   infra/local/redis.sh restart --dir DIR    starts every stopped node again as a replica of the
#       current primary (a killed primary comes back demoted, never as a second primary)
# With an append-only file in DIR (fsync every second): a restart on the same DIR finds the read
# models again. Only a speed-up of recovery: the projector rebuilds them from Kafka when they are
# missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
dir=""; port=""; sentinel=0; role=""; kill_hard=0
master=gatehouse
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --sentinel) sentinel=1; shift ;;
    --role) role=$2; shift 2 ;;
    --kill) kill_hard=1; shift ;;
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

# start_node NAME PORT [PRIMARY_PORT]: one data node of the sentinel setup, a replica when given a
# primary. Its own folder: each node has an append-only file of its own.
start_node() {
  local name=$1 node_port=$2 of=${3:-} node_dir="$dir/$1"
  mkdir -p "$node_dir"
  echo "$node_port" >"$dir/$name.port"
  redis-server --port "$node_port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly yes \
    --appendfsync everysec --dir "$node_dir" --pidfile "$dir/$name.pid" \
    --logfile "$dir/$name.log" ${of:+--replicaof 127.0.0.1 "$of"} >/dev/null
  wait_ping "$node_port"
}

wait_ping() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  die "redis-server did not answer PING on port $1"
}

# primary_port: the primary's port as the first Sentinel that answers says it.
primary_port() {
  local i p
  for i in 1 2 3; do
    [ -f "$dir/sentinel-$i.port" ] || continue
    p=$(redis-cli -p "$(cat "$dir/sentinel-$i.port")" sentinel get-master-addr-by-name "$master" \
      2>/dev/null | sed -n 2p)
    [ -n "$p" ] && { echo "$p"; return 0; }
  done
  die "no Sentinel in $dir answers"
}

# node_with_port PORT: the name (a or b) of the node on that port.
node_with_port() {
  local n
  for n in a b; do [ "$(cat "$dir/$n.port")" = "$1" ] && { echo "$n"; return 0; }; done
  die "no node of $dir listens on $1"
}

start_sentinels() {
  local i sp primary=$1 list=""
  for i in 1 2 3; do
    sp=$(free_port)
    echo "$sp" >"$dir/sentinel-$i.port"
    # Sentinel rewrites its file (discovered peers, the current primary): one file each, in DIR.
    printf '%s\n' "port $sp" "bind 127.0.0.1" "daemonize yes" "pidfile $dir/sentinel-$i.pid" \
      "logfile $dir/sentinel-$i.log" "dir $dir" \
      "sentinel monitor $master 127.0.0.1 $primary 2" \
      "sentinel down-after-milliseconds $master 1000" \
      "sentinel failover-timeout $master 3000" \
      "sentinel parallel-syncs $master 1" >"$dir/sentinel-$i.conf"
    redis-server "$dir/sentinel-$i.conf" --sentinel >/dev/null
    list="$list${list:+,}127.0.0.1:$sp"
  done
  echo "$list" >"$dir/sentinels"
  # Ready when every Sentinel has found the other two (hello messages, about 2 s) and the replica.
  for _ in $(seq 1 200); do
    local ok=1
    for i in 1 2 3; do
      redis-cli -p "$(cat "$dir/sentinel-$i.port")" sentinel ckquorum "$master" 2>/dev/null \
        | grep -q "3 usable" || ok=0
      [ "$(redis-cli -p "$(cat "$dir/sentinel-$i.port")" sentinel replicas "$master" 2>/dev/null \
        | grep -c '^ip$')" -ge 1 ] || ok=0
    done
    [ $ok = 1 ] && return 0
    sleep 0.1
  done
  tail -n 20 "$dir"/sentinel-*.log >&2 || true
  die "the Sentinels did not all see each other and the replica"
}

case $cmd in
  start)
    ensure_redis
    if [ $sentinel = 1 ]; then
      [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-redis-sentinel.XXXXXX")
      mkdir -p "$dir"
      dir=$(cd "$dir" && pwd)
      pa=$(free_port); start_node a "$pa"
      pb=$(free_port); start_node b "$pb" "$pa"
      for _ in $(seq 1 100); do
        redis-cli -p "$pb" info replication | grep -q 'master_link_status:up' && break
        sleep 0.05
      done
      start_sentinels "$pa"
      echo "REDIS_URL=redis+sentinel://$(cat "$dir/sentinels")/$master"
      echo "REDIS_SENTINELS=$(cat "$dir/sentinels")"
      echo "REDIS_SENTINEL_NAME=$master"
      echo "REDIS_PRIMARY_PORT=$pa"
      echo "REDIS_REPLICA_PORT=$pb"
      echo "REDIS_PRIMARY_PID=$(cat "$dir/a.pid")"
      echo "REDIS_REPLICA_PID=$(cat "$dir/b.pid")"
      echo "REDIS_SENTINEL_PIDS=$(cat "$dir"/sentinel-{1,2,3}.pid | paste -sd,)"
      echo "REDIS_VERSION=$(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/')"
      echo "REDIS_DIR=$dir"
      exit 0
    fi
    [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-redis.XXXXXX")
    mkdir -p "$dir"
    # Absolute: redis-server changes into --dir before it opens the log file given relative to it.
    dir=$(cd "$dir" && pwd)
    # One server per DIR: a second start would leave the first running with nothing to stop it.
    if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
      die "a server already runs from $dir (pid $(cat "$dir/redis.pid")); stop it first"
    fi
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
    sig=TERM; [ $kill_hard = 1 ] && sig=KILL
    if [ ! -f "$dir/sentinels" ]; then
      stop_pid "$dir/redis.pid" "$sig"
      exit 0
    fi
    case $role in
      primary) stop_pid "$dir/$(node_with_port "$(primary_port)").pid" "$sig" ;;
      replica)
        if [ "$(node_with_port "$(primary_port)")" = a ]; then stop_pid "$dir/b.pid" "$sig"
        else stop_pid "$dir/a.pid" "$sig"; fi ;;
      sentinels) for i in 1 2 3; do stop_pid "$dir/sentinel-$i.pid" "$sig"; done ;;
      "")
        for i in 1 2 3; do stop_pid "$dir/sentinel-$i.pid" "$sig"; done
        stop_pid "$dir/a.pid" "$sig"; stop_pid "$dir/b.pid" "$sig" ;;
      *) die "unknown role $role (primary, replica or sentinels)" ;;
    esac
    ;;
  primary)
    [ -n "$dir" ] || die "primary needs --dir"
    echo "REDIS_PRIMARY_PORT=$(primary_port)"
    ;;
  restart)
    [ -n "$dir" ] || die "restart needs --dir"
    p=$(primary_port)
    for n in a b; do
      if ! alive "$(cat "$dir/$n.pid" 2>/dev/null || true)"; then
        [ "$(cat "$dir/$n.port")" = "$p" ] && die "node $n is down and still the primary: no failover yet"
        start_node "$n" "$(cat "$dir/$n.port")" "$p"
        echo "REDIS_RESTARTED_PORT=$(cat "$dir/$n.port")"
      fi
    done
    ;;
  *) die "usage: redis.sh start [--sentinel] [--dir DIR] [--port PORT] | stop --dir DIR [--role primary|replica|sentinels] [--kill] | primary --dir DIR | restart --dir DIR" ;;
esac
