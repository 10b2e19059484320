#!/usr/bin/env bash
# The arm64 binaries of the images, cross-compiled without emulation: deploy/build-binaries.sh
# (the images' build line) in a Debian trixie chroot (deploy/images/rootfs.sh cross: Rust from
# trixie-backports, libstd-rust-dev:arm64, gcc-aarch64-linux-gnu as linker and C compiler).
#
#   deploy/images/cross-arm64.sh PROFILE OUTDIR
#
# The repository, CARGO_TARGET_DIR (default <repo>/target; the arm64 build goes to its
# aarch64-unknown-linux-gnu/ folder) and the host's crates.io cache are bind-mounted into the
# chroot. OUTDIR must be inside the repository. Needs root (chroot, mount).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
profile=${1:?usage: cross-arm64.sh PROFILE OUTDIR}
out=${2:?usage: cross-arm64.sh PROFILE OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $out == "$REPO"/* ]] || { echo "cross-arm64.sh: OUTDIR must be inside $REPO" >&2; exit 2; }
target_dir=${CARGO_TARGET_DIR:-$REPO/target}
[[ $target_dir = /* ]] || target_dir=$REPO/$target_dir
registry=${CARGO_HOME:-$HOME/.cargo}/registry
cross=$(bash "$REPO/deploy/images/rootfs.sh" cross)
# One build at a time: a second one would bind its mounts over the first's (same chroot).
exec 9>"$cross.build.lock"
flock 9

mounts=()
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount -l "${mounts[$i]}" 2>/dev/null || true; done
}
trap unmount_all EXIT
bind() { mkdir -p "$1" "$2" && mount --bind "$1" "$2" && mounts+=("$2"); }
bind /proc "$cross/proc"
bind /dev "$cross/dev"
bind "$REPO" "$cross/src"
bind "$target_dir" "$cross/target"
# The host's crates.io cache: the lockfile's crates are downloaded once.
bind "$registry" "$cross/root/.cargo/registry"
cp /etc/resolv.conf "$cross/etc/resolv.conf"

echo "cross-arm64: $(chroot "$cross" rustc --version), $(chroot "$cross" aarch64-linux-gnu-gcc --version | head -n1)"
# CC_/AR_: the C code of build scripts (e.g. ring or aws-lc-sys under rustls) for aarch64.
chroot "$cross" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root CARGO_TERM_COLOR=never \
  CARGO_TARGET_DIR=/target CARGO_INCREMENTAL=0 \
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
  CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
  AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar \
  bash -c 'cd /src && exec deploy/build-binaries.sh "$1" "$2" aarch64-unknown-linux-gnu' \
  build "$profile" "/src/${out#"$REPO"/}"
