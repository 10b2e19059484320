#!/bin/bash
# Container health check without curl: GET a path on the service's own port over bash's
# /dev/tcp and succeed only on HTTP 200. Usage: norikae-healthcheck /health/live
set -euo pipefail
path="${1:-/health/live}"
port="${NORIKAE_HTTP__PORT:-8080}"
exec 3<>"/dev/tcp/127.0.0.1/${port}"
printf 'GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$path" >&3
read -r -t 3 _version status _rest <&3
[ "$status" = "200" ]
