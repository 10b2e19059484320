#!/usr/bin/env bash
# Fuzzes the public `/v1` API from its own OpenAPI document with Schemathesis (stateless):
# `norikae serve` on the bundled feeds and a throw-away SQLite database, open access, on free
# ports; then Schemathesis against http://127.0.0.1:<api port>/v1/openapi.json with
#   not_a_server_error            no 5xx
#   status_code_conformance       no status code the document does not list
#   response_schema_conformance   every documented body matches its schema
#   content_type_conformance      the content type the document lists
# in all modes (valid and invalid input), a few hundred examples per operation, within a
# wall-clock limit. An admin key is passed so the admin operations are exercised past 401.
# Stops the stack and exits non-zero when a check failed (the report is kept and its path
# printed).
#
# Environment:
#   FUZZ_PROFILE      debug (default) or release: which $CARGO_TARGET_DIR/<profile>/norikae
#   FUZZ_EXAMPLES     examples per operation (default 300)
#   FUZZ_MAX_TIME     wall-clock limit of the Schemathesis run in seconds (default 150)
#   FUZZ_SEED         Schemathesis seed (default: random; printed, to reproduce a failure)
#   NORIKAE_FUZZ_VENV the Python venv (default ~/.cache/norikae/fuzz-venv, beside the one of
#                     ecs/check.sh, which pins other versions), from loadtests/fuzz/requirements.txt
# Usage: loadtests/fuzz/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
PROFILE=${FUZZ_PROFILE:-debug}
EXAMPLES=${FUZZ_EXAMPLES:-300}
MAX_TIME=${FUZZ_MAX_TIME:-150}
SEED=${FUZZ_SEED:-$RANDOM$RANDOM}
VENV="${NORIKAE_FUZZ_VENV:-${HOME:-/root}/.cache/norikae/fuzz-venv}"
REQUIREMENTS=loadtests/fuzz/requirements.txt
NORIKAE="${NORIKAE_BIN_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/$PROFILE}/norikae"
WORK=$(mktemp -d /tmp/norikae-fuzz.XXXXXX)

say() { printf '[fuzz %s] %s\n' "$(date -u +%T)" "$*"; }

if [[ ! -x $NORIKAE ]]; then
  flag=""
  [[ $PROFILE == release ]] && flag="--release "
  say "building $NORIKAE"
  cargo build ${flag}-q -p norikae-cli --bin norikae
fi

if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  say "installing python3 and python3-venv (apt)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
# Python 3.12 or newer when the machine has one: under CPython 3.11.7 Hypothesis (inside
# Schemathesis) crashes with "SystemError: AST constructor recursion depth mismatch" on some
# operations of this document; 3.12 runs them. A venv made by an older Python is remade.
fuzz_python=python3
for candidate in python3.13 python3.12 \
  "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/python3 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.12*/bin/python3; do
  if [[ -x $candidate ]] || command -v "$candidate" >/dev/null 2>&1; then
    if "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      fuzz_python=$candidate
      break
    fi
  fi
done
fuzz_python_version=$("$fuzz_python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [[ -x $VENV/bin/python ]] \
  && [[ $("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') != "$fuzz_python_version" ]]; then
  say "remaking $VENV with Python $fuzz_python_version"
  rm -rf "$VENV"
fi
[[ -x $VENV/bin/python ]] || "$fuzz_python" -m venv "$VENV"
say "Python $fuzz_python_version ($fuzz_python)"
if ! cmp -s "$REQUIREMENTS" "$VENV/.requirements.txt"; then
  say "installing $REQUIREMENTS into $VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  cp "$REQUIREMENTS" "$VENV/.requirements.txt"
fi
SCHEMATHESIS_VERSION=$("$VENV/bin/schemathesis" --version | awk '{ print $NF }')

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_pid=""
failed=1
cleanup() {
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 200); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ $failed == 0 ]]; then
    rm -rf "$WORK"
  else
    echo "logs and the Schemathesis report kept in $WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

API_PORT=$(free_port)
DB_URL="sqlite://$WORK/norikae.db"
# The bundled feeds' snapshot at the default path (imported by `norikae serve` when missing
# or older than the feeds), a database of this run only, short drain: nothing is in flight
# at the end.
export NORIKAE_DATABASE__URL="$DB_URL" RUST_LOG=warn NORIKAE_LOG__FORMAT=json
admin_key=$("$NORIKAE" keys create --name fuzz-admin --admin --rate 100000/s | tail -n1)
say "norikae serve: api on 127.0.0.1:$API_PORT, database $DB_URL"
env NORIKAE_APP__HTTP__PORT="$(free_port)" NORIKAE_API__HTTP__PORT="$API_PORT" \
  NORIKAE_SEARCH__HTTP__PORT="$(free_port)" NORIKAE_ROUTE__HTTP__PORT="$(free_port)" \
  NORIKAE_AUTH__OPEN_ACCESS=true NORIKAE_HTTP__DRAIN_DELAY_SECS=0 \
  "$NORIKAE" serve >"$WORK/serve.log" 2>&1 &
server_pid=$!
ready=0
for _ in $(seq 1 1200); do
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$API_PORT/v1/status" 2>/dev/null; then
    ready=1
    break
  fi
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ $ready != 1 ]]; then
  say "the stack did not become ready; its log:"
  tail -n 40 "$WORK/serve.log"
  exit 1
fi

say "schemathesis $SCHEMATHESIS_VERSION: $EXAMPLES examples per operation, at most ${MAX_TIME}s, seed $SEED"
started=$SECONDS
status=0
# From the work folder: Schemathesis keeps its own files (.schemathesis/) in the current one.
(cd "$WORK" && "$VENV/bin/schemathesis" run "http://127.0.0.1:$API_PORT/v1/openapi.json" \
  --url "http://127.0.0.1:$API_PORT" \
  --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance \
  --mode all \
  --max-examples "$EXAMPLES" \
  --max-time "$MAX_TIME" \
  --seed "$SEED" \
  --workers 2 \
  --request-timeout 15 \
  --generation-database none \
  --header "X-Api-Key: $admin_key" \
  --no-color \
  --report junit --report-dir "$WORK/report") || status=$?
say "schemathesis finished in $((SECONDS - started))s with exit code $status"

if ! kill -0 "$server_pid" 2>/dev/null; then
  say "norikae serve died during the run; its log:"
  tail -n 40 "$WORK/serve.log"
  status=1
fi
if grep -q '"level":"ERROR"' "$WORK/serve.log"; then
  say "errors logged by the stack:"
  grep '"level":"ERROR"' "$WORK/serve.log" | head -n 20
fi
[[ $status == 0 ]] && failed=0
exit "$status"
