# journeylab: a static binary on a distroless base (no shell, runs as nonroot).
#   docker build -t journeylab .
#   docker run -p 127.0.0.1:8080:8080 journeylab            # embedded SQLite in /data
# See docker-compose.yml for the production shape with a MongoDB replica set.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary needs no libc.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/journeylab ./cmd/journeylab \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/journeylab /usr/local/bin/journeylab
COPY --from=build --chown=65532:65532 /out/data /data
ENV JOURNEYLAB_LISTEN=0.0.0.0:8080 \
    JOURNEYLAB_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
USER nonroot
ENTRYPOINT ["/usr/local/bin/journeylab"]
CMD ["serve"]
