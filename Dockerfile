# syntax=docker/dockerfile:1
# lifeboat in a container: build with the Rust toolchain, run from a small
# Debian image as a non-root user. Everything the server needs (models,
# templates, styles) is inside the binary; the final image holds the binary
# and nothing of ours besides.
#
#   docker build -t lifeboat .
#   docker build --build-arg FEATURES=onnx -t lifeboat .   # to serve .onnx files
#   docker run --rm -p 5000:5000 lifeboat
#   docker run --rm -p 5000:5000 -v "$PWD/my.lifeboat:/models/my.lifeboat:ro" \
#       -e LIFEBOAT_MODEL=/models/my.lifeboat lifeboat
#
# Heroku's container stack (heroku.yml) sets PORT; the binary reads it.

FROM rust:1.95.0-slim-bookworm AS build
WORKDIR /src
# Cargo features to build with: "onnx" adds the ONNX engine (see ARCHITECTURE.md).
ARG FEATURES=""
COPY . .
RUN cargo build --release --locked --bin lifeboat --features "$FEATURES" \
 && strip target/release/lifeboat

# bookworm-slim matches the build image's glibc, and keeps /bin/sh, which
# Heroku's container runtime uses to start the CMD.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin lifeboat
COPY --from=build /src/target/release/lifeboat /app/lifeboat
USER 10001:10001
ENV PORT=5000
EXPOSE 5000
# No curl needed: the binary checks itself (GET /readyz on $PORT).
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/app/lifeboat", "healthcheck"]
# Exec form: lifeboat is PID 1 and gets SIGTERM itself, so it drains in-flight
# requests before the platform's 30 s deadline.
CMD ["/app/lifeboat", "serve"]
