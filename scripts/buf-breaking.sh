#!/usr/bin/env bash
# Fails when proto/ changes the contract in a way that breaks generated clients (buf's FILE rules),
# compared with the last released contract: the newest tag reachable from HEAD, else the previous
# commit. A new major version goes in a new package (va.v2) next to va.v1, which is not a break.
# Usage: scripts/buf-breaking.sh [<git ref to compare with>]
set -euo pipefail
cd "$(dirname "$0")/.."

base="${1:-}"
if [ -z "$base" ]; then
  base=$(git describe --tags --abbrev=0 2>/dev/null || true)
fi
if [ -z "$base" ]; then
  if [ "$(git rev-parse --is-shallow-repository)" = true ] && ! git rev-parse --verify -q HEAD~1 >/dev/null; then
    # A shallow CI clone: one more commit is all the comparison needs.
    git fetch -q --deepen=1 2>/dev/null || true
  fi
  if git rev-parse --verify -q HEAD~1 >/dev/null; then
    base=$(git rev-parse HEAD~1)
  elif [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    echo "buf-breaking: shallow clone without the previous commit, and it could not be fetched; pass a ref" >&2
    exit 2
  else
    echo "buf-breaking: no tag and no previous commit: no earlier contract to compare with"
    exit 0
  fi
fi
git rev-parse --verify -q "$base^{commit}" >/dev/null || { echo "buf-breaking: unknown git ref: $base" >&2; exit 2; }
if ! git cat-file -e "$base:proto" 2>/dev/null; then
  echo "buf-breaking: $base has no proto/: no earlier contract to compare with"
  exit 0
fi

# The earlier tree as buf saw it: its workspace and modules, plus buf/validate/validate.proto, which
# is generated (not committed) from the installed @bufbuild/protovalidate.
against=$(mktemp -d)
trap 'rm -rf "$against"' EXIT
git archive "$base" buf.yaml proto $(git cat-file -e "$base:vendor-grpc-proto" 2>/dev/null && echo vendor-grpc-proto) | tar -x -C "$against"
[ -f vendor-proto/buf/validate/validate.proto ] || node scripts/export-validate-proto.mjs
cp -r vendor-proto "$against/"

echo "buf breaking: proto/ against $(git describe --tags --always "$base")"
npx buf breaking proto --against "$against/proto"
