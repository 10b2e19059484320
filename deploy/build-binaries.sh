#!/usr/bin/env bash
# The build line of the container images, shared by the Dockerfile's builder stage and CI (so
# a broken line fails CI, not only the release pipeline): builds every binary of the workspace
# and copies the six the images run, stripped, into OUTDIR.
#
#   deploy/build-binaries.sh PROFILE OUTDIR [TARGET] [-- EXTRA_CARGO_ARGS...]
#
#   PROFILE  a cargo profile: release (the Dockerfile), dev (CI's build: it adds `-- --tests`,
#            so the tests' build and the amd64 images' binaries are one build), cross-check
#            (CI's arm64 build: cheap codegen, see Cargo.toml)
#   TARGET   a target triple (e.g. aarch64-unknown-linux-gnu), or empty for the host's
#
# The whole workspace rather than `-p` per service: `default-members` is `services/cli`, so a
# plain `--bin norikae-app` finds nothing, and building the workspace at once gives the same
# feature resolution as CI's `cargo build --workspace --bins --tests`.
set -euo pipefail
usage() { echo "usage: deploy/build-binaries.sh PROFILE OUTDIR [TARGET] [-- CARGO_ARGS...]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
profile=$1 out=$2
shift 2
target=""
if [[ $# -gt 0 && $1 != -- ]]; then target=$1; shift; fi
if [[ $# -gt 0 ]]; then [[ $1 == -- ]] || usage; shift; fi

# The binaries the images run (Dockerfile: route, search, api, app, import = norikae, ops).
IMAGE_BINARIES=(norikae norikae-app norikae-api norikae-search norikae-route norikae-ops)

args=(build --locked --profile "$profile" --workspace --bins)
[[ -n $target ]] && args+=(--target "$target")
cargo "${args[@]}" "$@"

case $profile in dev | test) dir=debug ;; bench) dir=release ;; *) dir=$profile ;; esac
dir="${CARGO_TARGET_DIR:-target}/${target:+$target/}$dir"
strip=strip
[[ $target == aarch64-unknown-linux-gnu && $(uname -m) != aarch64 ]] && strip=aarch64-linux-gnu-strip
mkdir -p "$out"
for bin in "${IMAGE_BINARIES[@]}"; do
  # Stripped: no debug sections in the images (panics keep their messages, not line numbers).
  "$strip" -o "$out/$bin" "$dir/$bin"
done
