# syntax=docker/dockerfile:1
#
# Rampart's container image: one static binary on an empty base, run as a
# non-root user, on a read-only root filesystem.
#
#   docker build -t rampart .
#   docker run --rm -p 8080:8080 --read-only rampart demo --listen :8080
#
# The final image holds only the binary, CA certificates (for upstream TLS,
# ACME and JWKS fetches), /etc/passwd and /etc/group naming the user, and an
# empty, user-owned /var/lib/rampart for the SQLite store and ACME
# certificates (mount a volume there).
#
# ROOTFS=local builds from files already in the context instead of
# compiling (no image is pulled): `.rootfs/` must hold usr/local/bin/rampart,
# etc/passwd, etc/group, etc/ssl/certs/ca-certificates.crt and
# var/lib/rampart/ — what the container test prepares.

ARG GO_VERSION=1.26
ARG ROOTFS=build

FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=devel
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /rootfs/usr/local/bin/rampart ./cmd/rampart \
 && mkdir -p /rootfs/etc/ssl/certs /rootfs/var/lib/rampart \
 && echo 'rampart:x:65532:65532:rampart:/var/lib/rampart:/sbin/nologin' > /rootfs/etc/passwd \
 && echo 'rampart:x:65532:' > /rootfs/etc/group \
 && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
 && chown -R 65532:65532 /rootfs/var/lib/rampart && chmod 0700 /rootfs/var/lib/rampart

FROM scratch AS local
COPY .rootfs/ /rootfs/

FROM ${ROOTFS} AS rootfs

FROM scratch
COPY --from=rootfs /rootfs/ /
USER 65532:65532
WORKDIR /var/lib/rampart
ENV RAMPART_ADMIN=127.0.0.1:9090
# 8080: the gateway (8443 with tls); 8080/9090 as configured.
EXPOSE 8080 8443
VOLUME ["/var/lib/rampart"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/rampart", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rampart"]
CMD ["serve", "--config", "/etc/rampart/rampart.yaml"]
