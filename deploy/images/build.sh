#!/usr/bin/env bash
# CI's image build: every Dockerfile target (route, search, api, app, import, ops) for
# linux/amd64 and linux/arm64 with buildah (daemonless, Debian's package), from binaries built
# outside the image (the Dockerfile's `prebuilt` stage) rather than by compiling the workspace
# again, then a manifest list per target and a check of every image.
#
#   deploy/images/build.sh [--tools | --rootfs | --prepare]
#
# The amd64 binaries: dist/images/amd64/bin, as deploy/build-binaries.sh copies them (CI: its
# debug build, `deploy/build-binaries.sh dev dist/images/amd64/bin -- --tests`).
# --tools: only installs what the build uses (Debian: buildah, debootstrap, file, and podman,
# runc for the container drill).
# --rootfs: only the Debian root filesystems (network-bound: CI starts this first, in the
# background, beside its compile).
# --prepare: only the slow parts that need no image storage, the base root filesystems and the
# arm64 binaries (CI starts it in the background; the full run then finds them done).
# arm64: cross-compiled by deploy/build-binaries.sh in a Debian trixie chroot (Rust from
# trixie-backports, libstd-rust-dev:arm64, gcc-aarch64-linux-gnu) with the `cross-check`
# profile (ARM64_PROFILE); never emulated: no arm64 code runs here.
# Base images come from debootstrap (deploy/images/rootfs.sh, cached in ~/.cache/norikae), so
# no image registry is needed: the amd64 one is tagged as the Dockerfile's `debian` base and
# goes through the Dockerfile's runtime-base stage; the arm64 one (no RUN possible without
# emulation) is made to the same description on the host and passed as RUNTIME_BASE.
#
# Environment: CARGO_TARGET_DIR (default <repo>/target), NORIKAE_CACHE, ARM64_PROFILE
# (default cross-check), IMAGE_TAG (default ci), IMAGES_ARCHES (default "amd64 arm64").
# Leaves: images localhost/norikae/<target>:<tag>-<arch>, manifest lists
# localhost/norikae/<target>:<tag>, dist/images/<arch>/{bin,snapshot}.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
MODE=${1:-all}
[[ $MODE == all || $MODE == --tools || $MODE == --rootfs || $MODE == --prepare ]] \
  || { echo "usage: deploy/images/build.sh [--tools | --rootfs | --prepare]" >&2; exit 2; }
