#!/usr/bin/env bash
# Rolling restart drill: two api and two route instances behind nginx (configured like ALBs:
# deploy/nginx/common.conf; the api reaches route through nginx too, as through the internal
# ALB), one search instance. Under steady load through the api balancer, each instance in turn
# is deregistered (taken out of its nginx upstream, `nginx -s reload`, like ECS
# deregistration), sent SIGTERM (it drains: not ready, serves for the drain delay, finishes
# what is in flight, exits 0), and replaced by a fresh instance, registered once its
# /health/ready is 200. Expected: 0 failed requests, every old instance exited 0.
# Usage: loadtests/drills/rolling-restart.sh   (DRILL_SHORT=1 for CI, DRILL_PROFILE=debug)
DRILL_NAME=rolling-restart
source "$(dirname "$0")/lib.sh"

ensure_nginx
ensure_snapshot
ROUTE=$(bin norikae-route norikae-route)
SEARCH=$(bin norikae-search norikae-search)
API=$(bin norikae-api norikae-api)
DRILL=$(bin norikae-drill norikae-load)
if [[ $DRILL_SHORT == 1 ]]; then rounds=1 rate=40; else rounds=3 rate=${DRILL_RATE:-150}; fi

LB_API=$(free_port)
LB_ROUTE=$(free_port)
SEARCH_PORT=$(free_port)
declare -A PORT=()
generation=0

write_lb_conf() {
  local api_servers="" route_servers="" name
  for name in api1 api2; do
    [[ -n ${PORT[$name]:-} ]] && api_servers+="        server 127.0.0.1:${PORT[$name]} max_fails=0;"$'\n'
  done
  for name in route1 route2; do
    [[ -n ${PORT[$name]:-} ]] && route_servers+="        server 127.0.0.1:${PORT[$name]} max_fails=0;"$'\n'
  done
  # nginx refuses an empty upstream: before the api instances start, a placeholder marked down.
  [[ -n $api_servers ]] || api_servers="        server 127.0.0.1:1 down;"$'\n'
  [[ -n $route_servers ]] || route_servers="        server 127.0.0.1:1 down;"$'\n'
  nginx_conf "$WORK/nginx.conf" "
    upstream api {
$api_servers        keepalive 64;
        keepalive_timeout 60s;
    }
    upstream route {
$route_servers        keepalive 64;
        keepalive_timeout 60s;
    }
    server {
        listen 127.0.0.1:$LB_API;
        location / { proxy_pass http://api; include $REPO/deploy/nginx/common.conf; }
    }
    server {
        listen 127.0.0.1:$LB_ROUTE;
        location / { proxy_pass http://route; include $REPO/deploy/nginx/common.conf; }
    }"
}

# launch NAME: a fresh instance of NAME's kind on a new port (not yet registered).
launch() {
  local name=$1 port
  port=$(free_port)
  generation=$((generation + 1))
  case $name in
    route*) start "$name" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" "$ROUTE" ;;
    api*)
      start "$name" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" NORIKAE_AUTH__OPEN_ACCESS=true \
        "${LOAD_FROM_ONE_CLIENT[@]}" \
        NORIKAE_DATABASE__URL="sqlite://$WORK/$name-$generation.db" \
        NORIKAE_UPSTREAM__SEARCH_URL="http://127.0.0.1:$SEARCH_PORT" \
        NORIKAE_UPSTREAM__ROUTE_URL="http://127.0.0.1:$LB_ROUTE" "$API"
      ;;
  esac
  NEW_PORT=$port
}

start search "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$SEARCH_PORT" "$SEARCH"
for name in route1 route2; do
  launch "$name"
  wait_ready "http://127.0.0.1:$NEW_PORT/health/ready" 120
  PORT[$name]=$NEW_PORT
done
write_lb_conf
start nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
wait_ready "http://127.0.0.1:$LB_ROUTE/health/ready" 20
wait_ready "http://127.0.0.1:$SEARCH_PORT/health/ready" 120
for name in api1 api2; do
  launch "$name"
  wait_ready "http://127.0.0.1:$NEW_PORT/health/ready" 120
  PORT[$name]=$NEW_PORT
done
write_lb_conf
reload_nginx
wait_ready "http://127.0.0.1:$LB_API/health/ready" 20

say "load: $rate requests/s (journeys, station search, departures) through the api balancer; $rounds round(s) of 4 replacements"
# A new client connection per request: `nginx -s reload` (this drill's deregistration) closes
# idle client connections, a race an ALB does not have; the hops under test are nginx's to
# the services, which keep their keep-alive connections.
start load "$DRILL" load --base "http://127.0.0.1:$LB_API/v1" --no-keepalive --rate "$rate" --duration 600 \
  --stop-file "$WORK/stop" --failures "$WORK/failures.log"
sleep 2

replaced=0
for round in $(seq 1 "$rounds"); do
  for name in route1 api1 route2 api2; do
    old_port=${PORT[$name]}
    before=$(served "http://127.0.0.1:$old_port/metrics")
    # Deregister: nginx stops sending new requests to it.
    PORT[$name]=""
    write_lb_conf
    reload_nginx
    # ECS sends SIGTERM once deregistration has begun; the service drains by itself.
    signal "$name" TERM
    old_pid=${PID_OF[$name]}
    PID_OF[$name-old]=$old_pid
    launch "$name"
    finish "$name-old" 30
    code=$EXIT_CODE
    wait_ready "http://127.0.0.1:$NEW_PORT/health/ready" 120
    PORT[$name]=$NEW_PORT
    write_lb_conf
    reload_nginx
    replaced=$((replaced + 1))
    say "round $round: $name replaced (port $old_port -> $NEW_PORT); the old one had served $before requests and exited $code"
    check "$name (round $round) served requests before its restart ($before)" test "$before" -gt 0
    check "$name (round $round) exited 0 after SIGTERM (got $code)" test "$code" -eq 0
    sleep 1
  done
done
sleep 2
touch "$WORK/stop"
finish load 30
cat "$WORK/load.log" >"$WORK/load.out"
requests=$(figure "$WORK/load.out" requests)
failed=$(figure "$WORK/load.out" failed)
failures=$(figure "$WORK/load.out" failures)
p99=$(figure "$WORK/load.out" p99_ms)
say "load: requests=$requests failed=$failed ($failures) p99=${p99}ms"
if [[ -s $WORK/failures.log ]]; then
  head -n 10 "$WORK/failures.log" | sed "s/^/[$DRILL_NAME]   failure: /"
fi
check "$replaced instances replaced under load" test "$replaced" -eq $((rounds * 4))
check "load ran ($requests requests)" test "${requests:-0}" -gt 0
check "0 failed requests during the rolling restart (got $failed: $failures)" test "${failed:-1}" -eq 0
verdict "rolling-restart: $replaced replacements, $requests requests, $failed failed, p99 ${p99} ms"
