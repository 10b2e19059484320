# Shared by the drills (sourced, not run): binaries, free ports, the processes a drill starts
# (only those are ever stopped), nginx, the bundled snapshot, PASS/FAIL.
#
# Environment:
#   DRILL_PROFILE   release (default) or debug: which target/<profile>/norikae-* binaries
#   DRILL_SHORT     1: the short version CI runs (fewer rounds, shorter load)
#   CARGO_TARGET_DIR / NORIKAE_BIN_DIR   where the binaries are (default <repo>/target/<profile>)
#   DRILL_KEEP      1: keep the work folder (logs, nginx configs) even when the drill passes
set -euo pipefail

DRILLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$DRILLS_DIR/../.." && pwd)
DRILL_PROFILE=${DRILL_PROFILE:-release}
DRILL_SHORT=${DRILL_SHORT:-0}
BIN_DIR=${NORIKAE_BIN_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/$DRILL_PROFILE}
DRILL_NAME=${DRILL_NAME:-drill}
WORK=$(mktemp -d "/tmp/norikae-$DRILL_NAME.XXXXXX")
# nginx workers run as an unprivileged user and must reach the logs and configs.
chmod 755 "$WORK"
declare -A PID_OF=()
DRILL_FAILED=0

say() { printf '[%s %s] %s\n' "$DRILL_NAME" "$(date -u +%T)" "$*"; }

