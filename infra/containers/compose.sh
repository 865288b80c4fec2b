#!/usr/bin/env bash
# docker-compose.yml for real on the engine of engine.sh: the service images built by the engine's
# own builder from services/<name>/Dockerfile, a dev CA for the gRPC services (pnpm certs), fresh
# secrets, then Compose (Debian's docker-compose 1.29 over the Docker API) brings the whole stack
# up and waits for every healthcheck; the edge answers on 127.0.0.1:9000.
#   infra/containers/compose.sh up [--dir DIR]    prints URL=... and ADMIN_TOKEN=...
#   infra/containers/compose.sh down [--dir DIR]  removes every container, network and volume
# Podman runs healthchecks from systemd timers; on a machine without systemd nothing would run
# them and `depends_on: service_healthy` would wait for ever, so while the stack is up a loop here
# runs each container's healthcheck every 2 s (as the timers would), stopped by `down`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../local/lib.sh"
say() { echo "compose.sh: $*" >&2; }

cmd=${1:-}; shift || true
dir=""
while [ $# -gt 0 ]; do
  case $1 in
    --dir) dir=$2; shift 2 ;;
    *) die "unknown option $1" ;;
  esac
done
[ -n "$dir" ] || dir="$root/.infra/compose"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
project=gatehouse-compose
services=(projector admin keys token authorize userinfo)

engine() {
  local out
  out=$(bash "$here/engine.sh" start --dir "$dir/engine")
  eval "$(echo "$out" | grep -E '^(DOCKER_HOST|ENGINE)=')"
  export DOCKER_HOST
}

ensure_compose() {
  command -v docker-compose >/dev/null 2>&1 && return
  say "installing Debian's docker-compose"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose) >&2
}

compose_args=(--project-directory "$root" -f "$root/docker-compose.yml" -p "$project")
compose() {
  ensure_compose
  # No .env yet (an `up` stopped before writing it): `down` still finds the project by its name,
  # with stand-ins for the settings the file requires (nothing is started with them).
  local env=(--env-file "$dir/.env")
  if [ ! -f "$dir/.env" ]; then
    printf 'GATEHOUSE_ADMIN_TOKEN=%s\nGATEHOUSE_KEK=%s\n' unused unused >"$dir/.env.down"
    env=(--env-file "$dir/.env.down")
  fi
  docker-compose "${compose_args[@]}" "${env[@]}" "$@" 2> >(grep -v 'variable is not set' >&2)
}

