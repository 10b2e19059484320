#!/usr/bin/env bash
# Rolling restart drill: two api and two route instances behind nginx (configured like ALBs:
# deploy/nginx/common.conf; the api reaches route through nginx too, as through the internal
# ALB), one search instance. Under steady load through the api balancer, each instance in turn
# is deregistered (taken out of its nginx upstream, `nginx -s reload`, like ECS
# deregistration), sent SIGTERM (it drains: not ready, serves for the drain delay, finishes
# what is in flight, exits 0), and replaced by a fresh instance, registered once its
# /health/ready is 200. Expected: 0 failed requests, every old instance exited 0.
# Usage: loadtests/drills/rolling-restart.sh   (DRILL_SHORT=1 for CI, DRILL_PROFILE=debug)
#
# DRILL_CONTAINERS=1: the same drill against the container images (deploy/images/build.sh):
# search, route, api and app run as podman containers (loadtests/drills/containers.sh) with
# read-only roots, an instance's replacement is a new container, SIGTERM goes through the
# container's init, and nginx on the host balances to the containers' addresses, as in the
# host-process version. As in docker-compose, the api runs without open access: keys made by
# `norikae keys create` (the import image) for the load and for the app, which calls the api
# through its balancer with its key (NORIKAE_UPSTREAM__API_KEY); a probe asks the app for
# station suggestions every half second through the replacements and expects every one.
DRILL_NAME=rolling-restart
DRILL_CONTAINERS=${DRILL_CONTAINERS:-0}
[[ $DRILL_CONTAINERS == 1 ]] && DRILL_NAME=rolling-restart-containers
source "$(dirname "$0")/lib.sh"

ensure_nginx
DRILL=$(bin norikae-drill norikae-load)
if [[ $DRILL_CONTAINERS == 1 ]]; then
  source "$DRILLS_DIR/containers.sh"
  after_stop() { remove_containers; }
  ensure_podman
  # The images carry their snapshot: container_env leaves this path out.
  SNAPSHOT=/srv/norikae/data/snapshot/timetable.snapshot
  service_env
  container_env
  # nginx listens where the containers reach the host: their network's gateway.
  LB_HOST=$GATEWAY
  make_key drill-load
  LOAD_KEY=$NEW_KEY
  make_key app
  APP_KEY=$NEW_KEY
else
  ensure_snapshot
  ROUTE=$(bin norikae-route norikae-route)
  SEARCH=$(bin norikae-search norikae-search)
  API=$(bin norikae-api norikae-api)
  LB_HOST=127.0.0.1
fi
if [[ $DRILL_SHORT == 1 ]]; then rounds=1 rate=${DRILL_RATE:-40}; else rounds=3 rate=${DRILL_RATE:-150}; fi

LB_API=$(free_port)
LB_ROUTE=$(free_port)
# Each instance's address (host:port), empty while it is deregistered.
declare -A ADDR=()
generation=0

write_lb_conf() {
  local api_servers="" route_servers="" name
  for name in api1 api2; do
    [[ -n ${ADDR[$name]:-} ]] && api_servers+="        server ${ADDR[$name]} max_fails=0;"$'\n'
  done
  for name in route1 route2; do
    [[ -n ${ADDR[$name]:-} ]] && route_servers+="        server ${ADDR[$name]} max_fails=0;"$'\n'
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
        listen $LB_HOST:$LB_API;
        location / { proxy_pass http://api; include $REPO/deploy/nginx/common.conf; }
    }
    server {
        listen $LB_HOST:$LB_ROUTE;
        location / { proxy_pass http://route; include $REPO/deploy/nginx/common.conf; }
    }"
}

# launch NAME: a fresh instance of NAME's kind on a new port (not yet registered); its address
# in NEW_ADDR.
launch() {
  local name=$1 port
  if [[ $DRILL_CONTAINERS == 1 ]]; then
    case $name in
      route*) run_container "$name" route ;;
      api*)
        run_container "$name" api -v "$WORK/db:$KEYS_DB_DIR" -e NORIKAE_DATABASE__URL="$KEYS_DB_URL" \
          -e NORIKAE_UPSTREAM__SEARCH_URL="http://${ADDR[search]}" \
          -e NORIKAE_UPSTREAM__ROUTE_URL="http://$LB_HOST:$LB_ROUTE"
        ;;
    esac
    return 0
  fi
  port=$(free_port)
  generation=$((generation + 1))
  case $name in
    route*) start "$name" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" "$ROUTE" ;;
    api*)
      start "$name" "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" NORIKAE_AUTH__OPEN_ACCESS=true \
        "${LOAD_FROM_ONE_CLIENT[@]}" \
        NORIKAE_DATABASE__URL="sqlite://$WORK/$name-$generation.db" \
        NORIKAE_UPSTREAM__SEARCH_URL="http://${ADDR[search]}" \
        NORIKAE_UPSTREAM__ROUTE_URL="http://127.0.0.1:$LB_ROUTE" "$API"
      ;;
  esac
  NEW_ADDR=127.0.0.1:$port
}

# stop_instance NAME: SIGTERM (ECS sends it once deregistration has begun; the service drains
# by itself), then waits up to 30 s for the exit; its exit code in EXIT_CODE.
stop_instance() {
  local name=$1
  if [[ $DRILL_CONTAINERS == 1 ]]; then
    kill_container "$name" TERM
    CONTAINER_OF[$name-old]=${CONTAINER_OF[$name]}
    unset "CONTAINER_OF[$name]"
  else
    signal "$name" TERM
    PID_OF[$name-old]=${PID_OF[$name]}
  fi
}
finish_instance() {
  if [[ $DRILL_CONTAINERS == 1 ]]; then finish_container "$1-old" 30; else finish "$1-old" 30; fi
}

