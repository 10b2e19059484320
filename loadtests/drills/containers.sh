# Containers for a drill (sourced after lib.sh, with DRILL_CONTAINERS=1): the services run from
# the images deploy/images/build.sh built (localhost/norikae/<service>:$DRILL_IMAGE_TAG), with
# podman (Debian's package, daemonless) on a network of their own; only the containers this
# drill starts are ever stopped or removed.
#
# podman runs with runc and explicit ulimits: crun refuses a cgroup v1/v2 hybrid host ("cgroups
# in hybrid mode not supported"), and podman's default nofile/nproc limits exceed what an
# unprivileged sandbox may set. Each container gets `--init` (catatonit), the one init, like
# ECS initProcessEnabled and compose `init: true`: the images have none. Each also runs with a
# read-only root and a tmpfs on /tmp alone, as ECS runs them (ReadonlyRootFilesystem, a task
# volume on /tmp): podman's other default tmpfs mounts (/run, /var/tmp) are turned off, so a
# write anywhere else fails here as it would in ECS.

DRILL_IMAGE_TAG=${DRILL_IMAGE_TAG:-ci-amd64}
# The storage driver deploy/images/build.sh chose (overlay, or vfs where overlay cannot mount).
# (The environment, as buildah had it: the flag would not match the storage's records.)
STORAGE_DRIVER=$(cat "$REPO/dist/images/storage-driver" 2>/dev/null || echo overlay)
export STORAGE_DRIVER
PODMAN=(podman --runtime "${DRILL_OCI_RUNTIME:-runc}")
CONTAINER_LIMITS=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
READ_ONLY_ROOT=(--read-only --read-only-tmpfs=false --tmpfs /tmp)
NETWORK="norikae-drill-$$"
declare -A CONTAINER_OF=()

# ensure_podman: podman and runc (Debian), the images, and a container that runs; exits 3
# with the reason when this machine cannot run containers.
ensure_podman() {
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null; then
    say "installing podman, runc (Debian)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >"$WORK/apt.log" 2>&1 || {
      apt-get update -qq >>"$WORK/apt.log" 2>&1
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc >>"$WORK/apt.log" 2>&1
    }
  fi
  local image="localhost/norikae/route:$DRILL_IMAGE_TAG"
  if ! "${PODMAN[@]}" image exists "$image"; then
    say "no image $image: build the images first (deploy/images/build.sh)"
    DRILL_FAILED=1
    exit 1
  fi
  "${PODMAN[@]}" network create "$NETWORK" >/dev/null
  GATEWAY=$("${PODMAN[@]}" network inspect "$NETWORK" --format '{{range .Subnets}}{{.Gateway}}{{end}}')
  if ! "${PODMAN[@]}" run --rm --network "$NETWORK" "${CONTAINER_LIMITS[@]}" --entrypoint /bin/true \
    "$image" >"$WORK/podman-probe.log" 2>&1; then
    say "this machine cannot run containers: $(tail -n 1 "$WORK/podman-probe.log")"
    exit 3
  fi
}

# container_env: SERVICE_ENV (lib.sh) as podman -e flags, without the host's snapshot path
# (the route and search images carry theirs).
container_env() {
  CONTAINER_ENV=()
  local pair
  for pair in "${SERVICE_ENV[@]:1}"; do
    [[ $pair == NORIKAE_TIMETABLE__SNAPSHOT=* ]] && continue
    CONTAINER_ENV+=(-e "$pair")
  done
}

# run_container NAME IMAGE_SERVICE [-e K=V]...: a detached container of the service's image on
# the drill's network; its address (IP:port) is left in NEW_ADDR. (podman's complaint that it
# cannot schedule the image's HEALTHCHECK without systemd goes to podman.log; the drill runs
# the health check itself: `podman healthcheck run`.)
run_container() {
  local name=$1 service=$2 port id ip
  shift 2
  case $service in route) port=8083 ;; search) port=8082 ;; api) port=8081 ;; app) port=8080 ;; esac
  generation=$((generation + 1))
  id=$("${PODMAN[@]}" run -d --init --name "norikae-drill-$$-$name-$generation" --network "$NETWORK" \
    "${READ_ONLY_ROOT[@]}" "${CONTAINER_LIMITS[@]}" --stop-timeout 30 "${CONTAINER_ENV[@]}" "$@" \
    "localhost/norikae/$service:$DRILL_IMAGE_TAG" 2>>"$WORK/podman.log")
  CONTAINER_OF[$name]=$id
  ip=$("${PODMAN[@]}" inspect "$id" --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}')
  NEW_ADDR="$ip:$port"
}

