# hookd's container image: a static binary on a distroless base, run as a
# non-root user, with its data directory (SQLite, the generated admin
# token) on the /data volume. See docs/operations.md.
#
#   docker build -t hookd .
#   docker run -p 8080:8080 -v hookd-data:/data hookd
#
# With PostgreSQL: deploy/compose.yaml.

FROM golang:1.26 AS build
WORKDIR /src
# The modules first, so that a code change does not download them again.
COPY go.mod go.sum ./
COPY webhook/go.mod webhook/go.sum ./webhook/
COPY client/go.mod ./client/
RUN go mod download
COPY . .
ARG VERSION=0.1.0-dev
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X github.com/hookd/hookd/internal/version.Version=${VERSION}" \
      -o /out/hookd ./cmd/hookd \
 && mkdir /out/data

# Static: CA certificates (for https:// endpoints) and time zones, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookd /usr/local/bin/hookd
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HOOKD_DATA_DIR=/data \
    HOOKD_ADDR=:8080
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hookd"]
CMD ["serve"]