# app_probe APP_URL: until the stop file appears, one station suggestion through the app every
# half second (the app -> api balancer -> api -> search path, with the app's key); prints its
# counts, and each failure's time, status and body to app-failures.log.
app_probe() {
  local answered=0 failed=0 status
  while [[ ! -e $WORK/stop ]]; do
    status=$(curl -s -o "$WORK/app-probe.body" -w '%{http_code}' --max-time 10 \
      "$1/suggest?q=%E5%A4%A9%E7%A5%9E&lang=en") || true
    if [[ $status == 200 ]] && grep -q '"results":\[{' "$WORK/app-probe.body"; then
      answered=$((answered + 1))
    else
      failed=$((failed + 1))
      echo "$(unix_ms) $status $(head -c 200 "$WORK/app-probe.body" 2>/dev/null)" >>"$WORK/app-failures.log"
    fi
    sleep 0.5
  done
  echo "app_ok=$answered app_failed=$failed"
}

if [[ $DRILL_CONTAINERS == 1 ]]; then
  run_container search search
else
  port=$(free_port)
  start search "${SERVICE_ENV[@]}" NORIKAE_HTTP__PORT="$port" "$SEARCH"
  NEW_ADDR=127.0.0.1:$port
fi
ADDR[search]=$NEW_ADDR
for name in route1 route2; do
  launch "$name"
  wait_ready "http://$NEW_ADDR/health/ready" 120
  ADDR[$name]=$NEW_ADDR
done
if [[ $DRILL_CONTAINERS == 1 ]]; then
  # The image's own HEALTHCHECK (deploy/healthcheck.sh, bash's /dev/tcp) inside a container.
  check "the route image's HEALTHCHECK passes (podman healthcheck run)" \
    "${PODMAN[@]}" healthcheck run "${CONTAINER_OF[route1]}"
fi
write_lb_conf
start nginx nginx -p "$WORK" -c "$WORK/nginx.conf" -g 'daemon off;'
wait_ready "http://$LB_HOST:$LB_ROUTE/health/ready" 20
wait_ready "http://${ADDR[search]}/health/ready" 120
for name in api1 api2; do
  launch "$name"
  wait_ready "http://$NEW_ADDR/health/ready" 120
  ADDR[$name]=$NEW_ADDR
done
write_lb_conf
reload_nginx
wait_ready "http://$LB_HOST:$LB_API/health/ready" 20
LOAD_HEADERS=()
if [[ $DRILL_CONTAINERS == 1 ]]; then
  anonymous=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$LB_HOST:$LB_API/v1/stations?q=ten")
  check "the api refuses a request without a key (no open access): $anonymous" test "$anonymous" = 401
  LOAD_HEADERS=(--header "X-Api-Key: $LOAD_KEY")
  # The app's key from the environment, as ECS passes the secret (not on podman's command line).
  NORIKAE_UPSTREAM__API_KEY=$APP_KEY run_container app app -e NORIKAE_UPSTREAM__API_KEY \
    -e NORIKAE_UPSTREAM__API_URL="http://$LB_HOST:$LB_API"
  wait_ready "http://$NEW_ADDR/health/ready" 120
  ADDR[app]=$NEW_ADDR
  for name in route1 api1 app; do check_read_only_root "$name"; done
  start app-probe app_probe "http://${ADDR[app]}"
fi

say "load: $rate requests/s (journeys, station search, departures) through the api balancer; $rounds round(s) of 4 replacements"
# A new client connection per request: `nginx -s reload` (this drill's deregistration) closes
# idle client connections, a race an ALB does not have; the hops under test are nginx's to
# the services, which keep their keep-alive connections.
start load "$DRILL" load --base "http://$LB_HOST:$LB_API/v1" "${LOAD_HEADERS[@]}" --no-keepalive \
  --rate "$rate" --duration 600 --stop-file "$WORK/stop" --failures "$WORK/failures.log"
sleep 2

replaced=0
for round in $(seq 1 "$rounds"); do
  for name in route1 api1 route2 api2; do
    old_addr=${ADDR[$name]}
    before=$(served "http://$old_addr/metrics")
    # Deregister: nginx stops sending new requests to it.
    ADDR[$name]=""
    write_lb_conf
    reload_nginx
    stop_instance "$name"
    launch "$name"
    finish_instance "$name"
    code=$EXIT_CODE
    wait_ready "http://$NEW_ADDR/health/ready" 120
    ADDR[$name]=$NEW_ADDR
    write_lb_conf
    reload_nginx
    replaced=$((replaced + 1))
    say "round $round: $name replaced ($old_addr -> $NEW_ADDR); the old one had served $before requests and exited $code"
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
if [[ $DRILL_CONTAINERS == 1 ]]; then
  finish app-probe 20
  app_answered=$(figure "$WORK/app-probe.log" app_ok)
  app_failed=$(figure "$WORK/app-probe.log" app_failed)
  say "app probe: $app_answered suggestions answered, $app_failed failed"
  [[ -s $WORK/app-failures.log ]] && head -n 5 "$WORK/app-failures.log" | sed "s/^/[$DRILL_NAME]   app failure: /"
  check "the app answered suggestions through the api with its key (${app_answered:-0})" test "${app_answered:-0}" -gt 0
  check "0 failed app suggestions during the rolling restart (got ${app_failed:-?})" test "${app_failed:-1}" -eq 0
  verdict "rolling-restart (containers): $replaced replacements, $requests requests, $failed failed, p99 ${p99} ms; app: ${app_answered:-0} suggestions, ${app_failed:-?} failed"
fi
verdict "rolling-restart: $replaced replacements, $requests requests, $failed failed, p99 ${p99} ms"
