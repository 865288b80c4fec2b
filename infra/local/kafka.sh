#!/usr/bin/env bash
# Starts or stops Apache Kafka (KRaft) on 127.0.0.1, run from Maven Central jars on the machine's
# JDK. No Docker needed. One combined broker+controller node by default; `--brokers N` gives a
# cluster of N combined nodes (node.id 1..N, a static controller quorum of all of them), which is
# what the replication settings (GATEHOUSE_KAFKA_REPLICATION_FACTOR 3, MIN_INSYNC_REPLICAS 2) and
# the chaos suite need.
#   infra/local/kafka.sh start [--dir DIR] [--port PORT] [--brokers N]
#       prints KAFKA_BROKERS=h:p[,h:p...], KAFKA_PID=... (one node) or KAFKA_PIDS=p1,p2,...,
#       KAFKA_NODES=N, KAFKA_VERSION=..., KAFKA_DIR=...
#       A DIR that already holds a formatted node (or cluster) is started again with its data and
#       ports (that is how tests restart the broker mid-stream); nodes already running are kept.
#   infra/local/kafka.sh start --dir DIR --node I     starts node I of a cluster again
#   infra/local/kafka.sh stop --dir DIR [--node I] [--kill]
#       (--kill: SIGKILL, as a crash would; --node: that node of a cluster only)
#   infra/local/kafka.sh leader --dir DIR|--bootstrap H:P,... --topic T [--partition P]
#       prints the node id leading partition P (default 0) of T, as the cluster sees it now
# A cluster keeps node I in DIR/node-I/ (its server.properties, pid, server.log, data) and its size
# in DIR/nodes; a single node keeps today's layout (DIR/server.properties, DIR/pid).
# Jars are resolved once with Maven (infra/local/kafka/pom.xml) into the Maven cache and reused.
# GATEHOUSE_KAFKA_VERSION in the environment overrides the version pinned in the pom.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

cmd=${1:-}; shift || true
dir=""; port=""; kill_hard=0; brokers=""; node=""; topic=""; partition=0; bootstrap=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --kill) kill_hard=1; shift ;;
    --brokers) brokers=$2; shift 2 ;;
    --node) node=$2; shift 2 ;;
    --topic) topic=$2; shift 2 ;;
    --partition) partition=$2; shift 2 ;;
    --bootstrap) bootstrap=$2; shift 2 ;;
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

# java_opts [LOGDIR [HEAP]]: a cluster's nodes get 512 MB each, so that three fit beside the rest
# of a test run on a small machine.
java_opts() {
  local logdir=${1:-$dir} heap=${2:-1g}
  echo "-Xms256m -Xmx$heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true" \
       "-Dlog4j2.configurationFile=$here/kafka/log4j2.properties -Dkafka.logs.file=$logdir/server.log"
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

# --- A cluster of N combined nodes ----------------------------------------------------------

# unique_ports COUNT: COUNT distinct free ports, one a line.
unique_ports() {
  local want=$1 got=() p
  while [ "${#got[@]}" -lt "$want" ]; do
    p=$(free_port)
    case " ${got[*]} " in *" $p "*) ;; *) got+=("$p") ;; esac
  done
  printf '%s\n' "${got[@]}"
}

