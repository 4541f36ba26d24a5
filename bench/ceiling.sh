#!/usr/bin/env bash
# The HTTP ceiling of this machine: wrk against a handler that does no work
# (bench/ceiling) on each HTTP stack, in the two layouts of
# bench/http-assign.sh: both processes free to use both cores, and the
# server pinned to CPU 0 (GOMAXPROCS=1) with wrk pinned to CPU 1. Whatever
# /v1/assign does costs on top of these numbers, so they bound it. The last
# column is wrk's own CPU per request: on one core, wrk cannot send more than
# 1e6 / that many requests a second, whatever the server.
#
# Settings (environment): DURATION=8s RUNS=3 CONNECTIONS=64 PORT=18090
# STACKS="fiber fasthttp nethttp"
#
# Usage: bash bench/ceiling.sh      (or: make bench-ceiling)
set -euo pipefail

DURATION=${DURATION:-8s}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-64}
PORT=${PORT:-18090}
STACKS=${STACKS:-fiber fasthttp nethttp}

cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk (or run make bench-http once)"; exit 1; }

tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/ceiling" ./bench/ceiling

ticks() { awk '{ print $14 + $15, $15 }' "/proc/$1/stat"; } # user+system, system (clock ticks)

echo "stack     layout    req/s   p99 ms  server µs/req (kernel)  wrk µs/req"
for stack in $STACKS; do
	for layout in shared pinned; do
		if [ "$layout" = pinned ]; then
			GOMAXPROCS=1 taskset -c 0 "$tmp/ceiling" -stack "$stack" -listen "127.0.0.1:$PORT" &
			load=(taskset -c 1 wrk -t1)
		else
			"$tmp/ceiling" -stack "$stack" -listen "127.0.0.1:$PORT" &
			load=(wrk -t1)
		fi
		pid=$!
		for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/" >/dev/null 2>&1 && break; sleep 0.1; done
		for _ in $(seq 1 "$RUNS"); do
			read -r c0 s0 < <(ticks "$pid")
			TIMEFORMAT='%U %S'
			{ time "${load[@]}" -c"$CONNECTIONS" -d"$DURATION" --latency "http://127.0.0.1:$PORT/" >"$tmp/wrk.out"; } 2>"$tmp/wrk.time"
			read -r c1 s1 < <(ticks "$pid")
			w=$(awk '{ print $1 + $2 }' "$tmp/wrk.time")
			n=$(awk '/requests in/ { print $1 }' "$tmp/wrk.out")
			rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$tmp/wrk.out")
			p99=$(awk '$1 == "99%" { v = $2; u = 1; if (v ~ /us$/) u = 0.001; if (v ~ /[^m]s$/ && v !~ /ms$/ && v !~ /us$/) u = 1000; sub(/[a-z]+$/, "", v); printf "%.2f", v * u }' "$tmp/wrk.out")
			awk -v st="$stack" -v l="$layout" -v r="$rps" -v p="$p99" -v c=$((c1 - c0)) -v s=$((s1 - s0)) -v n="$n" -v w="$w" -v hz="$(getconf CLK_TCK)" \
				'BEGIN { printf "%-9s %-8s %6d   %6s  %5.1f (%.1f)            %5.1f\n", st, l, r, p, c / hz / n * 1e6, s / hz / n * 1e6, w / n * 1e6 }'
		done
		kill "$pid"
		wait "$pid" 2>/dev/null || true
		pid=""
	done
done
