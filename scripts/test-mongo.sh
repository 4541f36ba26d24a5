#!/usr/bin/env bash
# The MongoDB store's real tests: starts two throw-away single-member MongoDB
# replica sets in Docker, runs every test of store/mongo against them (the
# conformance suite, the outcome and report tests, the comparison with the
# SQLite store, the injection tests, the start-up transaction probe, the
# service end to end, and the outage test, which stops and restarts the
# second server), then the store's benchmarks, and removes both containers
# whatever happens.
#
# Settings (environment):
#   MONGO_IMAGE=mongo:7.0   the server image
#   MONGO_BENCH=1           0 skips the benchmarks
#   BENCH_COUNT=3           runs of each benchmark (report the median)
#
# Extra arguments go to `go test` of the test run, e.g. -run Conformance -v.
#
# Usage: bash scripts/test-mongo.sh      (or: make test-mongo)
# Exits 2, saying why, when Docker is missing or its engine does not answer.
set -euo pipefail

image=${MONGO_IMAGE:-mongo:7.0}
bench=${MONGO_BENCH:-1}
count=${BENCH_COUNT:-3}

if ! command -v docker >/dev/null 2>&1; then
  echo "test-mongo: docker is not installed; these tests need Docker to start a MongoDB replica set" >&2
  echo "test-mongo: (or set JOURNEYLAB_TEST_MONGODB_URI to a replica set and run: go test ./store/mongo/...)" >&2
  exit 2
fi
if ! docker info >/dev/null 2>&1; then
  echo "test-mongo: the Docker engine does not answer (docker info failed); start it and retry" >&2
  exit 2
fi

cd "$(dirname "$0")/.."
suffix="$$-$RANDOM"
main="journeylab-test-mongo-$suffix"
outage="journeylab-test-mongo-outage-$suffix"
cleanup() { docker rm -f "$main" "$outage" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
  local p
  for p in $(seq "$1" $(($1 + 200))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  echo "test-mongo: no free port from $1" >&2
  exit 1
}

# start NAME PORT runs a replica set "rs" whose member is named
# localhost:27017 inside the container, published on 127.0.0.1:PORT (a
# fixed port, so the URI survives a restart), and waits for its primary.
start() {
  local name=$1 port=$2 i
  docker run -d --name "$name" -p "127.0.0.1:$port:27017" "$image" --replSet rs --bind_ip_all >/dev/null
  for i in $(seq 120); do
    docker exec "$name" mongosh --quiet --eval 'db.adminCommand({ping: 1}).ok' >/dev/null 2>&1 && break
    [ "$i" = 120 ] && { echo "test-mongo: $name did not answer within 60 s" >&2; docker logs "$name" | tail -20 >&2; exit 1; }
    sleep 0.5
  done
  docker exec "$name" mongosh --quiet --eval \
    "try { rs.status() } catch (e) { rs.initiate({_id: 'rs', members: [{_id: 0, host: 'localhost:27017'}]}) }" >/dev/null
  for i in $(seq 120); do
    [ "$(docker exec "$name" mongosh --quiet --eval 'db.hello().isWritablePrimary')" = true ] && return
    sleep 0.5
  done
  echo "test-mongo: $name has no primary after 60 s" >&2
  exit 1
}

port=$(free_port 27117)
start "$main" "$port"
oport=$(free_port $((port + 1)))
start "$outage" "$oport"
echo "test-mongo: replica sets ready on 127.0.0.1:$port and 127.0.0.1:$oport ($image)"

export JOURNEYLAB_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/?directConnection=true"
export JOURNEYLAB_TEST_MONGODB_OUTAGE_URI="mongodb://127.0.0.1:$oport/?directConnection=true"
export JOURNEYLAB_TEST_MONGODB_OUTAGE_CONTAINER="$outage"

go test -count=1 "$@" ./store/mongo/...
if [ "$bench" != 0 ]; then
  go test -run '^$' -bench AppendEvents -benchtime 200x -count "$count" ./store/mongo/
  go test -run '^$' -bench ReportRead200k -benchtime 5x -count "$count" ./store/mongo/
fi
