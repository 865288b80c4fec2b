#!/usr/bin/env bash
# The stand-in's kafka-broker-api-versions.sh, for healthchecks: succeeds when the broker named by
# --bootstrap-server accepts connections (apache/kafka's asks it for its API versions; this image
# has the broker's jars only, not Kafka's command-line tools).
server=127.0.0.1:9092
while [ $# -gt 0 ]; do
  case $1 in --bootstrap-server) server=$2; shift 2 ;; *) shift ;; esac
done
exec 3<>"/dev/tcp/${server%:*}/${server##*:}"
