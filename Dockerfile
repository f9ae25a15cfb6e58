# syntax=docker/dockerfile:1

# Build: a static binary (pure Go, CGO off: the embedded FerretDB uses the
# pure-Go SQLite driver, so even the development database needs no libc).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/qinqing .

# The CJK font of generated PDFs (written notices): fpdf reads single
# TrueType files, not .ttc collections, so Droid Sans Fallback, from the
# Debian release the run image is built on.
FROM debian:bookworm-slim AS fonts
RUN apt-get update && apt-get install -y --no-install-recommends fonts-droid-fallback \
    && rm -rf /var/lib/apt/lists/*

# Run: distroless static, non-root (uid 65532), no shell. It ships CA
# certificates (for FCM, WeChat and SMS over HTTPS); community time zones
# (Asia/Shanghai) come from the time/tzdata import in server.go, so they work
# without the image's zoneinfo.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/qinqing /qinqing
COPY --from=fonts /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf /usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
# Production requires MONGODB_URI; DATA_DIR only matters when the image is
# run in development mode on the embedded database, and points it at a
# directory the non-root user may write.
WORKDIR /home/nonroot
ENV APP_ENV=production HTTP_ADDR=:8080 DATA_DIR=/home/nonroot/data \
    PDF_FONT=/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/qinqing"]
CMD ["serve"]
