#!/usr/bin/env bash
# HTTP benchmark of POST /v1/assign with wrk, on loopback only.
#
# Builds journeylab, starts it on 127.0.0.1 with a temporary data directory
# in dev mode (no API keys), creates and launches 10 experiments on the
# touchpoint checkout_cta (six for everyone, two targeted, two in a layer
# with a 5% holdout), warms up (first exposures written, dedupe cache
# filled), runs wrk for a bounded time, prints the exposure metrics and stops
# the server gracefully. Installs wrk (Debian package) if it is missing.
#
# Two load shapes, one after the other on the same server (SHAPES):
#   new     every request is a new visitor (bench/assign-new.lua): 10 first
#           exposures journaled per request, the realistic first-page-view load
#   repeat  visitors drawn from a pool of UNITS ids (bench/assign.lua): mostly
#           returning visitors, nothing new to record
#   ofrep   the repeat visitors as OpenFeature (OFREP) single-flag evaluations
#           of one of the 10 experiments (POST /ofrep/v1/evaluate/flags/cta-0,
#           bench/assign.lua with FORMAT=ofrep), which record nothing
#   untargeted / targeted   the repeat visitors on two more touchpoints of
#           ten experiments each: checkout_plain without targeting, and
#           checkout_tgt where each experiment has its own realistic
#           condition (a country list, a $ne, a version comparison, a
#           regular expression and the persona "sarah"); every shape then
#           sends attributes that all those conditions match (ATTRS=realistic
#           in bench/assign.lua), so both answer ten assignments
#           (make bench-targeting)
#
# With ROUNDS > 1 the shapes are measured alternately, round after round, and
# the medians per shape are printed, with the ratio ofrep/repeat when both
# ran (make bench-ofrep) and targeted/untargeted when both ran.
#
# Settings (environment):
#   SHAPES="new repeat" load shapes to measure, in order
#   ROUNDS=1            measured runs per shape (alternating); medians when > 1
#   DURATION=20s        measured wrk run
#   WARMUP=5s           unmeasured run before it (0 to skip)
#   CONNECTIONS=64      concurrent connections
#   THREADS=1           wrk threads (1 leaves more CPU to the server on 2 cores)
#   UNITS=20000         distinct visitors (see bench/assign.lua)
#   PORT=18080          port on 127.0.0.1
#   SERVER_GOMAXPROCS=  GOMAXPROCS of the server (empty: all cores)
#   WRK_CPUS= / SERVER_CPUS=   optional taskset CPU lists to pin each side
#   BIN=                a prebuilt journeylab binary to test instead of building
#
# Usage: bash bench/http-assign.sh      (or: make bench-http)
set -euo pipefail

SHAPES=${SHAPES:-new repeat}
ROUNDS=${ROUNDS:-1}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
UNITS=${UNITS:-20000}
PORT=${PORT:-18080}
SERVER_GOMAXPROCS=${SERVER_GOMAXPROCS:-}
WRK_CPUS=${WRK_CPUS:-}
SERVER_CPUS=${SERVER_CPUS:-}
TOUCHPOINT=checkout_cta
BASE="http://127.0.0.1:${PORT}"

cd "$(dirname "$0")/.."

if ! command -v wrk >/dev/null; then
	echo "== installing wrk"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null
fi

tmp=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bin" "$tmp/run"
if [ -n "${BIN:-}" ]; then
	cp "$BIN" "$tmp/bin/journeylab"
else
	echo "== building"
	go build -o "$tmp/bin/journeylab" ./cmd/journeylab
fi

