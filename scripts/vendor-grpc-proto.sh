#!/usr/bin/env bash
# Refreshes vendor-grpc-proto/ from Debian's `grpc-proto` package (apt-get install grpc-proto).
# The copies are committed, unmodified (each keeps its Apache-2.0 header), so `npm run generate`
# works on machines without the package; run this only to take a newer upstream version.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=/usr/share/grpc-proto
for file in grpc/health/v1/health.proto grpc/reflection/v1/reflection.proto grpc/reflection/v1alpha/reflection.proto; do
  install -D -m 644 "$source_dir/$file" "vendor-grpc-proto/$file"
done
version=$(dpkg-query -W -f '${Version}' grpc-proto)
sed -i "s/^Debian package version: .*/Debian package version: $version/" vendor-grpc-proto/README.md