nodes_of() { cat "$dir/nodes"; }
node_port() { sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$dir/node-$1/server.properties"; }

# format_cluster N: writes every node's server.properties and formats its storage with one cluster id.
format_cluster() {
  local n=$1 cp=$2 i voters="" id rf isr
  local -a ports
  mapfile -t ports < <(unique_ports $((2 * n)))
  for i in $(seq 1 "$n"); do voters+="${voters:+,}$i@127.0.0.1:${ports[$((n + i - 1))]}"; done
  rf=$((n < 3 ? n : 3)); isr=$((n < 2 ? n : 2))
  id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  for i in $(seq 1 "$n"); do
    local nd="$dir/node-$i"
    mkdir -p "$nd"
    cat >"$nd/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
# A static quorum: every node votes, formatted alike, no dynamic membership to bootstrap.
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[$((i - 1))]},CONTROLLER://127.0.0.1:${ports[$((n + i - 1))]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$((i - 1))]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$nd/data
num.partitions=3
auto.create.topics.enable=false
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
PROPS
    # Two nodes cannot keep 2 in sync with one down; from three on, the production shape.
    if [ "$n" -ge 3 ]; then
      printf 'default.replication.factor=3\nmin.insync.replicas=2\n' >>"$nd/server.properties"
    else
      printf 'default.replication.factor=%s\nmin.insync.replicas=1\n' "$n" >>"$nd/server.properties"
    fi
    cat >>"$nd/server.properties" <<'PROPS'
# Tests join and leave consumer groups constantly: no initial rebalance delay.
group.initial.rebalance.delay.ms=0
# A killed node is fenced, and its partitions led by another, within ~3 s rather than the default 9 s:
# the chaos suite kills nodes and waits for exactly that.
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
PROPS
    # shellcheck disable=SC2046
    java $(java_opts "$nd" 512m) -cp "$cp" kafka.tools.StorageTool format -t "$id" -c "$nd/server.properties" \
      >"$nd/format.log" 2>&1 &
  done
  wait
  for i in $(seq 1 "$n"); do
    [ -f "$dir/node-$i/data/meta.properties" ] || { cat "$dir/node-$i/format.log" >&2; die "formatting node $i's KRaft storage failed"; }
  done
  echo "$n" >"$dir/nodes"
}

# launch_node I CP: starts node I unless it runs already.
launch_node() {
  local i=$1 cp=$2 nd="$dir/node-$1"
  if [ -f "$nd/pid" ] && alive "$(cat "$nd/pid")"; then return 0; fi
  # A later wait greps the log for this start's own "started" line.
  [ -f "$nd/server.log" ] && mv "$nd/server.log" "$nd/server.log.$(date +%s%N)"
  # shellcheck disable=SC2046
  nohup java $(java_opts "$nd" 512m) -cp "$cp" kafka.Kafka "$nd/server.properties" >>"$nd/stdout.log" 2>&1 &
  echo $! >"$nd/pid"
}

# wait_nodes I...: until each node says it started. A KRaft broker says so only once the controller
# has registered and unfenced it, so every node started is every broker registered.
wait_nodes() {
  local i pending=("$@") left
  for _ in $(seq 1 1200); do
    left=()
    for i in "${pending[@]}"; do
      local nd="$dir/node-$i"
      alive "$(cat "$nd/pid")" || { tail -n 40 "$nd/stdout.log" "$nd/server.log" >&2 2>/dev/null; die "Kafka node $i exited while starting"; }
      if port_open "$(node_port "$i")" && grep -q "Kafka Server started" "$nd/server.log" 2>/dev/null; then :; else left+=("$i"); fi
    done
    [ "${#left[@]}" -eq 0 ] && return 0
    pending=("${left[@]}")
    sleep 0.1
  done
  die "Kafka node(s) ${pending[*]} did not start within 120 s (logs in $dir/node-*)"
}

report_cluster() {
  local n i hosts="" pids=""
  n=$(nodes_of)
  for i in $(seq 1 "$n"); do
    hosts+="${hosts:+,}127.0.0.1:$(node_port "$i")"
    pids+="${pids:+,}$(cat "$dir/node-$i/pid" 2>/dev/null || echo -)"
  done
  echo "KAFKA_BROKERS=$hosts"
  echo "KAFKA_PIDS=$pids"
  echo "KAFKA_NODES=$n"
  echo "KAFKA_VERSION=$(cat "$dir"/node-*/server.log 2>/dev/null | sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' | head -n 1)"
  echo "KAFKA_DIR=$dir"
}

