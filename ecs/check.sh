#!/usr/bin/env bash
# CI checks of the deployment files, for .ci/run (and anyone, before a deploy):
#   1. cfn-lint on every CloudFormation template, with the project's rules (ecs/cfn_rules)
#   2. the timing rules (ecs/timing-rules.yaml) against the services' defaults, compose,
#      the nginx balancer stand-ins and the templates (ecs/timing_check.py)
#   3. docker-compose.yml against the Compose specification schema (no Docker engine needed)
#   4. the nginx stand-ins' syntax (crossplane) and the Dockerfile's targets
#   5. the checker's and the cfn-lint rules' own tests (inverted timeouts must fail)
# Installs what it needs on a fresh Debian machine: python3 + venv from apt when missing,
# the Python tools (ecs/requirements.txt, also moto's server for norikae-ops' tests) into
# a venv at $NORIKAE_CI_VENV (default ~/.cache/norikae/ci-venv).
# Prints PASS/FAIL per check and exits non-zero when any failed.
set -uo pipefail

cd "$(dirname "$0")/.."
VENV="${NORIKAE_CI_VENV:-${HOME:-/root}/.cache/norikae/ci-venv}"

log() { printf '\n== %s\n' "$*"; }

install_tools() {
    if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
        log "installing python3 and python3-venv (apt)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip >/dev/null || return 1
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating venv $VENV"
        python3 -m venv "$VENV" || return 1
    fi
    if ! cmp -s ecs/requirements.txt "$VENV/.requirements.txt"; then
        log "installing ecs/requirements.txt into $VENV"
        "$VENV/bin/pip" install --quiet --disable-pip-version-check -r ecs/requirements.txt || return 1
        cp ecs/requirements.txt "$VENV/.requirements.txt"
    fi
}

if ! install_tools; then
    echo "FAIL  installing the check tools"
    exit 1
fi
export PATH="$VENV/bin:$PATH"

passed=0
failed=0
results=()
check() {
    local name="$1"
    shift
    log "$name"
    local started=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        results+=("PASS  $name ($((SECONDS - started)) s)")
    else
        failed=$((failed + 1))
        results+=("FAIL  $name ($((SECONDS - started)) s)")
    fi
}

templates=(ecs/*.yaml)
templates=("${templates[@]/ecs\/timing-rules.yaml/}")
cfn_templates=()
for t in "${templates[@]}"; do [ -n "$t" ] && cfn_templates+=("$t"); done

check "cfn-lint (${cfn_templates[*]})" \
    cfn-lint --append-rules ecs/cfn_rules -- "${cfn_templates[@]}"
check "timing rules" python ecs/timing_check.py
check "docker-compose.yml against the compose-spec schema" \
    check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
check "nginx stand-ins parse" python - <<'PY'
import sys
import crossplane
ok = True
for path, single in (("deploy/nginx/public.conf", True), ("deploy/nginx/internal.conf", True), ("deploy/nginx/common.conf", False)):
    result = crossplane.parse(path, single=single, check_ctx=single)
    for error in result["errors"]:
        ok = False
        print(f"{error['file']}:{error.get('line')}: {error['error']}")
    print(f"{path}: {result['status']}")
sys.exit(0 if ok else 1)
PY
check "Dockerfile has a target per service, non-root, HEALTHCHECK; one init (the orchestrator's)" python - <<'PY'
import re, sys
text = open("Dockerfile", encoding="utf-8").read()
targets = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", text, re.M | re.I))
problems = [f"missing target {t}" for t in ("app", "api", "search", "route", "import", "ops") if t not in targets]
for needle, what in (("USER 10001", "non-root USER"), ("HEALTHCHECK --", "HEALTHCHECK"), ("cargo chef cook", "cached dependency layer")):
    if needle not in text:
        problems.append(f"no {what}")
# One init: ECS initProcessEnabled and compose `init: true`, none in the image.
if re.search(r"^[^#\n]*\btini\b", text, re.M):
    problems.append("tini in the image: the orchestrator already runs an init")
for path, needle in (("ecs/service.yaml", "InitProcessEnabled: true"), ("ecs/cluster.yaml", "InitProcessEnabled: true"), ("docker-compose.yml", "init: true")):
    if needle not in open(path, encoding="utf-8").read():
        problems.append(f"{path}: no {needle}")
print("\n".join(problems) or f"targets: {sorted(targets)}")
sys.exit(1 if problems else 0)
PY
check "checker and cfn-lint rule tests" python -m unittest discover -s ecs/tests

log "summary"
printf '%s\n' "${results[@]}"
echo "ecs/check.sh: $passed passed, $failed failed"
echo "(moto_server for norikae-ops' tests: $VENV/bin/moto_server)"
[ "$failed" -eq 0 ]
