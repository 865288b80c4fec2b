#!/usr/bin/env bash
# Starts or stops a single-node Apache Kafka (KRaft, combined broker+controller) on 127.0.0.1,
# run from Maven Central jars on the machine's JDK. No Docker needed.
#   infra/local/kafka.sh start [--dir DIR] [--port PORT]
#       prints KAFKA_BROKERS=..., KAFKA_PID=..., KAFKA_VERSION=..., KAFKA_DIR=...
#       A DIR that already holds a formatted node is started again with its data and ports
#       (that is how tests restart the broker mid-stream).
#   infra/local/kafka.sh stop --dir DIR [--kill]      (--kill: SIGKILL, as a crash would)
# Jars are resolved once with Maven (infra/local/kafka/pom.xml) into the Maven cache and reused.
# GATEHOUSE_KAFKA_VERSION in the environment overrides the version pinned in the pom.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
dir=""; port=""; kill_hard=0
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --kill) kill_hard=1; shift ;;
    *) die "unknown option $1" ;;
  esac
done

pom="$here/kafka/pom.xml"
version=${GATEHOUSE_KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")}
cache="${GATEHOUSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse}/kafka-$version"

classpath() {
  local cp="$cache/classpath.txt"
  if [ ! -s "$cp" ] || ! tr ':' '\n' <"$cp" | head -n 1 | xargs test -f; then
    command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch Kafka $version (Debian: apt-get install maven)"
    command -v java >/dev/null 2>&1 || die "a JDK 17+ is needed to run Kafka (Debian: apt-get install openjdk-17-jdk-headless)"
    mkdir -p "$cache"
    echo "kafka.sh: resolving org.apache.kafka:kafka_2.13:$version from Maven Central" >&2
    mvn -q -B -f "$pom" -Dkafka.version="$version" dependency:build-classpath \
      -Dmdep.outputFile="$cp.tmp" >&2 || die "Maven could not resolve Kafka $version"
    mv "$cp.tmp" "$cp"
  fi
  cat "$cp"
}

java_opts() {
  echo "-Xms256m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true" \
       "-Dlog4j2.configurationFile=$here/kafka/log4j2.properties -Dkafka.logs.file=$dir/server.log"
}

start() {
  [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-kafka.XXXXXX")
  mkdir -p "$dir"
  local cp props="$dir/server.properties" ctl
  cp=$(classpath)
  if [ -f "$dir/pid" ] && alive "$(cat "$dir/pid")"; then die "a broker already runs from $dir"; fi
  if [ ! -f "$props" ]; then
    [ -n "$port" ] || port=$(free_port)
    ctl=$(free_port)
    while [ "$ctl" = "$port" ]; do ctl=$(free_port); done
    cat >"$props" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$ctl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests join and leave consumer groups constantly: no initial rebalance delay.
group.initial.rebalance.delay.ms=0
PROPS
    local id
    id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    # shellcheck disable=SC2046
    java $(java_opts) -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$props" --standalone \
      >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "formatting the KRaft storage failed"; }
  fi
  port=$(sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$props")
  # shellcheck disable=SC2046
  nohup java $(java_opts) -cp "$cp" kafka.Kafka "$props" >>"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  local pid; pid=$(cat "$dir/pid")
  for _ in $(seq 1 600); do
    alive "$pid" || { tail -n 40 "$dir/stdout.log" "$dir/server.log" >&2 2>/dev/null; die "Kafka exited while starting"; }
    if port_open "$port" && grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null; then
      echo "KAFKA_BROKERS=127.0.0.1:$port"
      echo "KAFKA_PID=$pid"
      # The version the running broker reports, not merely the one asked for.
      echo "KAFKA_VERSION=$(sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$dir/server.log" | head -n 1)"
      echo "KAFKA_DIR=$dir"
      return 0
    fi
    sleep 0.1
  done
  die "Kafka did not start within 60 s (logs in $dir)"
}

case $cmd in
  start) start ;;
  stop)
    [ -n "$dir" ] || die "stop needs --dir"
    if [ "$kill_hard" = 1 ]; then stop_pid "$dir/pid" KILL; else stop_pid "$dir/pid" TERM; fi
    # A later start greps the log for its own "started" line.
    [ -f "$dir/server.log" ] && mv "$dir/server.log" "$dir/server.log.$(date +%s%N)"
    true
    ;;
  classpath) classpath ;;
  *) die "usage: kafka.sh start [--dir DIR] [--port PORT] | stop --dir DIR [--kill] | classpath" ;;
esac
