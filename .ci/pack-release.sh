#!/usr/bin/env bash
# Packs one release asset, the layout action/install.sh and cargo-binstall (Cargo.toml's
# [package.metadata.binstall]) unpack: <name>-<version>-<target>.tar.gz holding the folder
# <name>-<version>-<target>/ with the binary, README.md and the licence files present.
#   pack-release.sh BINARY NAME VERSION TARGET OUT_DIR   (run from the repository's root)
set -euo pipefail

if [ "$#" -ne 5 ]; then
  echo "usage: $0 BINARY NAME VERSION TARGET OUT_DIR" >&2
  exit 2
fi
binary=$1 name=$2 version=$3 target=$4 out=$5
folder="$name-$version-$target"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage/$folder" "$out"
cp "$binary" "$stage/$folder/"
cp README.md "$stage/$folder/"
for licence in LICENSE*; do
  if [ -f "$licence" ]; then cp "$licence" "$stage/$folder/"; fi
done
tar -czf "$out/$folder.tar.gz" -C "$stage" "$folder"
echo "$out/$folder.tar.gz"
