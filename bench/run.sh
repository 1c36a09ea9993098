#!/usr/bin/env bash
# Side-by-side throughput of four ways to serve one backend (see
# bench/Caddyfile): (a) reverse_proxy alone, (b) smsgate inline with a
# session, (c) forward_auth to an smsgate portal, (d) forward_auth to a
# trivial 200, and (e) nginx in front with auth_request to the same portal
# (caddyfile-examples/nginx-auth-request.conf as it is; nginx is pinned to
# core 0 beside Caddy, and the CPU of both is counted). Configurations are
# interleaved (the order rotates each
# round) and repeated, because these machines are noisy; Caddy is pinned to
# core 0, wrk and the backend to core 1. Prints a table, the ratios b/a,
# b/c, b/d, e/c as medians with their spread, and writes a chart. Without
# nginx (or with NGINX=off) (e) is left out.
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

taskset -c 1 "$work/backend" -addr "127.0.0.1:$BENCH_PORT_BACKEND" >"$work/backend.log" 2>&1 & backend=$!; pids+=($backend)
taskset -c 0 "$work/caddy" run --config bench/Caddyfile >"$work/caddy.log" 2>&1 & caddy=$!; pids+=($caddy)
configs=(a b c d)
nginx=${NGINX:-$(command -v nginx || PATH=$PATH:/usr/sbin:/sbin command -v nginx || true)}
[ "$nginx" = off ] && nginx=
if [ -n "$nginx" ]; then
	# The example's server block, pointed at the portal and the backend.
	free_port BENCH_PORT_E
	export BENCH_PORT_E
	mkdir -p "$work/nginx"
	# wrk names the address (Host: 127.0.0.1:port), which the app's server
	# serves here; its port is named in X-Original-URL, as the example says.
	block=$(sed -e "s|listen 443 ssl;|listen 127.0.0.1:$BENCH_PORT_E;|" -e "s|listen 443 ssl default_server;|listen 127.0.0.1:$BENCH_PORT_E default_server;|" \
		-e "s|server_name app3.example.com;|server_name 127.0.0.1;|" -e 's|\$scheme://\$host\$request_uri;|$scheme://$host:$server_port$request_uri;|' \
		-e "s|http://127.0.0.1:3000|http://127.0.0.1:$BENCH_PORT_BACKEND|" \
		-e "s|https://auth.example.com/|http://127.0.0.1:$BENCH_PORT_PORTAL/|" caddyfile-examples/nginx-auth-request.conf)
	cat >"$work/nginx/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $work/nginx/body;
	proxy_temp_path $work/nginx/proxy;
	fastcgi_temp_path $work/nginx/fastcgi;
	uwsgi_temp_path $work/nginx/uwsgi;
	scgi_temp_path $work/nginx/scgi;
$block
}
CONF
	taskset -c 0 "$nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" >"$work/nginx/out.log" 2>&1 & nginx_pid=$!; pids+=($nginx_pid)
	configs+=(e)
fi
wait_port "$BENCH_PORT_BACKEND" backend "$work/backend.log" "$backend"
for port in $BENCH_PORT_A $BENCH_PORT_B $BENCH_PORT_C $BENCH_PORT_D $BENCH_PORT_PORTAL; do
	wait_port "$port" Caddy "$work/caddy.log" "$caddy"
done
[ -z "${nginx_pid:-}" ] || wait_port "$BENCH_PORT_E" nginx "$work/nginx/out.log $work/nginx/error.log" "$nginx_pid"
token=$("$work/mint" -secret "$BENCH_SECRET" -realm bench.localhost)
cookie="Cookie: smsgate_session=$token"
for port in $BENCH_PORT_B $BENCH_PORT_C ${BENCH_PORT_E:-}; do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "$cookie" "http://127.0.0.1:$port/" || true)
	[ "$code" = 200 ] || { echo "bench: :$port answers $code with the session; see $work/caddy.log" >&2; cat "$work/caddy.log" >&2; exit 1; }
done

# Caddy's CPU; with (e), nginx's master and worker too (they serve only (e)).
cpu() {
	local p ticks_all=0
	for p in $caddy ${nginx_pid:-} $( [ -n "${nginx_pid:-}" ] && pgrep -P "$nginx_pid" ); do
		ticks_all=$((ticks_all + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$ticks_all"
}
ticks=$(getconf CLK_TCK)
mkdir -p "$OUT"
results="$OUT/runs.tsv"
printf 'round\tconfig\trps\tp50_us\tp99_us\trequests\tcpu_s\n' >"$results"
declare -A port=([a]=$BENCH_PORT_A [b]=$BENCH_PORT_B [c]=$BENCH_PORT_C [d]=$BENCH_PORT_D [e]=${BENCH_PORT_E:-})
to_us() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n }'; }
for round in $(seq "$ROUNDS"); do
	for i in "${!configs[@]}"; do
		cfg=${configs[$(((i + round) % ${#configs[@]}))]}
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
