#!/usr/bin/env bash
# Validates the Kubernetes manifests without a cluster: renders infra/k8s/base and every overlay
# with kustomize and checks each rendered resource with kubeconform against the JSON schemas
# vendored in infra/k8s/schemas (strict: an unknown field, a wrong type or a kind without a schema
# fails). Then proves the check can fail: a deliberately broken copy of the overlay must be refused.
#   bash infra/k8s/check.sh
# Needs Go on the machine when the tools are not cached yet: the pinned kustomize and kubeconform
# are built through the Go module proxy into GATEHOUSE_TOOLS_CACHE (default ~/.cache/gatehouse/tools).
# kubeconform v0.8.0 asks for Go 1.26; Go 1.21 or later fetches that toolchain by itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { echo "check.sh: $*" >&2; }
die() { say "$*"; exit 1; }

kubeconform_version=v0.8.0
kustomize_version=v5.8.1
# The Kubernetes version the schemas were made for (infra/k8s/schemas/README.md).
kubernetes_version=1.31.14
schemas="$here/schemas/v$kubernetes_version-standalone-strict"
[ -d "$schemas" ] || die "no schemas in $schemas"

cache=${GATEHOUSE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gatehouse/tools}

# tool MODULE/PATH VERSION NAME: the path of the binary, built into the cache once per version.
tool() {
  local package=$1 version=$2 name=$3
  local bin="$cache/$name-$version/$name"
  if [ ! -x "$bin" ]; then
    command -v go >/dev/null 2>&1 || die "$name $version is not in $cache and there is no Go to build it"
    local minor
    minor=$(go env GOVERSION | sed -n 's/^go1\.\([0-9]*\).*/\1/p')
    [ "${minor:-0}" -ge 21 ] || die "$(go version): Go 1.21 or later is needed to build $name $version"
    say "building $name $version into $cache/$name-$version (go install $package@$version)"
    # Its own module cache under the tools cache: nothing of the machine's GOPATH is needed.
    GOBIN="$cache/$name-$version" GOFLAGS="-mod=mod -modcacherw" GOPATH="$cache/gopath" \
      go install "$package@$version" >&2 || die "go install $package@$version failed"
  fi
  echo "$bin"
}
kustomize=$(tool sigs.k8s.io/kustomize/kustomize/v5 "$kustomize_version" kustomize)
kubeconform=$(tool github.com/yannh/kubeconform/cmd/kubeconform "$kubeconform_version" kubeconform)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

validate() {
  "$kubeconform" -strict -summary -kubernetes-version "$kubernetes_version" \
    -schema-location "$here/schemas/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$@"
}

status=0
for dir in "$here/base" "$here"/overlays/*/; do
  dir=${dir%/}
  name=${dir#"$here/"}
  rendered="$work/${name//\//-}.yaml"
  if ! "$kustomize" build "$dir" >"$rendered"; then
    say "FAIL $name: kustomize build failed"; status=1; continue
  fi
  [ -s "$rendered" ] || { say "FAIL $name: rendered nothing"; status=1; continue; }
  printf '%s: ' "$name"
  validate "$rendered" || { say "FAIL $name: kubeconform refused it"; status=1; }
done

# The check must be able to fail: each broken copy of the rendered overlay has to be refused.
example="$work/overlays-example.yaml"
[ -s "$example" ] || die "no rendered overlays/example to break"
broken() {
  local label=$1 expression=$2 copy="$work/broken.yaml"
  sed "$expression" "$example" >"$copy"
  cmp -s "$copy" "$example" && die "self-check '$label': the edit changed nothing"
  if validate "$copy" >"$work/broken.log" 2>&1; then
    cat "$work/broken.log" >&2
    die "self-check: a manifest with $label passed validation"
  fi
  echo "self-check: refused as it should be, a manifest with $label"
}
broken 'an unknown field' 's/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/'
broken 'a string for an integer' 's/minReplicas: 2/minReplicas: two/'
broken 'a kind without a vendored schema' 's#^apiVersion: policy/v1$#apiVersion: policy/v1beta1#'

[ "$status" = 0 ] && echo "Kubernetes manifests valid (kustomize $kustomize_version, kubeconform $kubeconform_version, Kubernetes $kubernetes_version schemas)"
exit "$status"
