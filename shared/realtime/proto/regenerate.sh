#!/usr/bin/env bash
# Regenerates src/proto/transit_realtime.rs from proto/gtfs-realtime.proto (the official
# schema, Apache-2.0) with prost-build and protox (a protobuf compiler in Rust, so no protoc
# is needed). The output is checked in, so that building the workspace needs neither.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/src" "$scratch/proto" "$scratch/out"
cp "$here/generator.Cargo.toml" "$scratch/Cargo.toml"
cp "$here/generator.rs" "$scratch/src/main.rs"
cp "$here/gtfs-realtime.proto" "$scratch/proto/"
(cd "$scratch" && CARGO_TARGET_DIR="$scratch/target" cargo run --quiet -- "$scratch/out")
cp "$scratch/out/transit_realtime.rs" "$here/../src/proto/transit_realtime.rs"
echo "regenerated src/proto/transit_realtime.rs"
