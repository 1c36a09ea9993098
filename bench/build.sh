# Sourced by the scripts: $work is a temporary folder, removed with every
# process started into $pids, and every background job, when the script
# exits (a SIGKILL runs no trap: bench/smoke_test.go runs the scripts with
# harness.StartGroup, which kills what is left when the script or the test
# binary ends, however it ends). `build PKG DIR` puts the program of
# package PKG (./cmd/caddy, ./bench/storm…) in DIR, named for the package.
# It is `go run` with cp as its runner rather than `go build`: go run keeps
# the linked program in Go's build cache, so the next run (or the next
# test) copies it instead of linking Caddy again. `caddy_into DIR` is the
# Caddy in $CADDY if set, else one built from this tree.
build() { go run -exec "cp -t '$2'" "$1"; }
caddy_into() { if [ -n "${CADDY:-}" ]; then cp "$CADDY" "$1/caddy"; else build ./cmd/caddy "$1"; fi; }

work=$(mktemp -d)
# Caddy's data directory is the run's, never the user's: a gate remembers
# its stores there (smsgate-continuity/, by the store's config: a Redis
# by its address), and a later run's new Redis on a port an earlier run's
# had would look wiped to it (bench/smoke_test.go checks nothing is
# written in the one it gives).
export XDG_DATA_HOME="$work/data"
pids=()
cleanup() { for p in "${pids[@]}" $(jobs -p); do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
