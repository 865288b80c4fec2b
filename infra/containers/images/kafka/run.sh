#!/usr/bin/env bash
# apache/kafka's interface: KAFKA_* variables to server.properties, the storage formatted with
# CLUSTER_ID on first start, then the broker in the foreground.
set -euo pipefail
props=/opt/kafka/config/server.properties
: >"$props"
: "${KAFKA_NODE_ID:=1}" "${KAFKA_PROCESS_ROLES:=broker,controller}"
: "${KAFKA_LISTENERS:=PLAINTEXT://:9092,CONTROLLER://:9093}"
: "${KAFKA_ADVERTISED_LISTENERS:=PLAINTEXT://localhost:9092}"
: "${KAFKA_CONTROLLER_LISTENER_NAMES:=CONTROLLER}"
: "${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT}"
: "${KAFKA_CONTROLLER_QUORUM_VOTERS:=${KAFKA_NODE_ID}@localhost:9093}"
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
: "${KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR:=1}" "${KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR:=1}"
: "${KAFKA_TRANSACTION_STATE_LOG_MIN_ISR:=1}" "${KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS:=0}"
export KAFKA_NODE_ID KAFKA_PROCESS_ROLES KAFKA_LISTENERS KAFKA_ADVERTISED_LISTENERS \
  KAFKA_CONTROLLER_LISTENER_NAMES KAFKA_LISTENER_SECURITY_PROTOCOL_MAP \
  KAFKA_CONTROLLER_QUORUM_VOTERS KAFKA_LOG_DIRS KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR \
  KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR KAFKA_TRANSACTION_STATE_LOG_MIN_ISR \
  KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS
while IFS='=' read -r name value; do
  case $name in
    KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS) continue ;;
    KAFKA_*)
      key=${name#KAFKA_}
      key=$(echo "$key" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')
      echo "$key=$value" >>"$props" ;;
  esac
done < <(env)
cp=$(ls /opt/kafka/libs/*.jar | tr '\n' ':')
java=(java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties -Dkafka.logs.file=/dev/stdout
  ${KAFKA_OPTS:-} -cp "$cp")
if [ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]; then
  "${java[@]}" kafka.tools.StorageTool format -t "${CLUSTER_ID:-4L6g3nShT-eMCtK--X86sw}" -c "$props" --ignore-formatted
fi
exec "${java[@]}" kafka.Kafka "$props"
