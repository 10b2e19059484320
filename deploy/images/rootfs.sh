#!/usr/bin/env bash
# Debian root filesystems for the CI image builds, made with debootstrap (no image registry
# needed) and cached as directories under ${NORIKAE_CACHE:-~/.cache/norikae}:
#   rootfs.sh base amd64 [RELEASE]   minbase + ca-certificates (RELEASE: default
#                                   $DEBIAN_RELEASE or bookworm): the Dockerfile's debian base
#   rootfs.sh base arm64 [RELEASE]   the same for arm64, unpacked on the host without emulation
#                          (debootstrap --foreign: no maintainer scripts run; see below)
#   rootfs.sh cross        trixie amd64 with Rust from trixie-backports, the arm64 std and the
#                          Debian aarch64 cross linker: where the arm64 binaries are built
# Prints the directory's path. Needs root (debootstrap, chroot).
set -euo pipefail
CACHE=${NORIKAE_CACHE:-$HOME/.cache/norikae}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$CACHE"
log() { printf '[rootfs] %s\n' "$*" >&2; }

ensure_tools() {
  command -v debootstrap >/dev/null && return 0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
}

# lock OUT: one maker per tree (CI starts them early in the background; a later caller waits
# for the tree, then finds it made). Held until the script exits.
lock() {
  exec {fd}>"$1.lock"
  flock "$fd"
}

# done DIR OUT: the finished tree takes its cached name (a half-made one never does).
done_as() {
  rm -rf "$2" && mv "$1" "$2"
}

# image_tree DIR: what an image's root holds: mode 755 (mktemp made it 700), empty /dev,
# /proc and /sys (the runtime mounts them; debootstrap --foreign leaves /proc a symlink).
image_tree() {
  chmod 755 "$1"
  rm -rf "$1/dev" "$1/proc" "$1/sys"
  mkdir -m 755 "$1/dev" "$1/proc" "$1/sys"
}

base() {
  local arch=$1 release=${2:-${DEBIAN_RELEASE:-bookworm}} out dir
  out="$CACHE/$release-$arch"
  [[ -d $out ]] && { echo "$out"; return 0; }
  lock "$out"
  [[ -d $out ]] && { echo "$out"; return 0; }
  ensure_tools
  dir=$(mktemp -d "$CACHE/tmp-$release-$arch.XXXXXX")
  log "debootstrap $release $arch (minbase, ca-certificates) into $dir"
  if [[ $arch == amd64 ]]; then
    debootstrap --variant=minbase --include=ca-certificates "$release" "$dir" "$MIRROR" >"$dir.log" 2>&1 \
      || { tail -n 20 "$dir.log" >&2; exit 1; }
  else
    # --foreign only unpacks: the packages' maintainer scripts would need an arm64 CPU. What a
    # runtime image uses works unconfigured (libc, libgcc_s, bash, the shared dirs); the two
    # files the scripts would have made come from the host side: the user database from
    # base-passwd's masters, the CA bundle from the amd64 base (the same Debian certificates).
    debootstrap --variant=minbase --foreign --arch=arm64 --include=ca-certificates "$release" "$dir" "$MIRROR" \
      >"$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; exit 1; }
    cp "$dir/usr/share/base-passwd/passwd.master" "$dir/etc/passwd"
    cp "$dir/usr/share/base-passwd/group.master" "$dir/etc/group"
    local amd64
    amd64=$(base amd64 "$release")
    mkdir -p "$dir/etc/ssl/certs"
    cp "$amd64/etc/ssl/certs/ca-certificates.crt" "$dir/etc/ssl/certs/"
    rm -rf "$dir/debootstrap" "$dir"/var/cache/apt/archives/*.deb
  fi
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
  image_tree "$dir"
  rm -f "$dir.log"
  done_as "$dir" "$out"
  echo "$out"
}

cross() {
  local out="$CACHE/cross-trixie" dir
  [[ -d $out ]] && { echo "$out"; return 0; }
  lock "$out"
  [[ -d $out ]] && { echo "$out"; return 0; }
  ensure_tools
  dir=$(mktemp -d "$CACHE/tmp-cross.XXXXXX")
  log "debootstrap trixie amd64 (minbase) into $dir, then Rust from trixie-backports and the aarch64 cross tools"
  debootstrap --variant=minbase trixie "$dir" "$MIRROR" >"$dir.log" 2>&1 || { tail -n 20 "$dir.log" >&2; exit 1; }
  echo "deb $MIRROR trixie-backports main" >"$dir/etc/apt/sources.list.d/backports.list"
  chroot "$dir" dpkg --add-architecture arm64
  chroot "$dir" apt-get update -qq >>"$dir.log" 2>&1
  DEBIAN_FRONTEND=noninteractive chroot "$dir" apt-get install -y -qq --no-install-recommends \
    -t trixie-backports rustc cargo libstd-rust-dev:arm64 \
    gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross ca-certificates file >>"$dir.log" 2>&1 \
    || { tail -n 20 "$dir.log" >&2; exit 1; }
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/*
  rm -f "$dir.log"
  done_as "$dir" "$out"
  echo "$out"
}

case ${1:-} in
  base) base "${2:?usage: rootfs.sh base amd64|arm64 [RELEASE]}" "${3:-}" ;;
  cross) cross ;;
  *) echo "usage: rootfs.sh base amd64|arm64 [RELEASE] | cross" >&2; exit 2 ;;
esac