# bin NAME PACKAGE: the path of a built binary, or a hint how to build it.
bin() {
  local path="$BIN_DIR/$1"
  if [[ ! -x $path ]]; then
    local flag=""
    [[ $DRILL_PROFILE == release ]] && flag="--release "
    echo "missing $path: build it with cargo build ${flag}-p $2 (or set DRILL_PROFILE/NORIKAE_BIN_DIR)" >&2
    exit 2
  fi
  printf '%s\n' "$path"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

unix_ms() { date +%s%3N; }

# start NAME COMMAND...: runs COMMAND in the background, output in $WORK/NAME.log.
start() {
  local name=$1
  shift
  # A replaced instance keeps its predecessor's log beside its own.
  [[ -e $WORK/$name.log ]] && mv "$WORK/$name.log" "$WORK/$name.$(date +%s%N).log"
  "$@" >"$WORK/$name.log" 2>&1 &
  PID_OF[$name]=$!
}

# signal NAME SIGNAL: sends SIGNAL to a process this drill started.
signal() {
  kill "-$2" "${PID_OF[$1]}" 2>/dev/null || true
}

# finish NAME [SECONDS]: waits for a process this drill started to exit (SIGKILL after
# SECONDS, default 40), and forgets it. Its exit code is left in EXIT_CODE (not printed:
# a command substitution would run in a subshell, which cannot wait for it).
finish() {
  local name=$1 limit=${2:-40} pid=${PID_OF[$1]}
  EXIT_CODE=0
  for _ in $(seq 1 $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || EXIT_CODE=$?
  unset "PID_OF[$name]"
}

# stop NAME: SIGTERM, then waits for the exit.
stop() {
  signal "$1" TERM
  finish "$1"
}

# A drill may define before_stop (e.g. restart what it stopped) and after_stop (e.g. drop
# what it created); cleanup runs them around stopping the drill's processes.
cleanup() {
  local name
  if declare -F before_stop >/dev/null; then before_stop || true; fi
  for name in "${!PID_OF[@]}"; do
    kill -TERM "${PID_OF[$name]}" 2>/dev/null || true
  done
  for name in "${!PID_OF[@]}"; do
    finish "$name" 10
  done
  if declare -F after_stop >/dev/null; then after_stop || true; fi
  if [[ $DRILL_FAILED == 0 && ${DRILL_KEEP:-0} != 1 ]]; then
    rm -rf "$WORK"
  else
    echo "logs and configs kept in $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_ready URL [SECONDS]: waits for a 2xx from URL.
wait_ready() {
  local url=$1 limit=${2:-60}
  for _ in $(seq 1 $((limit * 10))); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  say "not ready after ${limit}s: $url"
  DRILL_FAILED=1
  exit 1
}

# ensure_nginx: Debian's nginx, installed when missing.
ensure_nginx() {
  command -v nginx >/dev/null && return 0
  say "installing nginx (Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >"$WORK/apt.log" 2>&1 || {
    apt-get update -qq >>"$WORK/apt.log" 2>&1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >>"$WORK/apt.log" 2>&1
  }
}

# nginx_conf FILE HTTP_BODY: an nginx configuration (pid, logs and temp files in $WORK) with
# HTTP_BODY inside its http block. Locations include deploy/nginx/common.conf, the same
# ALB-like proxy settings docker-compose uses (keep-alive upstream, proxy_next_upstream off).
nginx_conf() {
  cat >"$1" <<EOF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    log_format alb '\$msec "\$request" \$status upstream=\$upstream_addr upstream_status=\$upstream_status time=\$request_time';
    access_log $WORK/nginx-access.log alb;
    client_body_temp_path $WORK/client_body;
    proxy_temp_path $WORK/proxy;
    # Clients (the drill's load) keep their connections longer than any gap used here.
    keepalive_timeout 300s;
    keepalive_requests 1000000;
$2
}
EOF
}

start_nginx() {
  start nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
}

# reload_nginx: applies $WORK/nginx.conf and waits (up to 10 s) for the workers of the old
# configuration to exit. `nginx -s reload` returns at once, and until an old worker closes its
# listening socket it may still take a new connection with the old upstreams (a request sent
# right after registering the first instances then finds no live upstream); an ALB's
# registration and deregistration are done once they are reported done.
reload_nginx() {
  local master old pid alive
  master=$(cat "$WORK/nginx.pid")
  old=$(pgrep -P "$master" || true)
  nginx -p "$WORK" -c "$WORK/nginx.conf" -s reload
  for _ in $(seq 1 100); do
    alive=""
    for pid in $old; do
      if kill -0 "$pid" 2>/dev/null; then alive=$pid; fi
    done
    [[ -z $alive ]] && return 0
    sleep 0.1
  done
  say "nginx workers of the old configuration still running after 10 s: $alive"
}

# ensure_snapshot: the bundled feeds' snapshot in $SNAPSHOT (made once, reused).
ensure_snapshot() {
  SNAPSHOT=${NORIKAE_DRILL_SNAPSHOT:-/tmp/norikae-drills-timetable.snapshot}
  "$(bin norikae-drill norikae-load)" snapshot --out "$SNAPSHOT" >/dev/null
  service_env
}

# SERVICE_ENV: the `env …` prefix every service of a drill starts with: the snapshot, a short
# drain so the drills stay short (the order of events is what is tested, not their length),
# quiet JSON logs.
service_env() {
  # The drills' load comes from one address (127.0.0.1 through nginx): the api's per-client
  # limit for anonymous requests (20/s by default) would refuse it as one abusive client.
  LOAD_FROM_ONE_CLIENT=(NORIKAE_AUTH__ANONYMOUS_LIMIT__REQUESTS=100000
    NORIKAE_AUTH__ANONYMOUS_LIMIT__BURST=100000)
  SERVICE_ENV=(env RUST_LOG=warn NORIKAE_LOG__FORMAT=json
    NORIKAE_TIMETABLE__SNAPSHOT="$SNAPSHOT"
    NORIKAE_HTTP__DRAIN_DELAY_SECS="${DRAIN_DELAY_SECS:-2}"
    NORIKAE_HTTP__SHUTDOWN_TIMEOUT_SECS=10 NORIKAE_HTTP__STOP_TIMEOUT_SECS=20)
}

# metric URL NAME: the sum of a metric's samples in an OpenMetrics page.
metric() {
  curl -fsS --max-time 5 "$1" | awk -v name="$2" '$1 == name || index($1, name "{") == 1 { sum += $NF } END { printf "%d\n", sum }'
}

# figure FILE KEY: a `key=value` figure printed by norikae-drill.
figure() {
  { grep -oE "(^| )$2=[^ ]*" "$1" || true; } | head -n1 | cut -d= -f2-
}

# check DESCRIPTION CONDITION...: records a failed expectation.
check() {
  local description=$1
  shift
  if "$@"; then
    say "ok: $description"
  else
    say "FAILED: $description"
    DRILL_FAILED=1
  fi
}

# verdict: prints PASS or FAIL and exits accordingly.
verdict() {
  if [[ $DRILL_FAILED == 0 ]]; then
    say "PASS $*"
    exit 0
  fi
  say "FAIL $*"
  exit 1
}

# served URL: requests a service answered, health checks and metrics scrapes left out.
served() {
  curl -fsS --max-time 5 "$1" |
    awk 'index($1, "norikae_http_requests_total{") == 1 && $1 !~ /\/health|\/metrics/ { sum += $NF } END { printf "%d\n", sum }'
}
