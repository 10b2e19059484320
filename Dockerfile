# syntax=docker/dockerfile:1.7
#
# Norikae container images: one Dockerfile, one target per service.
#
#   docker build --target route  -t norikae/route  .    (also: search, api, app, import, ops)
#
# Stages: chef (toolchain + cargo-chef) → planner (dependency recipe) → builder (dependencies
# cooked in their own cached layer, then the workspace) → snapshot (the import step builds
# data/snapshot/timetable.snapshot from the bundled feeds) → runtime (debian slim, tini as init,
# non-root user) → one small image per service. route and search carry the snapshot baked in
# (what ECS runs); docker-compose.yml instead mounts the snapshot its one-shot import builds.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# The cached dependency layer: rebuilt only when Cargo.toml/Cargo.lock change.
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked \
        --bin norikae --bin norikae-app --bin norikae-api --bin norikae-search \
        --bin norikae-route --bin norikae-ops \
    && mkdir -p /out \
    && for bin in norikae norikae-app norikae-api norikae-search norikae-route norikae-ops; do \
           cp "target/release/$bin" /out/ && strip "/out/$bin" ; \
       done

# The import step: the timetable snapshot from the bundled feeds (names as in data/feeds).
FROM builder AS snapshot
RUN /out/norikae import \
        ryobi=data/feeds/okayama/ryobi_bus_gtfs.zip \
        okaden=data/feeds/okayama/okaden_bus_gtfs.zip \
        chutetsu=data/feeds/okayama/chutetsu_bus_gtfs.zip \
        fukuoka=data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip \
        --out /snapshot

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# tini: PID 1 that forwards SIGTERM and reaps zombies (ECS also sets initProcessEnabled).
# ca-certificates: TLS to AWS APIs and Postgres. No curl: the health check uses bash's /dev/tcp.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 norikae \
    && useradd --system --uid 10001 --gid norikae --home-dir /srv/norikae --shell /usr/sbin/nologin norikae \
    && mkdir -p /srv/norikae/data/snapshot \
    && chown -R norikae:norikae /srv/norikae
COPY --chmod=0755 deploy/healthcheck.sh /usr/local/bin/norikae-healthcheck
# The RDS CA bundle, for the api's NORIKAE_DATABASE__URL
# `…?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem`. Not pinned by
# --checksum (no digest of the current file could be taken where this was written, and AWS
# adds CAs to it): checked instead to be nothing but PEM certificates, at least one.
ADD --chmod=0644 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
RUN grep -q -e '^-----BEGIN CERTIFICATE-----' /etc/ssl/certs/rds-global-bundle.pem \
    && ! grep -Ev -e '^-----(BEGIN|END) CERTIFICATE-----\r?$' -e '^[A-Za-z0-9+/=]*\r?$' \
        /etc/ssl/certs/rds-global-bundle.pem
WORKDIR /srv/norikae
ENV NORIKAE_TIMETABLE__SNAPSHOT=/srv/norikae/data/snapshot/timetable.snapshot \
    RUST_LOG=info
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--"]
# Liveness only: readiness (/health/ready) is the load balancer's and compose's business.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/norikae-healthcheck", "/health/live"]

FROM runtime AS route
COPY --from=builder /out/norikae-route /usr/local/bin/
COPY --from=snapshot --chown=10001:10001 /snapshot/timetable.snapshot /srv/norikae/data/snapshot/
ENV NORIKAE_HTTP__PORT=8083
EXPOSE 8083
CMD ["/usr/local/bin/norikae-route"]

FROM runtime AS search
COPY --from=builder /out/norikae-search /usr/local/bin/
COPY --from=snapshot --chown=10001:10001 /snapshot/timetable.snapshot /srv/norikae/data/snapshot/
ENV NORIKAE_HTTP__PORT=8082
EXPOSE 8082
CMD ["/usr/local/bin/norikae-search"]

FROM runtime AS api
COPY --from=builder /out/norikae-api /usr/local/bin/
ENV NORIKAE_HTTP__PORT=8081
EXPOSE 8081
CMD ["/usr/local/bin/norikae-api"]

FROM runtime AS app
COPY --from=builder /out/norikae-app /usr/local/bin/
ENV NORIKAE_HTTP__PORT=8080
EXPOSE 8080
CMD ["/usr/local/bin/norikae-app"]

# The one-shot import (docker-compose) and the `norikae` CLI, with the bundled feeds.
FROM runtime AS import
COPY --from=builder /out/norikae /usr/local/bin/
COPY --chown=10001:10001 data/feeds /srv/norikae/data/feeds
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/norikae"]
CMD ["import", \
     "ryobi=data/feeds/okayama/ryobi_bus_gtfs.zip", \
     "okaden=data/feeds/okayama/okaden_bus_gtfs.zip", \
     "chutetsu=data/feeds/okayama/chutetsu_bus_gtfs.zip", \
     "fukuoka=data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip", \
     "--out", "data/snapshot"]

# norikae-ops, for a scheduled ECS task running `agent-check`.
FROM runtime AS ops
COPY --from=builder /out/norikae-ops /usr/local/bin/
HEALTHCHECK NONE
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/norikae-ops"]
CMD ["agent-check"]