pin() { # pin CPUS CMD...: run CMD under taskset when CPUS is set
	local cpus=$1
	shift
	if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

echo "== starting journeylab on ${BASE} (GOMAXPROCS=${SERVER_GOMAXPROCS:-default})"
(
	[ -n "$SERVER_GOMAXPROCS" ] && export GOMAXPROCS=$SERVER_GOMAXPROCS
	export JOURNEYLAB_DEV_MODE=true JOURNEYLAB_LOG_LEVEL=warn
	# An empty working directory: no journeylab.yaml (or anything viper may
	# take for one) is picked up from the repository.
	cd "$tmp/run"
	args=(serve --listen "127.0.0.1:${PORT}" --data-dir "$tmp/data")
	if [ -n "$SERVER_CPUS" ]; then
		exec taskset -c "$SERVER_CPUS" "$tmp/bin/journeylab" "${args[@]}"
	fi
	exec "$tmp/bin/journeylab" "${args[@]}"
) 2>"$tmp/server.log" &
pid=$!
for _ in $(seq 1 100); do
	curl -fsS "${BASE}/readyz" >/dev/null 2>&1 && break
	sleep 0.1
done
curl -fsS "${BASE}/readyz" >/dev/null || { echo "server did not become ready:"; cat "$tmp/server.log"; exit 1; }

api() { # api METHOD PATH [BODY]
	curl -fsS -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "${BASE}$2" >/dev/null \
		|| { echo "request failed: $1 $2 $3"; cat "$tmp/server.log"; exit 1; }
}

experiment() { # experiment KEY EXTRA_JSON
	local variants='[{"key":"control","weight":1,"payload":{"color":"blue"}},{"key":"treatment","weight":1,"payload":{"color":"green"}}]'
	api POST /v1/experiments "{\"key\":\"$1\",\"name\":\"Bench $1\",\"stage\":\"checkout\",\"touchpoint\":\"${TOUCHPOINT}\",\"variants\":${variants},\"goal_metrics\":[\"conversion\"]$2}"
	api POST "/v1/experiments/$1/launch"
}

echo "== creating and launching 10 experiments on ${TOUCHPOINT}"
api PUT /v1/layers/checkout '{"holdout_share":0.05}'
for i in 0 1 2 3 4 5; do experiment "cta-$i" ""; done
experiment mobile-sticky-bar ',"targeting":{"device":"mobile"}'
experiment dach-payment ',"targeting":{"country":{"$in":["DE","AT","CH"]}}'
experiment layer-a ',"layer":"checkout","layer_share":0.45'
experiment layer-b ',"layer":"checkout","layer_share":0.45'

wait_assignments() { # wait_assignments BODY MIN: until /v1/assign answers BODY with at least MIN assignments (5 s at most)
	local n=0
	for _ in $(seq 1 50); do
		n=$(curl -fsS -X POST --data "$1" "${BASE}/v1/assign" | jq '.assignments | length')
		[ "$n" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "expected at least $2 assignments, got $n"
	exit 1
}

targeting_shapes=""
if echo "$SHAPES" | grep -Eqw 'targeted|untargeted'; then
	targeting_shapes=1
	export ATTRS=realistic
	echo "== creating the persona sarah and ten experiments each on checkout_plain (no targeting) and checkout_tgt (a realistic condition each)"
	api POST /v1/personas '{"key":"sarah","name":"Sarah","condition":{"returns_last_year":{"$gte":2},"segment":{"$in":["quality-seeker","size-unsure"]}}}'
	for i in 0 1 2 3 4 5 6 7 8 9; do
		TOUCHPOINT=checkout_plain experiment "plain-$i" ""
		TOUCHPOINT=checkout_tgt experiment "tgt-$i" ",\"targeting\":{\"country\":{\"\$in\":[\"DE\",\"AT\",\"CH\",\"X$i\"]},\"device\":{\"\$ne\":\"desktop\"},\"app_version\":{\"\$vgte\":\"4.2.0\"},\"utm_source\":{\"\$regex\":\"^(newsletter|sea)-\"},\"\$persona\":\"sarah\"}"
	done
	wait_assignments '{"unit_id":"probe-1","touchpoint":"checkout_tgt","expose":false,"attributes":{"device":"mobile","country":"DE","app_version":"4.10.1","utm_source":"newsletter-2026-11","returns_last_year":3,"segment":"size-unsure"}}' 10
fi

# The refresher picks the launches up within a second; wait until it has.
sample='{"unit_id":"probe-1","touchpoint":"checkout_cta","attributes":{"device":"mobile","country":"DE"}}'
wait_assignments "$sample" 8
echo "   sample response: $(curl -fsS -X POST --data "$sample" "${BASE}/v1/assign" | head -c 300)..."

metric() { # metric NAME: current value from /metrics
	curl -fsS "${BASE}/metrics" | awk -v m="$1" '$1 == m { printf "%d", $2 }'
}

wrkrun() { # wrkrun SCRIPT DURATION [PATH]: PATH defaults to /v1/assign
	local secs=${2%s}
	UNITS=$UNITS TOUCHPOINT=$TOUCHPOINT pin "$WRK_CPUS" timeout $((secs + 60)) \
		wrk -t"$THREADS" -c"$CONNECTIONS" -d"$2" --latency -s "$1" "${BASE}${3:-/v1/assign}"
}

# CPU seconds used by a process so far (user + system), from /proc.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
sys_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", $15 / hz }' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
peak_mb() { awk '/^VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

exposures() {
	echo "   exposures: journaled $(metric journeylab_exposures_queued_total), merged into the store $(metric journeylab_exposures_written_total), not recorded $(metric journeylab_exposures_dropped_total), journal backlog $(metric journeylab_exposures_journal_bytes) bytes; server RSS $(rss_mb "$pid") MB (peak $(peak_mb "$pid") MB)"
}

warmed=""
measure() { # measure SHAPE
	local script path=/v1/assign
	export FORMAT=assign
	case "$1" in
	new) script=bench/assign-new.lua ;;
	repeat) script=bench/assign.lua ;;
	ofrep) script=bench/assign.lua path=/ofrep/v1/evaluate/flags/cta-0 FORMAT=ofrep ;;
	untargeted) script=bench/assign.lua ;;
	targeted) script=bench/assign.lua ;;
	*) echo "unknown shape $1 (want new, repeat, ofrep, untargeted or targeted)"; exit 1 ;;
	esac
	if [ "$1" != new ] && [ -z "$warmed" ] && [ "$WARMUP" != "0" ] && [ "$WARMUP" != "0s" ]; then
		echo "== warm-up: ${WARMUP} (first exposures of ${UNITS} visitors)"
		FORMAT=assign wrkrun bench/assign.lua "$WARMUP" >/dev/null
		if [ -n "$targeting_shapes" ]; then
			FORMAT=assign TOUCHPOINT=checkout_plain wrkrun bench/assign.lua "$WARMUP" >/dev/null
			FORMAT=assign TOUCHPOINT=checkout_tgt wrkrun bench/assign.lua "$WARMUP" >/dev/null
		fi
		warmed=1
		# Let the merger move the warm-up's exposures into the store, so
		# the measured runs do not share the CPU with it (at most 60 s).
		for _ in $(seq 1 120); do
			[ "$(metric journeylab_exposures_journal_bytes)" = 0 ] && break
			sleep 0.5
		done
	fi
	local tp=$TOUCHPOINT
	case "$1" in
	untargeted) TOUCHPOINT=checkout_plain ;;
	targeted) TOUCHPOINT=checkout_tgt ;;
	esac
	echo "== measuring shape '$1': wrk -t${THREADS} -c${CONNECTIONS} -d${DURATION}, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	local server_cpu0 server_sys0 server_cpu server_sys wrk_cpu reqs
	server_cpu0=$(cpu_seconds "$pid")
	server_sys0=$(sys_seconds "$pid")
	TIMEFORMAT='%U %S'
	{ time wrkrun "$script" "$DURATION" "$path" >"$tmp/wrk.out"; } 2>"$tmp/wrk.time"
	TOUCHPOINT=$tp
	sed "s/^RESULT /RESULT shape=$1 /" "$tmp/wrk.out"
	server_cpu=$(awk -v a="$(cpu_seconds "$pid")" -v b="$server_cpu0" 'BEGIN { print a - b }')
	server_sys=$(awk -v a="$(sys_seconds "$pid")" -v b="$server_sys0" 'BEGIN { print a - b }')
	wrk_cpu=$(awk '{ print $1 + $2 }' "$tmp/wrk.time")
	reqs=$(sed -n 's/^RESULT requests=\([0-9]*\).*/\1/p' "$tmp/wrk.out")
	# CPU cost per request, which the load of other processes on a shared
	# machine does not distort: 2 cores / (server + wrk cost) bounds req/s.
	awk -v s="$server_cpu" -v k="$server_sys" -v w="$wrk_cpu" -v n="$reqs" -v c="$(nproc)" 'BEGIN {
		if (n > 0) printf "   CPU per request: server %.1f us (%.1f in the kernel), wrk %.1f us -> at most %.0f req/s on %d idle cores\n", s / n * 1e6, k / n * 1e6, w / n * 1e6, c * n / (s + w), c }'
	awk -v t="$1" -v s="$server_cpu" -v n="$reqs" '/^RESULT / { print t, $0, "server_us=" (n > 0 ? s / n * 1e6 : 0) }' "$tmp/wrk.out" >>"$tmp/results"
	exposures
	if [ "$1" = new ]; then
		# The sustained bound: how fast the merger empties the backlog with
		# no requests arriving (it then runs at full speed).
		local w0 w1
		w0=$(metric journeylab_exposures_written_total)
		sleep 5
		w1=$(metric journeylab_exposures_written_total)
		echo "   merge rate with no requests: $(( (w1 - w0) / 5 )) exposures/s (new visitors in ten experiments: a tenth of that per second, sustained)"
	fi
}