up() {
  # Whatever stops `up` half-way (a failure, Ctrl-C, a caller's SIGTERM) takes the stack down with
  # it: nothing is left running. A SIGTERM to this script alone lets an image build under way
  # finish first (a builder killed mid-build leaves its working containers mounted).
  trap 'status=$?; trap - EXIT INT TERM; [ "$status" = 0 ] || { say "up failed: taking the stack down"; down; }; exit "$status"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  engine
  [ "$ENGINE" = podman ] && bash "$here/images.sh" >/dev/null
  # The engine's own CLI: podman's, or Docker's where a Docker engine answers (public images then).
  local cli=docker pull=()
  if [ "$ENGINE" = podman ]; then cli=podman; pull=(--pull=never); fi
  for name in "${services[@]}"; do
    say "building gatehouse/$name (services/$name/Dockerfile)"
    # Tagged under every name the compose file's short `gatehouse/<name>` can resolve to: podman
    # looks in localhost/ before docker.io/, so an older localhost/gatehouse/<name> would otherwise
    # run instead of this build (it did: a stale token image answered the e2e suite).
    $cli build --quiet "${pull[@]}" -f "$root/services/$name/Dockerfile" \
      -t "docker.io/gatehouse/$name:latest" "$root" >/dev/null \
      || die "could not build services/$name/Dockerfile"
    if [ "$ENGINE" = podman ]; then
      podman tag "docker.io/gatehouse/$name:latest" "localhost/gatehouse/$name:latest"
    fi
  done
  bash "$here/check-images.sh" "${services[@]}"
  # Fresh secrets for this stack, and the gRPC services' certificates, readable by the images' user.
  if [ ! -f "$dir/.env" ]; then
    {
      echo "GATEHOUSE_ADMIN_TOKEN=$(head -c 32 /dev/urandom | base64 | tr -d '/+=' | cut -c1-40)"
      echo "GATEHOUSE_KEK=kek-compose:$(head -c 32 /dev/urandom | base64)"
      # The edge, and the public network's gateway through which this machine's clients (the tests)
      # reach it: their X-Forwarded-For is believed, so they can present distinct sources.
      echo "GATEHOUSE_TRUSTED_PROXIES=172.30.0.10,172.30.1.1"
    } >"$dir/.env"
    chmod 600 "$dir/.env"
  fi
  (cd "$root" && pnpm --silent certs .infra/compose-certs --owner 1000) >&2
  if [ "$ENGINE" = podman ] && ! { [ -f "$dir/health.pid" ] && alive "$(cat "$dir/health.pid")"; }; then
    # Only this project's containers; the loop ends by itself once `down` removed its PID file.
    touch "$dir/health.pid"
    setsid bash -c 'while [ -f "$1/health.pid" ]; do
        for id in $(podman ps -q --filter "label=com.docker.compose.project=$2"); do
          podman healthcheck run "$id" >/dev/null 2>&1 || true
        done
        sleep 2
      done' health-loop "$dir" "$project" >/dev/null 2>&1 </dev/null &
    echo $! >"$dir/health.pid"
    say "healthchecks run every 2 s by a loop here (pid $(cat "$dir/health.pid")): no systemd timers"
  fi
  say "docker-compose up (waits for every healthcheck)"
  ensure_compose
  # In the background with `wait`, so that a SIGTERM or Ctrl-C runs the trap at once (bash runs
  # traps only between foreground commands).
  timeout 420 docker-compose "${compose_args[@]}" --env-file "$dir/.env" up -d --no-build >&2 &
  wait $! || {
    compose ps >&2 || true
    compose logs --tail=30 >&2 || true
    die "the stack did not come up healthy within 7 minutes"
  }
  for _ in $(seq 1 300); do
    curl -sS -o /dev/null http://127.0.0.1:9000/ 2>/dev/null && break
    sleep 0.2
  done
  curl -sS -o /dev/null http://127.0.0.1:9000/ || die "the edge does not answer on 127.0.0.1:9000"
  # Healthy is alive; ready is its connections up, and here also the read models built and fresh
  # (the first start builds them): /readyz reports their lag in checks.projections (the projector,
  # which makes them, reports no such check: ready is consuming).
  local name port ready
  for entry in projector:9015 admin:9010 keys:9013 token:9011 authorize:9014 userinfo:9012; do
    name=${entry%:*}; port=${entry#*:}; ready=""
    for _ in $(seq 1 240); do
      if $cli exec "${project}_${name}_1" node -e \
        "fetch('http://127.0.0.1:$port/readyz').then(async(r)=>process.exit(r.ok&&((await(r.json())).checks.projections?.ok??true)?0:1),()=>process.exit(1))" \
        2>/dev/null; then ready=1; break; fi
      sleep 0.5
    done
    [ -n "$ready" ] || { compose logs --tail=30 "$name" >&2 || true; die "$name is not ready after 2 minutes"; }
  done
  say "up and ready: http://127.0.0.1:9000"
  trap - EXIT INT TERM
  echo "URL=http://localhost:9000"
  grep '^GATEHOUSE_ADMIN_TOKEN=' "$dir/.env" | sed 's/^GATEHOUSE_ADMIN_TOKEN=/ADMIN_TOKEN=/'
}

down() {
  engine
  compose down --volumes --remove-orphans >&2 || true
  if [ -f "$dir/health.pid" ]; then
    local pid
    pid=$(cat "$dir/health.pid")
    rm -f "$dir/health.pid"
    [ -n "$pid" ] && { kill -- "-$pid" 2>/dev/null || true; }
  fi
  # The podman API, if `up` started it (none answered before): stopped with the stack.
  if [ -f "$dir/engine/podman-service.pid" ]; then bash "$here/engine.sh" stop --dir "$dir/engine"; fi
  say "down: nothing of $project left"
}

case $cmd in
  up) up ;;
  down) down ;;
  *) die "usage: compose.sh up|down [--dir DIR]" ;;
esac