# check_read_only_root NAME: the container can write /tmp and nothing else.
check_read_only_root() {
  local id=${CONTAINER_OF[$1]}
  check "$1 writes /tmp (tmpfs, as the task volume in ECS)" \
    "${PODMAN[@]}" exec "$id" /bin/bash -c ': >/tmp/drill-probe'
  check "$1 cannot write its root file system (read-only, as ReadonlyRootFilesystem)" \
    bash -c '! "$@" 2>/dev/null' _ "${PODMAN[@]}" exec "$id" /bin/bash -c ': >/srv/norikae/drill-probe'
}

# Keys, as docker-compose's `app-key` one-shot makes them: the api's database is a SQLite file
# in a host folder that every api container mounts (compose: one PostgreSQL; two processes
# share a SQLite file safely, WAL), and `norikae keys create --secret-env` registers a key's
# hash in it from the import image, so the api instances run without open access.
KEYS_DB_DIR=/var/lib/norikae-drill
KEYS_DB_URL="sqlite://$KEYS_DB_DIR/api.db"

# make_key NAME: a new secret like compose's (nk_ + 32 random bytes), registered as key NAME
# with a one-shot container of the import image; the secret is left in NEW_KEY.
make_key() {
  local name=$1
  NEW_KEY="nk_$(head -c 32 /dev/urandom | base64 | tr '/+' '_-' | tr -d '=\n')"
  if [[ ! -d $WORK/db ]]; then
    mkdir -m 700 "$WORK/db"
    chown 10001:10001 "$WORK/db"
  fi
  NORIKAE_DRILL_KEY=$NEW_KEY "${PODMAN[@]}" run --rm --init --network "$NETWORK" "${READ_ONLY_ROOT[@]}" \
    "${CONTAINER_LIMITS[@]}" -v "$WORK/db:$KEYS_DB_DIR" -e NORIKAE_DATABASE__URL="$KEYS_DB_URL" \
    -e NORIKAE_DRILL_KEY -e RUST_LOG=warn "localhost/norikae/import:$DRILL_IMAGE_TAG" \
    keys create --name "$name" --rate 1000/s --secret-env NORIKAE_DRILL_KEY >>"$WORK/keys.log" 2>&1 || {
    say "norikae keys create --name $name failed: $(tail -n 3 "$WORK/keys.log")"
    DRILL_FAILED=1
    exit 1
  }
}

# kill_container NAME SIGNAL: the signal goes to PID 1 (the init), which forwards it.
kill_container() {
  "${PODMAN[@]}" kill --signal "$2" "${CONTAINER_OF[$1]}" >/dev/null 2>&1 || true
}

# finish_container NAME [SECONDS]: waits for the container to exit (SIGKILL after SECONDS),
# keeps its log, removes it; its exit code in EXIT_CODE.
finish_container() {
  local name=$1 limit=${2:-40} id=${CONTAINER_OF[$1]}
  EXIT_CODE=$(timeout "$limit" "${PODMAN[@]}" wait "$id" 2>/dev/null) || {
    "${PODMAN[@]}" kill --signal KILL "$id" >/dev/null 2>&1 || true
    EXIT_CODE=$("${PODMAN[@]}" wait "$id" 2>/dev/null || echo 137)
  }
  "${PODMAN[@]}" logs "$id" >"$WORK/$name.$id.log" 2>&1 || true
  "${PODMAN[@]}" rm -f "$id" >/dev/null 2>&1 || true
  unset "CONTAINER_OF[$name]"
}

# The drill's cleanup (lib.sh) calls after_stop: its containers and network go.
remove_containers() {
  local name
  for name in "${!CONTAINER_OF[@]}"; do
    "${PODMAN[@]}" logs "${CONTAINER_OF[$name]}" >"$WORK/$name.container.log" 2>&1 || true
    "${PODMAN[@]}" rm -f -t 10 "${CONTAINER_OF[$name]}" >/dev/null 2>&1 || true
  done
  "${PODMAN[@]}" network rm -f "$NETWORK" >/dev/null 2>&1 || true
}
