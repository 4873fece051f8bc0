#!/usr/bin/env bash
# Runs a command with the newest Node <major> first on PATH, e.g.
#   scripts/with-node.sh 24 npx vitest run test/flow.test.ts
# The binary is the npm registry's node-<os>-<arch> package: the one that the registry's `node`
# package installs from its preinstall script (which npm 11 would skip). It is kept, one folder per
# version, under $VA_NODE_CACHE (default ~/.cache/va-gateway/node); without the registry the newest
# cached version of that major is used.
set -euo pipefail

if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major> <command> [arguments…]" >&2
  exit 2
fi
major=$1
shift

case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) echo "with-node.sh: no Node package for $(uname -s)" >&2; exit 2 ;;
esac
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "with-node.sh: no Node package for $(uname -m)" >&2; exit 2 ;;
esac
package="node-$os-$arch"
cache="${VA_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/va-gateway/node}"

newest() { sort -t. -k1,1n -k2,2n -k3,3n | tail -n 1; }

version=$(npm view "$package@$major" version --json 2>/dev/null |
  node -e 'const v = JSON.parse(require("fs").readFileSync(0, "utf8")); for (const x of [].concat(v)) console.log(x)' 2>/dev/null |
  newest || true)
if [ -z "$version" ]; then
  version=$(ls "$cache" 2>/dev/null | grep -E "^$major\.[0-9]+\.[0-9]+$" | newest || true)
  if [ -z "$version" ]; then
    echo "with-node.sh: cannot find $package@$major on the npm registry, and none is cached in $cache" >&2
    exit 1
  fi
fi

folder="$cache/$version"
if ! [ -x "$folder/bin/node" ]; then
  staging=$(mktemp -d)
  trap 'rm -rf "$staging"' EXIT
  tarball=$(npm pack "$package@$version" --pack-destination "$staging" --silent 2>/dev/null | tail -n 1)
  tar -xzf "$staging/$tarball" -C "$staging"
  mkdir -p "$cache"
  rm -rf "$folder"
  mv "$staging/package" "$folder"
  rm -rf "$staging"
  trap - EXIT
fi

export PATH="$folder/bin:$PATH"
exec "$@"