for _ in $(seq 1 "$ROUNDS"); do
	for shape in $SHAPES; do
		measure "$shape"
	done
done

if [ "$ROUNDS" -gt 1 ]; then
	echo "== medians of ${ROUNDS} rounds, shapes measured alternately on one server"
	median() { # median FIELD SHAPE: the median of a RESULT field over a shape's runs
		awk -v f="$1" -v t="$2" '$1 == t { for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == f) print kv[2] } }' "$tmp/results" |
			sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
	}
	for shape in $SHAPES; do
		printf "   %-7s req/s %8.0f  p50 %6.3f ms  p99 %6.3f ms  server CPU %5.1f us/req\n" "$shape" \
			"$(median rps "$shape")" "$(median p50_ms "$shape")" "$(median p99_ms "$shape")" "$(median server_us "$shape")"
	done
	if echo "$SHAPES" | grep -qw ofrep && echo "$SHAPES" | grep -qw repeat; then
		awk -v o="$(median rps ofrep)" -v a="$(median rps repeat)" -v oc="$(median server_us ofrep)" -v ac="$(median server_us repeat)" \
			'BEGIN { printf "   ratio ofrep/repeat: throughput %.2f, server CPU per request %.2f\n", o / a, oc / ac }'
	fi
	if [ -n "$targeting_shapes" ] && echo "$SHAPES" | grep -qw untargeted && echo "$SHAPES" | grep -qw targeted; then
		awk -v t="$(median rps targeted)" -v u="$(median rps untargeted)" -v tc="$(median server_us targeted)" -v uc="$(median server_us untargeted)" \
			'BEGIN { printf "   ratio targeted/untargeted: throughput %.2f, server CPU per request %.2f\n", t / u, tc / uc }'
	fi
fi
kill -TERM "$pid"
wait "$pid" || true
pid=""
grep -E 'level=(ERROR|WARN)' "$tmp/server.log" | grep -v 'DEV MODE' | head -5 || true
