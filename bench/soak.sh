#!/usr/bin/env bash
# The soak: smsgate for minutes in the topology the README gives for
# several instances — an HTTPS Caddy in front (tls internal, round robin),
# two smsgate instances, one redis-server with appendonly yes — while 50
# users sign in, browse (~200 requests a second), change phones and sign
# out, with Redis stopped for 5 s half-way (then started again from its
# append-only file; PAUSE=1: hung instead). Every minute: each
# instance's memory (RSS) and goroutines, Redis's keys and memory, errors,
# and latencies. Prints the table and writes it to bench/results/soak.txt
# (and soak.json).
#
#   bench/soak.sh                           # 5 minutes
#   DURATION=10m RATE=200 USERS=50 BLIP=5s bench/soak.sh
#
# Needs redis-server (apt-get install redis-server). Everything listens on
# 127.0.0.1, on free ports; it stops by itself. `go test ./bench/soak` runs
# a 12-second version of it.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5m}
RATE=${RATE:-200}
USERS=${USERS:-50}
BLIP=${BLIP:-5s}
EVERY=${EVERY:-1m}
PAUSE=${PAUSE:-}
OUT=${OUT:-bench/results}
command -v redis-server >/dev/null || { echo "soak: redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
. bench/build.sh
build ./cmd/caddy "$work"
build ./bench/soak "$work"
mkdir -p "$OUT"
{
	echo "soak, $(date -u +%Y-%m-%d), $(nproc) cores, commit $(git rev-parse --short HEAD), $(redis-server --version | awk '{print $3}')"
	"$work/soak" -caddy "$work/caddy" -for "$DURATION" -every "$EVERY" -rate "$RATE" -users "$USERS" -blip "$BLIP" ${PAUSE:+-pause} -json "$OUT/soak.json"
} | tee "$OUT/soak.txt"
