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
curl -s -o "$work/cpu.pprof" "http://127.0.0.1:$BENCH_PORT_ADMIN/debug/pprof/profile?seconds=$SECONDS_PROFILED"
wait "$wrk"
mkdir -p "$OUT"
cp "$work/cpu.pprof" "$OUT/admit-cpu.pprof"

# Samples under the gate, and under the gate but not in the reverse proxy.
total=$(go tool pprof -raw "$work/cpu.pprof" 2>/dev/null | python3 bench/share.py total)
gate=$(go tool pprof -raw "$work/cpu.pprof" 2>/dev/null | python3 bench/share.py gate)
own=$(go tool pprof -raw "$work/cpu.pprof" 2>/dev/null | python3 bench/share.py own)
rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk.txt")
awk -v t="$total" -v g="$gate" -v o="$own" -v r="$rps" 'BEGIN {
	printf "requests/s %s; CPU samples: %d; under Gate.ServeHTTP %.2f%%; the gate'"'"'s own code (less the next handler) %.2f%%\n", r, t, 100 * g / t, 100 * o / t
}' | tee "$OUT/admit-share.txt"
