#!/usr/bin/env bash
# Keep-alive race drill: nginx in front of the route service, configured like an ALB (keep-alive
# upstream connections closed after the LB idle timeout, failed requests not retried:
# `proxy_next_upstream off`, deploy/nginx/common.conf). Rounds of concurrent requests arrive
# at gaps near the idle timeouts, so nginx reuses upstream connections that have been idle
# just that long.
#   1. Norikae's rule (service idle 2 s > LB idle 1 s): nginx always closes first: 0 errors.
#   2. The rule broken (service idle 1 s < LB idle 2 s; the service is told the LB idles
#      0 s, which start-up accepts): the service closes connections nginx is about to reuse,
#      and the drill must see the 502s, proving it can fail.
# Usage: loadtests/drills/keepalive-race.sh   (DRILL_SHORT=1 for CI, DRILL_PROFILE=debug)
DRILL_NAME=keepalive-race
source "$(dirname "$0")/lib.sh"

ensure_nginx
ensure_snapshot
ROUTE=$(bin norikae-route norikae-route)
DRILL=$(bin norikae-drill norikae-load)
# The race point is 1 s in both cases (nginx's idle in run 1, the service's in run 2). A gap is
# measured from the last answer of a round, so most connections have been idle a little longer
# than it: the gaps sweep 930-1010 ms, in 1 ms steps over 984-1002 ms where the 502s showed in
# every run so far (940-1000 ms, most at 988-998). The race window itself is microseconds
# wide (between the service's close and nginx reading the FIN), so the rule-broken run keeps
# sampling until it has seen a few 502s (or gives up after its rounds); the rule-kept run
# samples every gap a fixed number of times.
gaps=$(seq -s, 930 6 978),$(seq -s, 984 1 1002),1010
if [[ $DRILL_SHORT == 1 ]]; then rounds=25 broken_rounds=200 enough=3; else rounds=164 broken_rounds=328 enough=10; fi
connections=32

# run_case NAME SERVICE_IDLE TOLD_LB_IDLE NGINX_IDLE ROUNDS [DRILL_ARGS...]
run_case() {
  local name=$1 service_idle=$2 told_lb_idle=$3 nginx_idle=$4 rounds=$5
  shift 5
  local port lb
  port=$(free_port)
  lb=$(free_port)
  start "route-$name" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" \
    NORIKAE_HTTP__IDLE_TIMEOUT_SECS="$service_idle" NORIKAE_HTTP__LB_IDLE_TIMEOUT_SECS="$told_lb_idle" "$ROUTE"
  wait_ready "http://127.0.0.1:$port/health/ready" 120
  nginx_conf "$WORK/nginx.conf" "
    upstream route {
        server 127.0.0.1:$port max_fails=0;
        keepalive 128;
        # The LB idle timeout towards the targets.
        keepalive_timeout ${nginx_idle}s;
    }
    server {
        listen 127.0.0.1:$lb;
        location / {
            proxy_pass http://route;
            include $REPO/deploy/nginx/common.conf;
        }
    }"
  start nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
  wait_ready "http://127.0.0.1:$lb/health/live" 20
  say "$name: service idle ${service_idle}s (told LB idle ${told_lb_idle}s), nginx upstream keepalive_timeout ${nginx_idle}s: up to $rounds rounds x $connections requests $*, gaps ${gaps} ms"
  "$DRILL" keepalive --url "http://127.0.0.1:$lb/stations/fukuoka:8/departures?date=2019-06-05&time=08:00&limit=2" \
    --connections "$connections" --rounds "$rounds" --gaps-ms "$gaps" "$@" >"$WORK/$name.out" ||
    { say "$name: the drill client failed"; DRILL_FAILED=1; }
  accepted=$(metric "http://127.0.0.1:$port/metrics" norikae_http_connections_accepted_total)
  closed_idle=$(metric "http://127.0.0.1:$port/metrics" norikae_http_connections_closed_idle_total)
  stop nginx
  stop "route-$name"
  ran=$(figure "$WORK/$name.out" rounds)
  requests=$(figure "$WORK/$name.out" requests)
  failed=$(figure "$WORK/$name.out" failed)
  failures=$(figure "$WORK/$name.out" failures)
  say "$name: rounds=$ran requests=$requests failed=$failed ($failures); service accepted $accepted connections, closed $closed_idle idle ones"
  grep '^gap_ms' "$WORK/$name.out" | awk '$3 != "failed=0"' | sed "s/^/[$DRILL_NAME]   $name: /"
}

run_case rule-kept 2 1 1 "$rounds"
good_requests=$requests good_failed=$failed good_accepted=$accepted
run_case rule-broken 1 0 2 "$broken_rounds" --until-failures "$enough"
bad_failed=$failed bad_failures=$failures

check "rule kept: $good_failed of $good_requests requests failed (expected 0)" test "$good_failed" -eq 0
check "rule kept: upstream connections were reused ($good_accepted accepted for $good_requests requests)" \
  test "$good_accepted" -lt "$good_requests"
check "rule broken: the drill sees the race ($bad_failed failed: $bad_failures; expected > 0)" test "$bad_failed" -gt 0
check "rule broken: the failures are 502s from the proxy ($bad_failures)" \
  bash -c "[[ '$bad_failures' =~ ^status_502=[0-9]+$ ]]"
verdict "keepalive-race: rule kept $good_failed/$good_requests failed; rule broken $bad_failed failed ($bad_failures)"
