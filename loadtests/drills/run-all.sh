#!/usr/bin/env bash
# Runs every drill in turn and prints one line per drill, then `drills: N passed, N failed`;
# exits non-zero when one failed. CI runs `DRILL_SHORT=1 DRILL_PROFILE=debug run-all.sh`
# after `cargo test --workspace`, whose debug binaries it reuses (the few not built by the
# tests, e.g. `norikae`, are built here: only their own crate compiles).
# Usage: loadtests/drills/run-all.sh [DRILL...]
set -uo pipefail
cd "$(dirname "$0")"
REPO=$(cd ../.. && pwd)
profile=${DRILL_PROFILE:-release}
bin_dir=${NORIKAE_BIN_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/$profile}
drills=("$@")
[[ ${#drills[@]} -gt 0 ]] || drills=(keepalive-race rolling-restart engine-crash db-restart)

# What each drill runs: binary:package.
declare -A needs=(
  [keepalive-race]="norikae-drill:norikae-load norikae-route:norikae-route"
  [rolling-restart]="norikae-drill:norikae-load norikae-route:norikae-route norikae-search:norikae-search norikae-api:norikae-api"
  [engine-crash]="norikae-drill:norikae-load norikae-route:norikae-route norikae-search:norikae-search norikae-api:norikae-api"
  [db-restart]="norikae-drill:norikae-load norikae-route:norikae-route norikae-search:norikae-search norikae-api:norikae-api norikae:norikae-cli"
)
if [[ ${DRILL_BUILD:-1} == 1 ]]; then
  release_flag=()
  [[ $profile == release ]] && release_flag=(--release)
  for drill in "${drills[@]}"; do
    for pair in ${needs[$drill]:-}; do
      name=${pair%%:*} package=${pair#*:}
      if [[ ! -x $bin_dir/$name ]]; then
        echo "building $name ($package, $profile)"
        (cd "$REPO" && cargo build "${release_flag[@]}" -q -p "$package" --bin "$name") || exit 1
      fi
    done
  done
fi

passed=0 failed=0 summary=()
for drill in "${drills[@]}"; do
  started=$(date +%s)
  echo "== drill $drill"
  if bash "./$drill.sh"; then
    passed=$((passed + 1)) outcome=PASS
  else
    failed=$((failed + 1)) outcome=FAIL
  fi
  summary+=("$drill: $outcome ($(($(date +%s) - started)) s)")
done
echo
printf '%s\n' "${summary[@]}"
echo "drills: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
