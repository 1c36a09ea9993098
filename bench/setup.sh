# Sourced by run.sh and profile.sh: checks for wrk, builds (build.sh) Caddy,
# the backend and the token minter into a temporary folder ($work) that is
# removed, with every process started into $pids, when the script exits.
command -v wrk >/dev/null || { echo "bench: wrk is not installed (apt-get install wrk)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

. bench/build.sh
caddy_into "$work"
build ./bench/backend "$work"
build ./bench/mint "$work"
export BENCH_SECRET=$(head -c 24 /dev/urandom | base64)
export BENCH_DATA=$work/data
# Free loopback ports for the Caddyfile's sites, the backend and the admin
# endpoint, so that two runs (or a test's) never collide.
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
for name in A B C D PORTAL CHECK BACKEND ADMIN; do export "BENCH_PORT_$name=$(free_port)"; done
