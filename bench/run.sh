#!/usr/bin/env bash
# Side-by-side throughput of four ways to serve one backend (see
# bench/Caddyfile): (a) reverse_proxy alone, (b) smsgate inline with a
# session, (c) forward_auth to an smsgate portal, (d) forward_auth to a
# trivial 200. Configurations are interleaved (the order rotates each
# round) and repeated, because these machines are noisy; Caddy is pinned to
# core 0, wrk and the backend to core 1. Prints a table, the ratios b/a,
# b/c, b/d as medians with their spread, and writes a chart.
#
#   bench/run.sh                      # 5 rounds of 5 s per configuration
#   ROUNDS=9 DURATION=10s bench/run.sh
#   ROUNDS=1 DURATION=1s CADDY=/tmp/caddy bench/run.sh   # a smoke run
#
# Needs wrk (apt-get install wrk). Targets 127.0.0.1 only; stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
OUT=${OUT:-bench/results}
. bench/setup.sh

taskset -c 1 "$work/backend" -addr "127.0.0.1:$BENCH_PORT_BACKEND" & pids+=($!)
taskset -c 0 "$work/caddy" run --config bench/Caddyfile >"$work/caddy.log" 2>&1 & caddy=$!; pids+=($caddy)
for port in $BENCH_PORT_A $BENCH_PORT_B $BENCH_PORT_C $BENCH_PORT_D $BENCH_PORT_BACKEND; do
	for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
token=$("$work/mint" -secret "$BENCH_SECRET" -realm bench.localhost)
cookie="Cookie: smsgate_session=$token"
for port in $BENCH_PORT_B $BENCH_PORT_C; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "http://127.0.0.1:$port/")
	[ "$code" = 200 ] || { echo "bench: :$port answers $code with the session; see $work/caddy.log" >&2; cat "$work/caddy.log" >&2; exit 1; }
done

cpu() { awk '{print $14 + $15}' "/proc/$caddy/stat"; }
ticks=$(getconf CLK_TCK)
mkdir -p "$OUT"
results="$OUT/runs.tsv"
printf 'round\tconfig\trps\tp50_us\tp99_us\trequests\tcpu_s\n' >"$results"
configs=(a b c d)
declare -A port=([a]=$BENCH_PORT_A [b]=$BENCH_PORT_B [c]=$BENCH_PORT_C [d]=$BENCH_PORT_D)
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }
for round in $(seq "$ROUNDS"); do
	for i in 0 1 2 3; do
		cfg=${configs[$(((i + round) % 4))]}
		before=$(cpu)
		report=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" --latency -H "$cookie" "http://127.0.0.1:${port[$cfg]}/")
		after=$(cpu)
		rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$report")
		requests=$(awk '/requests in/ {print $1}' <<<"$report")
		p50=$(to_us "$(awk '$1 == "50%" {print $2}' <<<"$report")")
		p99=$(to_us "$(awk '$1 == "99%" {print $2}' <<<"$report")")
		non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$report")
		[ -z "$non2xx" ] || { echo "bench: config $cfg had $non2xx non-2xx answers" >&2; exit 1; }
		cpu_s=$(awk -v a="$before" -v b="$after" -v t="$ticks" 'BEGIN { print (b - a) / t }')
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$cfg" "$rps" "$p50" "$p99" "$requests" "$cpu_s" >>"$results"
		echo "round $round, config $cfg: $rps req/s"
	done
done
python3 bench/report.py "$results" "$OUT"
