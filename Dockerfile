# The container image, for CI systems that run a job in an image (GitLab CI, Tekton, Drone):
#   docker build -t oauth-test-client .                          (default target: runtime)
#   docker build --target browser -t oauth-test-client:browser .
# runtime: Alpine with the static (musl) binary and CA certificates, about 20 MB. It keeps a
# shell, which GitLab CI needs to run a job's script.
# browser: Debian with its Chromium and the build with the browser sign-in driver.
# No USER: CI runners mount the job's folder owned by root, and the report is written there;
# Chromium refuses its sandbox as root, and the driver then starts it with --no-sandbox.

FROM rust:1.95-alpine AS build
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# musl is Alpine's libc: the binary is static, so it runs on any Linux image.
RUN cargo build --release --locked \
    && cp target/release/oauth-test-client /oauth-test-client

FROM build AS build-browser
RUN cargo build --release --locked --features browser \
    && cp target/release/oauth-test-client /oauth-test-client

FROM debian:trixie-slim AS browser
# Debian's Chromium follows Debian's security updates; unpinned so a rebuild picks them up.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates chromium \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build-browser /oauth-test-client /usr/local/bin/oauth-test-client
ENV CHROMIUM=/usr/bin/chromium
ENTRYPOINT ["oauth-test-client"]
CMD ["--help"]

FROM alpine:3.22 AS runtime
# hadolint ignore=DL3018
RUN apk add --no-cache ca-certificates
COPY --from=build /oauth-test-client /usr/local/bin/oauth-test-client
ENTRYPOINT ["oauth-test-client"]
CMD ["--help"]
