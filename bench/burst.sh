#!/usr/bin/env bash
# Sign-in bursts on each store: real sign-ins (bench/storm: the page, the
# POST that sends a code, the code read from the log provider's line, the
# POST that checks it), each a different user from a different IP, started
# at RATE a second for PHASE on one Caddy, with the embedded Badger store
# and with a redis-server, under the default limits and with `limit
# country` and `limit global_enrolled` at 1,000,000 an hour. The four runs
# are repeated ROUNDS times in a rotating order, each on an empty store.
# Caddy's CPU time is read second by second from /proc. Prints a report
# with the ratios Badger/Redis, and writes it to bench/results/burst.txt.
#
#   bench/burst.sh                          # 250/s for 10 s, 2 rounds
#   RATE=100 PHASE=5s ROUNDS=1 bench/burst.sh
#   RATE=5 PHASE=2s ROUNDS=1 CADDY=/tmp/caddy bench/burst.sh   # a smoke run
#
# PIN=1 pins Caddy to core 0, the driver and redis-server to core 1; on a
# machine shared with other work that starves them, so it is off by
# default. Needs redis-server. Everything listens on 127.0.0.1, on free
# ports; it stops by itself. CADDY names a Caddy binary to use instead of
# building one (another build's, for a side-by-side run).
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${RATE:-250}
PHASE=${PHASE:-10s}
ROUNDS=${ROUNDS:-2}
OUT=${OUT:-bench/results}
command -v redis-server >/dev/null || { echo "burst: redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }

. bench/build.sh
caddy_into "$work"
build ./bench/storm "$work"
# Caddy on core 0, the rest on core 1 (taskset execs: $! is the process itself).
core0=() core1=()
if [ "$(nproc)" -ge 2 ] && [ "${PIN:-0}" = 1 ]; then core0=(taskset -c 0) core1=(taskset -c 1); fi
. bench/ports.sh

free_port rport
"${core1[@]}" redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

seconds=${PHASE%s}
users=$((RATE * seconds))
# Users are u and their number in letters (ua, ub, … uba): a message says
# a name's letters only.
awk -v n="$users" 'function name(i, s) { s = ""; do { s = sprintf("%c", 97 + i % 26) s; i = int(i / 26) } while (i > 0); return "u" s }
	BEGIN { for (i = 0; i < n; i++) printf "user %s +1415%07d\n", name(i), 2000000 + i }' >"$work/users"
export BURST_SECRET=$(head -c 24 /dev/urandom | base64)

# burst STORE LIMITS: one run on an empty store, its JSON line on stdout.
burst() {
	local store=$1 limits=$2 p dir log caddy extra=""
	free_port p
	dir=$(mktemp -d "$work/run.XXXX")
	log="$dir/caddy.log"
	touch "$log"
	case $store in
	badger) store="store badger $dir/store" ;;
	redis) redis-cli -p "$rport" flushall >/dev/null; store="store redis 127.0.0.1:$rport" ;;
	esac
	[ "$limits" = high ] && extra="limit country 1000000 1h
		limit global_enrolled 1000000 1h"
	cat >"$dir/Caddyfile" <<CADDY
{
	admin off
	auto_https off
	grace_period 1s
	servers {
		trusted_proxies static 127.0.0.1/32
	}
	log {
		output file $log
		format json
	}
}
http://localhost:$p {
	bind 127.0.0.1
	smsgate {
		identity none
		realm burst.localhost
		signing_key {env.BURST_SECRET}
		$store
		provider log
		message_template "storm {{.User}} {{.Code}}"
		$extra
		import $work/users
	}
	respond "ok {http.auth.user.id}"
}
CADDY
	"${core0[@]}" "$work/caddy" run --config "$dir/Caddyfile" >"$dir/stderr" 2>&1 &
	caddy=$!
	for _ in $(seq 300); do curl -s -o /dev/null --resolve "localhost:$p:127.0.0.1" "http://localhost:$p/.smsgate/login" && break; sleep 0.1; done
	"${core1[@]}" "$work/storm" signins -a "http://localhost:$p" -b "http://localhost:$p" -logs "$log" -rate "$RATE" -for "$PHASE" -pid "$caddy" || {
		echo "burst: the driver failed; Caddy said:" >&2
		cat "$dir/stderr" >&2
		exit 1
	}
	kill "$caddy"
	wait "$caddy" 2>/dev/null || true
}

runs="$work/runs.jsonl"
order=("badger default" "redis default" "badger high" "redis high")
for round in $(seq "$ROUNDS"); do
	for i in 0 1 2 3; do
		read -r store limits <<<"${order[$(((i + round) % 4))]}"
		printf '{"round":%d,"store":"%s","limits":"%s","run":%s}\n' "$round" "$store" "$limits" "$(burst "$store" "$limits")" >>"$runs"
		echo "round $round: $store, $limits limits" >&2
	done
done

mkdir -p "$OUT"
cp "$runs" "$OUT/burst-runs.jsonl"
{
	echo "sign-in bursts, $(date -u +%Y-%m-%d), $(nproc) cores, commit $(git rev-parse --short HEAD)"
	echo "$RATE sign-ins a second for $PHASE on one Caddy (${CADDY:-built from this tree}); $ROUNDS round(s), each on an empty store"
	echo
	python3 bench/burst.py "$runs" "$seconds"
} | tee "$OUT/burst.txt"
