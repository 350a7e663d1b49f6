# syntax=docker/dockerfile:1

# Build stage. Pure Go (SQLite via modernc, no cgo), so we cross-compile on the
# build host's platform for whatever platform is targeted (e.g. buildx
# --platform linux/arm64) instead of emulating the target.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Download modules in their own step so it is only re-run when go.mod/go.sum
# change; the cache mounts keep modules and build cache between builds.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG TARGETOS TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/pathways ./cmd/pathways

# Empty data dir; the runtime image has no shell to mkdir/chown it.
RUN mkdir -p /out/data

# Runtime stage: static binary on distroless (CA certs, tzdata, /etc/passwd,
# no shell), running as the distroless "nonroot" user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/pathways /pathways
# Owned by nonroot so the embedded database (used when MONGODB_URI is unset)
# can write; a fresh named volume mounted here inherits this ownership.
COPY --from=build --chown=65532:65532 /out/data /data

ENV PATHWAYS_ADDR=:8080 \
    PATHWAYS_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER 65532:65532

# No shell or curl in distroless: the binary probes its own /healthz.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/pathways", "healthcheck"]

ENTRYPOINT ["/pathways"]
CMD ["serve"]