start_cluster() {
  local cp n i
  cp=$(classpath)
  if [ ! -f "$dir/nodes" ]; then
    [ -z "$node" ] || die "--node needs a cluster already formatted in $dir"
    [ -z "$port" ] || die "--port is for a single node; a cluster picks free ports"
    mkdir -p "$dir"
    format_cluster "$brokers" "$cp"
  fi
  n=$(nodes_of)
  [ -z "$brokers" ] || [ "$brokers" = "$n" ] || die "$dir holds a cluster of $n nodes, not $brokers"
  if [ -n "$node" ]; then
    [ "$node" -ge 1 ] && [ "$node" -le "$n" ] || die "no node $node in a cluster of $n"
    launch_node "$node" "$cp"
    wait_nodes "$node"
  else
    for i in $(seq 1 "$n"); do launch_node "$i" "$cp"; done
    # shellcheck disable=SC2046
    wait_nodes $(seq 1 "$n")
  fi
  report_cluster
}

stop_cluster() {
  local n i sig=TERM
  n=$(nodes_of)
  [ "$kill_hard" = 1 ] && sig=KILL
  if [ -n "$node" ]; then
    stop_pid "$dir/node-$node/pid" "$sig"
  else
    # All at once: stopping one by one would move every leadership around the ring first.
    for i in $(seq 1 "$n"); do
      [ -f "$dir/node-$i/pid" ] && kill "-$sig" "$(cat "$dir/node-$i/pid")" 2>/dev/null || true
    done
    for i in $(seq 1 "$n"); do stop_pid "$dir/node-$i/pid" "$sig"; done
  fi
}

# leader: asks a running node with the kafkajs the repository already has (the Maven classpath holds
# the broker, not kafka-tools' TopicCommand).
leader() {
  [ -n "$dir$bootstrap" ] && [ -n "$topic" ] || die "leader needs --dir (or --bootstrap h:p,...) and --topic"
  if [ -n "$bootstrap" ]; then :
  elif [ -f "$dir/nodes" ]; then
    bootstrap=$(report_cluster | sed -n 's/^KAFKA_BROKERS=//p')
  else
    bootstrap=127.0.0.1:$(sed -n 's/^listeners=PLAINTEXT:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$dir/server.properties")
  fi
  BOOTSTRAP=$bootstrap TOPIC=$topic PARTITION=$partition KAFKAJS_NO_PARTITIONER_WARNING=1 \
    node -e '
      const { Kafka, logLevel } = require(require.resolve("kafkajs", { paths: [process.argv[1]] }));
      const admin = new Kafka({ brokers: process.env.BOOTSTRAP.split(","), logLevel: logLevel.NOTHING,
        retry: { retries: 3 } }).admin();
      (async () => {
        await admin.connect();
        const { topics } = await admin.fetchTopicMetadata({ topics: [process.env.TOPIC] });
        const p = topics[0].partitions.find((x) => x.partitionId === Number(process.env.PARTITION));
        if (!p) throw new Error(`no partition ${process.env.PARTITION}`);
        console.log(p.leader);
        await admin.disconnect();
      })().catch((e) => { console.error(`kafka.sh: ${e.message}`); process.exit(1); });
    ' "$here/../../packages/event-bus"
}

case $cmd in
  start)
    if [ -n "$dir" ] && [ -f "$dir/nodes" ] || [ -n "$node" ] || { [ -n "$brokers" ] && [ "$brokers" != 1 ]; }; then
      [ -n "$dir" ] || dir=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-kafka.XXXXXX")
      [ -z "$brokers" ] || [ "$brokers" -ge 1 ] 2>/dev/null || die "--brokers must be a number from 1"
      start_cluster
    else
      start
    fi
    ;;
  stop)
    [ -n "$dir" ] || die "stop needs --dir"
    if [ -f "$dir/nodes" ]; then stop_cluster; exit 0; fi
    [ -z "$node" ] || die "--node: $dir holds no cluster"
    if [ "$kill_hard" = 1 ]; then stop_pid "$dir/pid" KILL; else stop_pid "$dir/pid" TERM; fi
    # A later start greps the log for its own "started" line.
    [ -f "$dir/server.log" ] && mv "$dir/server.log" "$dir/server.log.$(date +%s%N)"
    true
    ;;
  leader) leader ;;
  classpath) classpath ;;
  *) die "usage: kafka.sh start [--dir DIR] [--port PORT] [--brokers N] [--node I] | stop --dir DIR [--node I] [--kill] | leader --dir DIR|--bootstrap H:P --topic T [--partition P] | classpath" ;;
esac
