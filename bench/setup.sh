# Sourced by run.sh and profile.sh: checks for wrk, builds (build.sh) Caddy,
# the backend and the token minter into build.sh's temporary folder ($work).
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

. bench/build.sh
caddy_into "$work"
build ./bench/backend "$work"
build ./bench/mint "$work"
export BENCH_SECRET=$(head -c 24 /dev/urandom | base64)
export BENCH_DATA=$work/data
# Free loopback ports for the Caddyfile's sites, the backend and the admin
# endpoint, so that two runs (or a test's) never collide.
. bench/ports.sh
for name in A B C D PORTAL CHECK BACKEND ADMIN; do
	free_port "BENCH_PORT_$name"
	export "BENCH_PORT_$name"
done

# wait_port PORT NAME LOGS [PID]: waits for something to answer on
# 127.0.0.1:PORT, up to a minute (a CI machine busy with the suite starts
# Caddy slowly). If process PID ends first, or the minute passes, it says
# which server and prints its logs (LOGS: files, space-separated) instead of letting a later curl fail
# with no word of why.
wait_port() {
	local port=$1 name=$2 log=$3 pid=${4:-}
	for _ in $(seq 600); do
		curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			echo "bench: $name ended before it answered on :$port; its log ($log):" >&2
			cat $log >&2 2>/dev/null || true
			exit 1
		fi
		sleep 0.1
	done
	echo "bench: $name does not answer on :$port after a minute; its log ($log):" >&2
	cat $log >&2 2>/dev/null || true
	exit 1
}
