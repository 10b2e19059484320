#!/usr/bin/env bash
# Engine crash drill: the api reaches two route instances through nginx (configured like the
# internal ALB: deploy/nginx/common.conf, no retries; a target that fails once is taken out
# for 30 s, as a failing ALB health check would). Under load, one route instance is killed
# with SIGKILL: no drain, its connections reset. Expected:
#   - no request fails: nginx answers 502 for the requests in flight on the killed instance
#     and for those it sends there before it marks the instance down, and the api sends
#     such a balancer-made 502 once more (a GET), which nginx gives to the other instance;
#   - nothing fails either while the killed instance is still down, nor after a
#     replacement is registered (as ECS would).
# Usage: loadtests/drills/engine-crash.sh   (DRILL_SHORT=1 for CI, DRILL_PROFILE=debug)
DRILL_NAME=engine-crash
source "$(dirname "$0")/lib.sh"

ensure_nginx
ensure_snapshot
ROUTE=$(bin norikae-route norikae-route)
SEARCH=$(bin norikae-search norikae-search)
API=$(bin norikae-api norikae-api)
DRILL=$(bin norikae-drill norikae-load)
if [[ $DRILL_SHORT == 1 ]]; then rate=60; else rate=${DRILL_RATE:-200}; fi
NGINX_WORKERS=1

LB_ROUTE=$(free_port)
SEARCH_PORT=$(free_port)
API_PORT=$(free_port)
declare -A PORT=()

write_lb_conf() {
  local servers="" name
  for name in route1 route2; do
    [[ -n ${PORT[$name]:-} ]] && servers+="        server 127.0.0.1:${PORT[$name]} max_fails=1 fail_timeout=30s;"$'\n'
  done
  nginx_conf "$WORK/nginx.conf" "
    upstream route {
$servers        keepalive 64;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$LB_ROUTE;
        location / { proxy_pass http://route; include $REPO/deploy/nginx/common.conf; }
    }"
  sed -i "s/^worker_processes 1;/worker_processes $NGINX_WORKERS;/" "$WORK/nginx.conf"
}

launch_route() {
  local port
  port=$(free_port)
  start "$1" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" "$ROUTE"
  wait_ready "http://127.0.0.1:$port/health/ready" 120
  PORT[$1]=$port
}

start search "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$SEARCH_PORT" "$SEARCH"
launch_route route1
launch_route route2
write_lb_conf
start nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
wait_ready "http://127.0.0.1:$LB_ROUTE/health/ready" 20
wait_ready "http://127.0.0.1:$SEARCH_PORT/health/ready" 120
start api "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$API_PORT" NORIKAE_AUTH__OPEN_ACCESS=true \
  "${LOAD_FROM_ONE_CLIENT[@]}" \
  NORIKAE_DATABASE__URL="sqlite://$WORK/api.db" \
  NORIKAE_UPSTREAM__SEARCH_URL="http://127.0.0.1:$SEARCH_PORT" \
  NORIKAE_UPSTREAM__ROUTE_URL="http://127.0.0.1:$LB_ROUTE" "$API"
wait_ready "http://127.0.0.1:$API_PORT/health/ready" 60

say "load: $rate journeys and departure boards per second through the api"
start load "$DRILL" load --base "http://127.0.0.1:$API_PORT/v1" --kinds journeys,departures \
  --rate "$rate" --duration 300 --stop-file "$WORK/stop" --failures "$WORK/requests.log" --log-all
sleep 3
served_before=$(served "http://127.0.0.1:${PORT[route1]}/metrics")
kill_ms=$(unix_ms)
signal route1 KILL
finish route1 5
say "route1 (port ${PORT[route1]}, had served $served_before requests) killed with SIGKILL at $kill_ms"
sleep 4
# ECS notices the stopped task, deregisters it and starts a replacement.
PORT[route1]=""
write_lb_conf
reload_nginx
launch_route route1
write_lb_conf
reload_nginx
replaced_ms=$(unix_ms)
say "route1 replaced (port ${PORT[route1]}) and registered at $replaced_ms"
sleep 3
touch "$WORK/stop"
finish load 30
cp "$WORK/load.log" "$WORK/load.out"
requests=$(figure "$WORK/load.out" requests)
failed=$(figure "$WORK/load.out" failed)
failures=$(figure "$WORK/load.out" failures)

# requests.log lines: start_ms end_ms kind url.
read -r in_flight failed_in_flight failed_detect failed_late < <(awk -v kill="$kill_ms" '
  { started = $1 + 0; ended = $2 + 0; ok = ($3 == "ok") }
  started <= kill && ended >= kill { in_flight++; if (!ok) failed_in_flight++ }
  !ok && started > kill && started <= kill + 1000 { detect++ }
  !ok && started > kill + 1000 { late++ }
  END { printf "%d %d %d %d\n", in_flight, failed_in_flight, detect, late }' "$WORK/requests.log")
say "load: requests=$requests failed=$failed ($failures)"
say "at the kill: $in_flight requests in flight (on both instances), $failed_in_flight of them failed; $failed_detect failed within 1 s after it, $failed_late later"
awk '$3 != "ok"' "$WORK/requests.log" | head -n 10 | sed "s/^/[$DRILL_NAME]   failure: /"

check "route1 had served requests before the kill ($served_before)" test "$served_before" -gt 0
check "no request failed: the api retried the balancer's 502s ($failed = $failed_in_flight in flight at the kill + $failed_detect within 1 s + $failed_late later)" \
  test "$failed" -eq 0
check "load ran ($requests requests)" test "${requests:-0}" -gt 0
verdict "engine-crash: $requests requests ($in_flight in flight at the kill), $failed failed"
