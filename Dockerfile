# syntax=docker/dockerfile:1.7
#
# Norikae container images: one Dockerfile, one target per service, for linux/amd64 and
# linux/arm64 (Graviton).
#
#   docker build --target route  -t norikae/route  .    (also: search, api, app, import, ops)
#
# Stages: chef (toolchain + cargo-chef) → planner (dependency recipe) → builder (dependencies
# cooked in their own cached layer, then deploy/build-binaries.sh, the build line CI runs too)
# → compiled (the import step builds data/snapshot/timetable.snapshot from the bundled feeds)
# → runtime-base (debian slim, CA certificates, the non-root user) → runtime → one small image
# per service. route and search carry the snapshot baked in (what ECS runs); docker-compose.yml
# instead mounts the snapshot its one-shot import builds.
#
# No init process in the images: the orchestrator provides the one init (ECS
# `initProcessEnabled`, compose `init: true`, `docker run --init`).
#
# Prebuilt binaries (CI, deploy/images/build.sh): `--build-arg BINARIES=prebuilt --build-arg
# PREBUILT_DIR=<dir in the context with bin/ and snapshot/>` skips the compiling stages and
# copies the binaries and the snapshot from that directory; `RUNTIME_BASE=<image>` replaces the
# runtime-base stage (CI's arm64 images: a base made without running arm64 code). buildah
# (1.28) builds a stage named by an ARG only when the ARG is given: pass BINARIES and
# RUNTIME_BASE explicitly there.

ARG RUST_VERSION=1.95
# trixie: its glibc (2.41) runs binaries built on bookworm too, and CI's arm64 binaries are
# cross-built against trixie's (Rust from trixie-backports).
ARG DEBIAN_RELEASE=trixie
# Where the images take the binaries (/out) and the snapshot (/snapshot) from: `compiled` (the
# stages below) or `prebuilt` (PREBUILT_DIR). The runtime's base: `runtime-base` or an image.
ARG BINARIES=compiled
ARG RUNTIME_BASE=runtime-base

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# The cached dependency layer (the workspace's binaries, as deploy/build-binaries.sh builds
# them): rebuilt only when Cargo.toml/Cargo.lock change.
RUN cargo chef cook --release --locked --workspace --bins --recipe-path recipe.json
COPY . .
RUN bash deploy/build-binaries.sh release /out

# The import step: the timetable snapshot from the bundled feeds (names as in data/feeds).
FROM builder AS compiled
RUN /out/norikae import \
        ryobi=data/feeds/okayama/ryobi_bus_gtfs.zip \
        okaden=data/feeds/okayama/okaden_bus_gtfs.zip \
        chutetsu=data/feeds/okayama/chutetsu_bus_gtfs.zip \
        fukuoka=data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip \
        --out /snapshot

# CI's images: binaries and snapshot built outside (PREBUILT_DIR/bin, PREBUILT_DIR/snapshot).
FROM scratch AS prebuilt
ARG PREBUILT_DIR=dist/images/amd64
COPY ${PREBUILT_DIR}/bin/ /out/
COPY ${PREBUILT_DIR}/snapshot/ /snapshot/

FROM ${BINARIES} AS binaries

# The RDS CA bundle, for the api's NORIKAE_DATABASE__URL
# `…?sslmode=verify-full&sslrootcert=/etc/ssl/certs/rds-global-bundle.pem`. Not pinned by
# --checksum (no digest of the current file could be taken where this was written, and AWS
# adds CAs to it; a release pipeline should pin it). A stage of its own with no RUN, so the
# arm64 images need no emulation; deploy/images/build.sh checks the file in every image is
# nothing but PEM certificates. CI, which cannot reach AWS, passes a stand-in file from the
# context (RDS_CA_BUNDLE=dist/images/…).
FROM scratch AS rds-ca
ARG RDS_CA_BUNDLE=https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
ADD ${RDS_CA_BUNDLE} /rds-global-bundle.pem

FROM debian:${DEBIAN_RELEASE}-slim AS runtime-base
# ca-certificates: TLS to AWS APIs and Postgres. No curl: the health check uses bash's /dev/tcp.
# The only RUN of the images' own stages: CI's arm64 base (deploy/images/build.sh) is made to
# the same description without running arm64 code (user 10001, the snapshot directory, the CA
# bundle), and CI checks both arches' images for them.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && groupadd --system --gid 10001 norikae \
    && useradd --system --uid 10001 --gid norikae --home-dir /srv/norikae --shell /usr/sbin/nologin norikae \
    && mkdir -p /srv/norikae/data/snapshot \
    && chown -R norikae:norikae /srv/norikae

FROM ${RUNTIME_BASE} AS runtime
COPY --chmod=0755 deploy/healthcheck.sh /usr/local/bin/norikae-healthcheck
COPY --from=rds-ca --chmod=0644 /rds-global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
WORKDIR /srv/norikae
ENV NORIKAE_TIMETABLE__SNAPSHOT=/srv/norikae/data/snapshot/timetable.snapshot \
    RUST_LOG=info
USER 10001:10001
# Liveness only: readiness (/health/ready) is the load balancer's and compose's business.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/norikae-healthcheck", "/health/live"]

FROM runtime AS route
COPY --from=binaries /out/norikae-route /usr/local/bin/
COPY --from=binaries --chown=10001:10001 /snapshot/timetable.snapshot /srv/norikae/data/snapshot/
ENV NORIKAE_HTTP__PORT=8083
EXPOSE 8083
CMD ["/usr/local/bin/norikae-route"]

FROM runtime AS search
COPY --from=binaries /out/norikae-search /usr/local/bin/
COPY --from=binaries --chown=10001:10001 /snapshot/timetable.snapshot /srv/norikae/data/snapshot/
ENV NORIKAE_HTTP__PORT=8082
EXPOSE 8082
CMD ["/usr/local/bin/norikae-search"]

FROM runtime AS api
COPY --from=binaries /out/norikae-api /usr/local/bin/
ENV NORIKAE_HTTP__PORT=8081
EXPOSE 8081
CMD ["/usr/local/bin/norikae-api"]

FROM runtime AS app
COPY --from=binaries /out/norikae-app /usr/local/bin/
ENV NORIKAE_HTTP__PORT=8080
EXPOSE 8080
CMD ["/usr/local/bin/norikae-app"]

# The one-shot import (docker-compose) and the `norikae` CLI, with the bundled feeds.
FROM runtime AS import
COPY --from=binaries /out/norikae /usr/local/bin/
COPY --chown=10001:10001 data/feeds /srv/norikae/data/feeds
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/norikae"]
CMD ["import", \
     "ryobi=data/feeds/okayama/ryobi_bus_gtfs.zip", \
     "okaden=data/feeds/okayama/okaden_bus_gtfs.zip", \
     "chutetsu=data/feeds/okayama/chutetsu_bus_gtfs.zip", \
     "fukuoka=data/feeds/fukuoka_subway/FukuokaCitySubway-20190316.zip", \
     "--out", "data/snapshot"]

# norikae-ops, for a scheduled ECS task running `agent-check`.
FROM runtime AS ops
COPY --from=binaries /out/norikae-ops /usr/local/bin/
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/norikae-ops"]
CMD ["agent-check"]