TARGETS=(route search api app import ops)
TAG=${IMAGE_TAG:-ci}
ARCHES=(${IMAGES_ARCHES:-amd64 arm64})
ARM64_PROFILE=${ARM64_PROFILE:-cross-check}
TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
[[ $TARGET_DIR = /* ]] || TARGET_DIR=$REPO/$TARGET_DIR
DIST=$REPO/dist/images
# The Debian release of the Dockerfile's runtime (ARG DEBIAN_RELEASE).
RELEASE=$(sed -n 's/^ARG DEBIAN_RELEASE=//p' Dockerfile)
[[ -n $RELEASE ]] || { echo "no ARG DEBIAN_RELEASE in Dockerfile" >&2; exit 1; }
BASE=docker.io/library/debian:$RELEASE-slim
ARM64_BASE=localhost/norikae-runtime-base:$RELEASE-arm64
t0=$(date +%s)
log() { printf '[images %4ss] %s\n' "$(($(date +%s) - t0))" "$*"; }
fail() { log "FAILED: $*"; exit 1; }

if [[ $(id -u) -ne 0 ]]; then
  log "skipped: building images here needs root (debootstrap, chroot, buildah's storage)"
  exit 3
fi
TOOLS=(buildah debootstrap file podman runc)
for tool in "${TOOLS[@]}"; do
  if ! command -v "$tool" >/dev/null; then
    log "installing ${TOOLS[*]} (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${TOOLS[@]}" >/dev/null
    break
  fi
done
[[ $MODE == --tools ]] && exit 0
# Storage: overlay where the kernel allows it (a layer is a diff), else vfs (a layer is a full
# copy: slower, works everywhere, e.g. inside another container).
if [[ -z ${STORAGE_DRIVER:-} ]]; then
  probe=$(mktemp -d)
  if ctr=$(buildah --storage-driver overlay --root "$probe/root" --runroot "$probe/run" from scratch 2>/dev/null) \
    && buildah --storage-driver overlay --root "$probe/root" --runroot "$probe/run" mount "$ctr" >/dev/null 2>&1; then
    STORAGE_DRIVER=overlay
  else
    STORAGE_DRIVER=vfs
  fi
  buildah --storage-driver "$STORAGE_DRIVER" --root "$probe/root" --runroot "$probe/run" rm -a >/dev/null 2>&1 || true
  umount -R "$probe" 2>/dev/null || true
  rm -rf "$probe"
fi
export STORAGE_DRIVER
# For podman (the container drill): the same storage.
mkdir -p "$DIST" && echo "$STORAGE_DRIVER" >"$DIST/storage-driver"
log "buildah $(buildah --version | cut -d' ' -f3), storage driver $STORAGE_DRIVER"

# import_rootfs DIR IMAGE ARCH [FIXUP]: a local image of a root filesystem directory.
import_rootfs() {
  local dir=$1 image=$2 arch=$3 fixup=${4:-} ctr mnt
  ctr=$(buildah from --arch "$arch" scratch)
  mnt=$(buildah mount "$ctr")
  cp -a "$dir/." "$mnt/"
  [[ -n $fixup ]] && "$fixup" "$mnt"
  buildah umount "$ctr" >/dev/null
  buildah config --arch "$arch" --os linux --cmd /bin/bash "$ctr"
  buildah commit -q "$ctr" "$image" >/dev/null
  buildah rm "$ctr" >/dev/null
}

# What the Dockerfile's runtime-base RUN does, on the arm64 tree from the host: the CA bundle
# is there already (rootfs.sh), the user and group 10001 and the snapshot directory are added.
arm64_runtime_base() {
  local root=$1
  echo 'norikae:x:10001:10001::/srv/norikae:/usr/sbin/nologin' >>"$root/etc/passwd"
  echo 'norikae:x:10001:' >>"$root/etc/group"
  mkdir -p "$root/srv/norikae/data/snapshot"
  chown -R 10001:10001 "$root/srv/norikae"
}

have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }

# --- base root filesystems, binaries and the snapshot ---------------------------------------
if [[ " ${ARCHES[*]} " == *" arm64 "* ]]; then
  # The cross chroot beside the bases (all network-bound).
  bash deploy/images/rootfs.sh cross >/dev/null &
  cross_pid=$!
fi
bash deploy/images/rootfs.sh base amd64 "$RELEASE" >/dev/null
[[ " ${ARCHES[*]} " == *" arm64 "* ]] && bash deploy/images/rootfs.sh base arm64 "$RELEASE" >/dev/null
[[ -n ${cross_pid:-} ]] && { wait "$cross_pid" || fail "the cross chroot (deploy/images/rootfs.sh cross)"; }
if [[ $MODE == --rootfs ]]; then
  log "root filesystems ready"
  exit 0
fi
[[ -x $DIST/amd64/bin/norikae ]] || fail "no amd64 binaries in $DIST/amd64/bin: deploy/build-binaries.sh dev $DIST/amd64/bin"
mkdir -p "$DIST/amd64/snapshot"
if [[ ! $DIST/amd64/snapshot/timetable.snapshot -nt $DIST/amd64/bin/norikae ]]; then
  log "snapshot of the bundled feeds (amd64 norikae import; the format is little-endian, arch-free)"
  "$DIST/amd64/bin/norikae" import \
    ryobi=data/feeds/okayama/ryobi_bus_gtfs.zip \
    okaden=data/feeds/okayama/okaden_bus_gtfs.zip \
    chutetsu=data/feeds/okayama/chutetsu_bus_gtfs.zip \
    fukuoka=data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip \
    --out "$DIST/amd64/snapshot" >"$DIST/import.log" 2>&1 || { tail -n 20 "$DIST/import.log"; fail "norikae import"; }
fi

if [[ " ${ARCHES[*]} " == *" arm64 "* ]]; then
  log "arm64 binaries: deploy/images/cross-arm64.sh $ARM64_PROFILE (no emulation)"
  mkdir -p "$DIST/arm64/bin" "$DIST/arm64/snapshot"
  bash deploy/images/cross-arm64.sh "$ARM64_PROFILE" "$DIST/arm64/bin" || fail "arm64 cross build"
  cp "$DIST/amd64/snapshot/timetable.snapshot" "$DIST/arm64/snapshot/"
fi
if [[ $MODE == --prepare ]]; then
  log "prepared: base root filesystems, binaries, snapshot"
  exit 0
fi

# --- base images ----------------------------------------------------------------------------
if ! have_image "$BASE"; then
  log "base image $BASE (amd64) from debootstrap"
  import_rootfs "$(bash deploy/images/rootfs.sh base amd64 "$RELEASE")" "$BASE" amd64
fi
if [[ " ${ARCHES[*]} " == *" arm64 "* ]] && ! have_image "$ARM64_BASE"; then
  log "runtime base $ARM64_BASE from debootstrap --foreign (nothing of it run)"
  import_rootfs "$(bash deploy/images/rootfs.sh base arm64 "$RELEASE")" "$ARM64_BASE" arm64 arm64_runtime_base
fi

# --- the build context ----------------------------------------------------------------------
# What the Dockerfile's planner and builder stages get (`COPY . .`, after .dockerignore): it
# must hold a workspace cargo can load with the lockfile (every member, e.g. loadtests/load),
# the build line and the bundled feeds. (The builder stage itself needs the rust image from a
# registry; CI runs its build line, deploy/build-binaries.sh, directly.)
log "build context: the workspace as .dockerignore leaves it"
printf 'FROM scratch\nCOPY . /src\n' >"$DIST/context.Containerfile"
buildah bud -q --pull=never --layers=false -f "$DIST/context.Containerfile" -t localhost/norikae/context-check:$TAG . \
  >"$DIST/context.log" 2>&1 || { tail -n 20 "$DIST/context.log"; fail "build context"; }
ctr=$(buildah from --pull=never localhost/norikae/context-check:$TAG)
mnt=$(buildah mount "$ctr")
context_ok=1
cargo metadata --offline --format-version 1 --no-deps --manifest-path "$mnt/src/Cargo.toml" \
  >/dev/null 2>"$DIST/context.log" || { cat "$DIST/context.log"; context_ok=0; }
[[ -x $mnt/src/deploy/build-binaries.sh && -d $mnt/src/data/feeds/okayama && ! -e $mnt/src/target ]] || context_ok=0
buildah umount "$ctr" >/dev/null
buildah rm "$ctr" >/dev/null
buildah rmi localhost/norikae/context-check:$TAG >/dev/null
[[ $context_ok == 1 ]] || fail "the build context (.dockerignore) does not hold a loadable workspace"

# --- the images -----------------------------------------------------------------------------
# buildah 1.28 leaves a mounted working container behind for each `COPY --from` stage; the
# ones this run made are removed after the builds.
containers_before=$(buildah containers -q | sort)
# The RDS CA bundle (Dockerfile stage rds-ca) comes from AWS, which CI cannot reach: a
# stand-in certificate from the build context takes its place (checked below like the real one).
RDS_CA_STAND_IN=dist/images/rds-ca-stand-in.pem
if [[ ! -s $RDS_CA_STAND_IN ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Norikae CI stand-in for the RDS CA bundle" \
    -keyout /dev/null -out "$RDS_CA_STAND_IN" 2>/dev/null || fail "stand-in RDS CA bundle"
fi
for arch in "${ARCHES[@]}"; do
  # buildah 1.28 skips a stage named only through a default ARG (it builds `runtime-base` only
  # when RUNTIME_BASE is given), so it is given for amd64 too.
  extra=(--build-arg RUNTIME_BASE=runtime-base)
  [[ $arch == arm64 ]] && extra=(--build-arg "RUNTIME_BASE=$ARM64_BASE")
  for target in "${TARGETS[@]}"; do
    log "buildah bud --arch $arch --target $target"
    buildah bud -q --format docker --pull=never --layers --isolation chroot --arch "$arch" --os linux \
      --target "$target" --build-arg BINARIES=prebuilt --build-arg "PREBUILT_DIR=dist/images/$arch" \
      --build-arg "RDS_CA_BUNDLE=$RDS_CA_STAND_IN" "${extra[@]}" -t "localhost/norikae/$target:$TAG-$arch" -f Dockerfile . >"$DIST/build-$target-$arch.log" 2>&1 \
      || { tail -n 30 "$DIST/build-$target-$arch.log"; fail "image $target ($arch)"; }
  done
done

leaked=$(comm -13 <(echo "$containers_before") <(buildah containers -q | sort))
[[ -z $leaked ]] || buildah rm $leaked >/dev/null

# --- checks ---------------------------------------------------------------------------------
# check_image TARGET ARCH: the image's platform, user, entrypoint and command, and in its file
# system: the binary for the right machine with its ELF interpreter and libraries present,
# bash (the health check), the CA bundle, the snapshot directory owned by 10001, and for
# route/search the snapshot.
check_image() {
  local target=$1 arch=$2 image="localhost/norikae/$1:$TAG-$2" fmt ctr mnt bin machine interp lib problems=()
  # platform|user|entrypoint|cmd|health check, the lists as JSON.
  fmt=$(buildah inspect --type image "$image" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["OCIv1"]["config"]
print("|".join([d["OCIv1"]["architecture"] + " " + d["OCIv1"]["os"], c.get("User") or "",
    json.dumps(c.get("Entrypoint")), json.dumps(c.get("Cmd")),
    json.dumps((d["Docker"]["config"].get("Healthcheck") or {}).get("Test"))]))')
  IFS='|' read -r platform user entrypoint cmd health <<<"$fmt"
  [[ $platform == "$arch linux" ]] || problems+=("platform $platform")
  [[ $user == 10001:10001 ]] || problems+=("user '$user'")
  case $target in
    import) bin=norikae; [[ $entrypoint == '["/usr/local/bin/norikae"]' && $cmd == '["import",'* ]] || problems+=("entrypoint $entrypoint cmd $cmd") ;;
    ops) bin=norikae-ops; [[ $entrypoint == '["/usr/local/bin/norikae-ops"]' && $cmd == '["agent-check"]' ]] || problems+=("entrypoint $entrypoint cmd $cmd") ;;
    *) bin=norikae-$target; [[ $entrypoint == null || $entrypoint == '[]' ]] && [[ $cmd == "[\"/usr/local/bin/$bin\"]" ]] || problems+=("entrypoint $entrypoint cmd $cmd") ;;
  esac
  case $target in
    import | ops) [[ $health == '["NONE"]' ]] || problems+=("health check $health") ;;
    *) [[ $health == '["CMD", "/usr/local/bin/norikae-healthcheck", "/health/live"]' ]] || problems+=("health check $health") ;;
  esac
  [[ $entrypoint == *tini* ]] && problems+=("tini in the entrypoint: the orchestrator is the init")
  ctr=$(buildah from --pull=never --arch "$arch" "$image")
  mnt=$(buildah mount "$ctr")
  if [[ -f $mnt/usr/local/bin/$bin ]]; then
    machine=$([[ $arch == amd64 ]] && echo x86-64 || echo "ARM aarch64")
    file -b "$mnt/usr/local/bin/$bin" | grep -q "^ELF 64-bit LSB .*, $machine," \
      || problems+=("$bin is $(file -b "$mnt/usr/local/bin/$bin" | cut -c1-60)")
    interp=$(readelf -l "$mnt/usr/local/bin/$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
    [[ -e $mnt$interp ]] || problems+=("no ELF interpreter $interp")
    # The newest glibc symbol version the binary needs must be in the image's glibc (a binary
    # linked against newer headers, e.g. C code built in the trixie chroot, would not start).
    local need have
    need=$(readelf -V --wide "$mnt/usr/local/bin/$bin" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n 1)
    have=$(cat "$mnt"/usr/lib/*-linux-gnu/libc.so.6 | grep -a -o 'release version [0-9][0-9.]*[0-9]' | head -n 1 | cut -d' ' -f3)
    [[ -n $have && $(printf '%s\n%s\n' "$need" "$have" | sort -V | tail -n 1) == "$have" ]] \
      || problems+=("$bin needs glibc $need, the image has ${have:-none}")
    for lib in $(readelf -d "$mnt/usr/local/bin/$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'); do
      compgen -G "$mnt/usr/lib/*-linux-gnu/$lib" >/dev/null || compgen -G "$mnt/lib/*-linux-gnu/$lib" >/dev/null \
        || problems+=("library $lib missing")
    done
  else
    problems+=("no /usr/local/bin/$bin")
  fi
  [[ -x $mnt/bin/bash && -x $mnt/usr/local/bin/norikae-healthcheck ]] || problems+=("no bash or health check")
  [[ -s $mnt/etc/ssl/certs/ca-certificates.crt ]] || problems+=("no CA bundle")
  # The RDS CA bundle: at least one certificate and nothing but PEM certificates.
  local rds=$mnt/etc/ssl/certs/rds-global-bundle.pem
  grep -q -e '^-----BEGIN CERTIFICATE-----' "$rds" 2>/dev/null \
    && ! grep -Ev -e '^-----(BEGIN|END) CERTIFICATE-----\r?$' -e '^[A-Za-z0-9+/=]*\r?$' "$rds" >/dev/null \
    || problems+=("no RDS CA bundle of PEM certificates")
  [[ $(stat -c %u:%g "$mnt/srv/norikae/data/snapshot") == 10001:10001 ]] || problems+=("snapshot dir not owned by 10001")
  if [[ $target == route || $target == search ]]; then
    cmp -s "$mnt/srv/norikae/data/snapshot/timetable.snapshot" "$DIST/$arch/snapshot/timetable.snapshot" \
      || problems+=("no snapshot")
  fi
  buildah umount "$ctr" >/dev/null
  buildah rm "$ctr" >/dev/null
  if [[ ${#problems[@]} -gt 0 ]]; then
    fail "$image: ${problems[*]}"
  fi
  log "ok: $image ($platform, user $user, $bin: $machine, glibc $need <= $have)"
}

for arch in "${ARCHES[@]}"; do
  for target in "${TARGETS[@]}"; do check_image "$target" "$arch"; done
done

# --- manifest lists -------------------------------------------------------------------------
for target in "${TARGETS[@]}"; do
  list="localhost/norikae/$target:$TAG"
  buildah manifest rm "$list" >/dev/null 2>&1 || true
  buildah manifest create "$list" >/dev/null
  for arch in "${ARCHES[@]}"; do
    buildah manifest add --arch "$arch" --os linux "$list" "containers-storage:localhost/norikae/$target:$TAG-$arch" >/dev/null
  done
  platforms=$(buildah manifest inspect "$list" | python3 -c 'import json,sys; print(" ".join(sorted(m["platform"]["os"] + "/" + m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"])))')
  expected=$(for arch in "${ARCHES[@]}"; do echo "linux/$arch"; done | sort | xargs)
  [[ $platforms == "$expected" ]] || fail "manifest list $list has $platforms"
  log "ok: manifest list $list: $platforms"
done
log "done: ${#TARGETS[@]} targets × ${#ARCHES[@]} arches"
