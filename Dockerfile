# pushpull: one image, one binary, two services.
#
# Build stage: the official Rust image compiles the launcher in release
# mode. Runtime stage: a slim Debian with only the binary, run as a
# non-root user. The binary needs nothing beside it at run time — the
# SQL migrations (include_str!), the askama templates (compiled in) and the
# stylesheet and script (include_str!) are all embedded — so nothing else
# is copied. `crates/pushpull/tests/compose.rs` checks this file against
# the code, and runs the binary from an empty directory to prove it.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p pushpull \
 && cp target/release/pushpull /usr/local/bin/pushpull

FROM debian:bookworm-slim AS runtime
RUN useradd --system --uid 10001 --home-dir /app --create-home pushpull
WORKDIR /app
COPY --from=build /usr/local/bin/pushpull /usr/local/bin/pushpull
USER pushpull
# The services bind every interface inside the container; compose publishes
# the ports it wants on the host.
ENV STORE_BIND=0.0.0.0 \
    INVENTORY_BIND=0.0.0.0 \
    RUST_LOG=info,sqlx=warn,actix_server=warn,actix_web=warn
EXPOSE 8080 8081
ENTRYPOINT ["pushpull"]
CMD ["demo"]
