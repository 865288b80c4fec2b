#!/usr/bin/env bash
# buf breaking: proto/ as it stands (working tree) against every version of proto/ ever committed,
# so CI catches a breaking change against the previous landed commit however many commits the change
# spans (comparing with `main` compares main with itself once the change is committed).
#   bash scripts/breaking.sh        (from packages/contracts; `pnpm --filter @gatehouse/contracts breaking`)
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(git rev-parse --show-toplevel)
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
  echo "breaking: shallow clone; only the proto/ versions in its history are compared" >&2
fi
versions=$(git log --format=%H -- "$top/proto")
if [ -z "$versions" ]; then
  echo "breaking: no committed version of proto/ to compare with"
  exit 0
fi
checked=0
for commit in $versions; do
  buf breaking "$top/proto" --against "$top/.git#ref=$commit,subdir=proto"
  checked=$((checked + 1))
done
echo "breaking: proto/ is compatible with all $checked committed versions"
