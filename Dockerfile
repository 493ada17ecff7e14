# pushpull: one image, one binary, two services.
#
# Three stages:
#   deps     compiles every dependency against placeholder sources, so the
#            layer is cached until Cargo.toml/Cargo.lock change — editing
#            the project's own code then rebuilds only the workspace's
#            crates (minutes, not the ~20 of a clean build on two cores);
#   build    compiles the real sources, stripped of debug info;
#   runtime  a slim Debian with only the binary, run as a non-root user
#            (the bench is a library inside it, `pushpull bench`, not a
#            second binary).
# The binary needs nothing beside it at run time — the SQL migrations
# (sqlx::migrate!), the askama templates (compiled in), the stylesheet and
# the script (include_str!) are all embedded — so nothing else is copied.
# `crates/pushpull/tests/system/compose.rs` checks this file against the
# code, and runs the binary from an empty directory as compose would.
#
# Offline builds (no crates.io from inside the build): use a Rust base image
# whose $CARGO_HOME already holds the registry, and pass
# `--build-arg CARGO_NET_OFFLINE=true`.

FROM rust:1.95-slim-bookworm AS deps
ARG CARGO_NET_OFFLINE=false
ENV CARGO_NET_OFFLINE=${CARGO_NET_OFFLINE} \
    CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_STRIP=true
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates/contract/Cargo.toml crates/contract/
COPY crates/platform/Cargo.toml crates/platform/
COPY crates/store/Cargo.toml crates/store/
COPY crates/inventory/Cargo.toml crates/inventory/
COPY crates/bench/Cargo.toml crates/bench/
COPY crates/pushpull/Cargo.toml crates/pushpull/
# Placeholder sources: enough for cargo to build every dependency.
RUN for crate in contract platform store inventory bench; do \
        mkdir -p crates/$crate/src && echo "" > crates/$crate/src/lib.rs; \
    done \
 && mkdir -p crates/pushpull/src \
 && echo "" > crates/pushpull/src/lib.rs \
 && echo "fn main() {}" > crates/pushpull/src/main.rs \
 && cargo build --release --locked -p pushpull

FROM deps AS build
COPY crates crates
COPY migrations migrations
COPY templates templates
# The placeholders' artefacts are older than the real sources, but touch
# them anyway: cargo decides by modification time.
RUN find crates -name '*.rs' -exec touch {} + \
 && cargo build --release --locked -p pushpull \
 && cp target/release/pushpull /usr/local/bin/pushpull

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app --create-home pushpull
WORKDIR /app
COPY --from=build /usr/local/bin/pushpull /usr/local/bin/pushpull
USER pushpull
# The services bind every interface inside the container; compose publishes
# the ports it wants on the host (on loopback only, by default).
ENV STORE_BIND=0.0.0.0 \
    INVENTORY_BIND=0.0.0.0 \
    RUST_LOG=info,sqlx=warn,actix_server=warn,actix_web=warn
EXPOSE 8080 8081
ENTRYPOINT ["pushpull"]
CMD ["demo"]
