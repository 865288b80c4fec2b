#!/usr/bin/env bash
# What each service image built by compose.sh holds and how it runs, checked in the image itself:
#   infra/containers/check-images.sh [SERVICE...]   (default: every service with a Dockerfile)
# For docker.io/gatehouse/<name>:latest: its user is not root, its command is `node dist/main.js`,
# the code and packages under /app are not writable by that user, and /app/node_modules holds no
# development-only package (every catalog entry and workspace package outside the service's
# runtime closure). Run by compose.sh after it builds the images; needs the engine of engine.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
. "$here/../local/lib.sh"
say() { echo "check-images.sh: $*" >&2; }

eval "$(bash "$here/engine.sh" start 2>/dev/null | grep -E '^(DOCKER_HOST|ENGINE)=')"
export DOCKER_HOST
cli=docker
[ "$ENGINE" = podman ] && cli=podman
node=$("$root/node_modules/.bin/node" -p process.execPath 2>/dev/null) \
  || die "run pnpm install first (Node 24 comes from node_modules/.bin/node)"

if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for file in "$root"/services/*/Dockerfile; do names+=("$(basename "$(dirname "$file")")"); done
fi

# Packages a service's image must not hold: every catalog entry and workspace package outside the
# service's runtime closure (its `dependencies`, following workspace packages' own), besides
# @types/node (protobufjs depends on it), and esbuild (tsx's and vite's). Prints one a line.
not_deployable() {
  (cd "$root" && "$node" --input-type=module -e '
    import { existsSync, readdirSync, readFileSync } from "node:fs";
    import { createRequire } from "node:module";
    const { parse } = createRequire(`${process.cwd()}/tools/topology/package.json`)("yaml");
    const catalog = Object.keys(parse(readFileSync("pnpm-workspace.yaml", "utf8")).catalog);
    const manifests = new Map(
      ["packages", "services", "apps", "tools", "testing"]
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

for name in "${names[@]}"; do
  image="docker.io/gatehouse/$name:latest"
  # The image the compose file's short name resolves to must be this build.
  resolved=$($cli image inspect --format '{{.Id}}' "gatehouse/$name:latest" 2>/dev/null || true)
  built=$($cli image inspect --format '{{.Id}}' "$image")
  [ "$resolved" = "$built" ] || die "$name: gatehouse/$name:latest resolves to $resolved, not this build ($built)"
  user=$($cli image inspect --format '{{.Config.User}}' "$image") || die "$name: no image $image"
  [ -n "$user" ] && [ "$user" != root ] && [ "$user" != 0 ] || die "$name: the image runs as root"
  cmd=$($cli image inspect --format '{{json .Config.Cmd}}' "$image")
  [ "$cmd" = '["node","dist/main.js"]' ] || die "$name: its command is $cmd"
  # One short container, no network: who it runs as, what it could change, what it holds.
  report=$($cli run --rm --network none --entrypoint /bin/sh "$image" -c '
    id -u
    for path in /app /app/dist /app/node_modules /app/package.json; do [ -w "$path" ] && echo "writable $path"; done
    ls /app/node_modules/.pnpm' 2>&1) || die "$name: could not run $image: $report"
  # No pipe into a reader that stops early (head, grep -q): under pipefail the writer's SIGPIPE
  # (141) would end the script, or hide a match.
  uid=${report%%$'\n'*}
  [ "$uid" != 0 ] || die "$name: runs as uid 0"
  writable=$(echo "$report" | sed -n 's/^writable //p')
  [ -z "$writable" ] || die "$name: its user ($user) can change $writable"
  found=$(for package in $(not_deployable "$name"); do
    grep -q "^${package/\//+}@" <<<"$report" && echo "$package"
  done || true)
  [ -z "$found" ] || die "$name: development-only packages deployed: $(echo $found)"
  say "$name: runs as $user (uid $uid), /app read-only to it, $(echo "$report" | grep -c '@') packages, none development-only"
done
