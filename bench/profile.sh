#!/usr/bin/env bash
# The gate's own share of Caddy's CPU on admitted requests: a CPU profile
# of Caddy while wrk sends requests with a valid (cached) session to config
# (b) of bench/Caddyfile (smsgate inline, then reverse_proxy). The gate's
# own code is what runs under Gate.ServeHTTP, less the next handler (the
# reverse proxy) it calls.
#
#   bench/profile.sh                  # 20 s of load, a 15 s profile from 2 s in
#   DURATION=30s SECONDS=25 bench/profile.sh
#   DURATION=2s WARMUP=0.5 SECONDS=1 CADDY=/tmp/caddy bench/profile.sh   # a smoke run
#   PROFILER=perf bench/profile.sh    # perf record at 4,999 Hz instead of Go's 100 Hz
#
# Go's profiler samples 100 times a second: a 60 s profile holds ~6,000
# samples, ~35 of them the gate's own, so ±0.1% by counting alone. perf
# (PROFILER=perf; needs linux-perf and root or perf_event_paranoid ≤ 1)
# samples 50 times as often, kernel time included, and the share is read
# the same way from its stacks (Go keeps frame pointers).
#
# Needs wrk (apt-get install wrk). Targets 127.0.0.1 only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-20s}
SECONDS_PROFILED=${SECONDS:-15}
CONNS=${CONNS:-32}
OUT=${OUT:-bench/results}
. bench/setup.sh
# The benchmark's config, with an admin endpoint for pprof.
sed "s/^\tadmin off$/\tadmin 127.0.0.1:$BENCH_PORT_ADMIN/" bench/Caddyfile >"$work/Caddyfile"

taskset -c 1 "$work/backend" -addr "127.0.0.1:$BENCH_PORT_BACKEND" >"$work/backend.log" 2>&1 & backend=$!; pids+=($backend)
taskset -c 0 "$work/caddy" run --config "$work/Caddyfile" >"$work/caddy.log" 2>&1 & caddy=$!; pids+=($caddy)
wait_port "$BENCH_PORT_BACKEND" backend "$work/backend.log" "$backend"
for port in $BENCH_PORT_B $BENCH_PORT_ADMIN; do wait_port "$port" Caddy "$work/caddy.log" "$caddy"; done
token=$("$work/mint" -secret "$BENCH_SECRET" -realm bench.localhost)
cookie="Cookie: smsgate_session=$token"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "http://127.0.0.1:$BENCH_PORT_B/" || true)
[ "$code" = 200 ] || { echo "bench: :$BENCH_PORT_B answers $code with the session" >&2; cat "$work/caddy.log" >&2; exit 1; }

taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" -H "$cookie" "http://127.0.0.1:$BENCH_PORT_B/" >"$work/wrk.txt" &
wrk=$!
sleep "${WARMUP:-2}" # past the start
mkdir -p "$OUT"
if [ "${PROFILER:-go}" = perf ]; then
	perf record -q -F 4999 -g -p "$caddy" -o "$work/perf.data" -- sleep "$SECONDS_PROFILED" >/dev/null 2>&1
	wait "$wrk"
	perf script -i "$work/perf.data" -F comm,tid,ip,sym 2>/dev/null >"$work/stacks.txt"
	cp "$work/perf.data" "$OUT/admit-perf.data"
	samples() { python3 bench/share.py "$1" perf <"$work/stacks.txt"; }
else
	curl -s -o "$work/cpu.pprof" "http://127.0.0.1:$BENCH_PORT_ADMIN/debug/pprof/profile?seconds=$SECONDS_PROFILED"
	wait "$wrk"
	cp "$work/cpu.pprof" "$OUT/admit-cpu.pprof"
	samples() { go tool pprof -raw "$work/cpu.pprof" 2>/dev/null | python3 bench/share.py "$1"; }
fi

# Samples under the gate, and under the gate but not in the reverse proxy.
total=$(samples total)
gate=$(samples gate)
own=$(samples own)
rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
awk -v t="$total" -v g="$gate" -v o="$own" -v r="$rps" 'BEGIN {
	printf "requests/s %s; CPU samples: %d; under Gate.ServeHTTP %.2f%%; the gate'"'"'s own code (less the next handler) %.3f%% (%d samples)\n", r, t, 100 * g / t, 100 * o / t, o
}' | tee "$OUT/admit-share.txt"
