#!/usr/bin/env bash
# A second PostgreSQL cluster for the api's TLS test (services/api/tests/database_tls.rs): it
# accepts TLS connections only, as RDS does with rds.force_ssl, with a server certificate for
# `localhost` signed by a CA made here. Idempotent: a later run reuses the cluster and the
# certificates (made again when they expire within a day) and starts the cluster if it stopped.
#
# Prints the URL the test reads from NORIKAE_TEST_TLS_DATABASE_URL:
#   postgres://postgres@localhost:5433/postgres?sslmode=verify-full&sslrootcert=<dir>/ca.pem
# Needs Debian's postgresql (pg_createcluster) and openssl; run as root or with sudo.
set -euo pipefail
# Only the URL on standard output: whatever a tool prints (pg_ctlcluster, openssl, sudo) goes to
# standard error, since .ci/run takes this script's output as the URL.
exec 3>&1 1>&2

port=${NORIKAE_TLS_PG_PORT:-5433}
cluster=norikae_tls
version=$(ls /etc/postgresql | head -n1)
certs=/var/lib/postgresql/norikae-tls
conf=/etc/postgresql/$version/$cluster

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

log() { printf '%s\n' "$*" >&2; }

if ! "${as_root[@]}" openssl x509 -in "$certs/server.crt" -noout -checkend 86400 >/dev/null 2>&1; then
  log "making a CA and a server certificate for localhost in $certs"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  openssl req -x509 -new -nodes -days 365 -subj "/CN=Norikae CI test CA" \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$work/ca.key" -out "$work/ca.pem" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
  openssl req -new -nodes -subj "/CN=localhost" \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -keyout "$work/server.key" \
    -out "$work/server.csr" 2>/dev/null
  # Only the name `localhost`: the test also checks that connecting as 127.0.0.1 is refused.
  printf '%s\n' "subjectAltName=DNS:localhost" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$work/server.ext"
  openssl x509 -req -days 365 -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -extfile "$work/server.ext" -out "$work/server.crt" 2>/dev/null
  "${as_root[@]}" install -d -m 0755 "$certs"
  "${as_root[@]}" install -m 0644 "$work/ca.pem" "$certs/ca.pem"
  "${as_root[@]}" install -m 0644 "$work/server.crt" "$certs/server.crt"
  "${as_root[@]}" install -m 0600 -o postgres -g postgres "$work/server.key" "$certs/server.key"
fi

if [ ! -f "$conf/postgresql.conf" ]; then
  log "creating PostgreSQL cluster $version/$cluster on port $port"
  "${as_root[@]}" pg_createcluster --start-conf=manual --port "$port" "$version" "$cluster" \
    >/dev/null
fi
# conf.d comes after postgresql.conf (Debian's include_dir), so these settings win.
printf '%s\n' \
  "listen_addresses = '127.0.0.1'" \
  "ssl = on" \
  "ssl_cert_file = '$certs/server.crt'" \
  "ssl_key_file = '$certs/server.key'" \
  "ssl_min_protocol_version = 'TLSv1.2'" |
  "${as_root[@]}" tee "$conf/conf.d/norikae-tls.conf" >/dev/null
# TLS or nothing over TCP (the socket stays for administration).
printf '%s\n' \
  "local     all all                 peer" \
  "hostssl   all all 127.0.0.1/32    trust" \
  "hostnossl all all 0.0.0.0/0       reject" |
  "${as_root[@]}" tee "$conf/pg_hba.conf" >/dev/null

# The server must not inherit descriptor 3: it is the pipe the caller reads the URL from, and a
# server holding it open keeps `$(… | tail -n 1)` waiting for ever (CI hung here on a machine
# where the cluster had to be started).
if pg_isready -q -h 127.0.0.1 -p "$port"; then
  "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" reload 3>&-
else
  "${as_root[@]}" pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start 3>&- \
    </dev/null
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 1; done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "PostgreSQL $version/$cluster did not start"; exit 1; }

printf 'postgres://postgres@localhost:%s/postgres?sslmode=verify-full&sslrootcert=%s/ca.pem\n' \
  "$port" "$certs" >&3
