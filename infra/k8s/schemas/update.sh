#!/usr/bin/env bash
# Remakes the vendored schemas from Kubernetes' OpenAPI document at the pinned version:
#   bash infra/k8s/schemas/update.sh [x.y.z]     (default: the version check.sh validates against)
# Downloads the k8s.io/kubernetes Go module (about 17 MB, through the Go module proxy, checked
# against the Go checksum database) and converts its api/openapi-spec/swagger.json for the kinds
# the manifests use (tools/topology/src/k8s.ts `k8sKinds`). Changing the version: update
# kubernetes_version in ../check.sh too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
version=${1:-$(sed -n 's/^kubernetes_version=//p' "$here/../check.sh")}
dir=$(go mod download -json "k8s.io/kubernetes@v$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -f "$dir/api/openapi-spec/swagger.json" ] || { echo "update.sh: no swagger.json in $dir" >&2; exit 1; }
sha256sum "$dir/api/openapi-spec/swagger.json"
cd "$root/tools/topology"
pnpm exec tsx --conditions=@gatehouse/source src/write-k8s-schemas.ts \
  "$dir/api/openapi-spec/swagger.json" "$version"
