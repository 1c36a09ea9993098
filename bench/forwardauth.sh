#!/usr/bin/env bash
# The portal's forward-auth answer against oauth2-proxy's, side by side:
# the same check of a valid session (GET /.smsgate/auth, GET /oauth2/auth)
# as Caddy's forward_auth sends it, with its X-Forwarded-* headers and a
# browser's, straight to each server. Rounds are interleaved (the order
# rotates each round); each server is pinned to core 0, wrk to core 1. The
# CPU per check comes from /proc/<pid>/stat. Prints a table and the ratio
# smsgate/oauth2-proxy per round (median and spread). A third row, Caddy
# answering `respond 200` to the same request (the portal's Caddy, another
# site), is the floor: what Caddy's HTTP server costs before any check. A
# fourth, Go's own net/http answering 200 (bench/backend, the server
# oauth2-proxy is built on), is the floor under that.
#
#   bench/forwardauth.sh                 # 5 rounds of 5 s each
#   ROUNDS=9 DURATION=10s bench/forwardauth.sh
#   O2P=/tmp/oauth2-proxy bench/forwardauth.sh   # an oauth2-proxy built earlier
#
# Without O2P it builds oauth2-proxy v7.15.6 from the Go module proxy into
# the temporary folder (GOBIN=$work go install
# github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6): its code never enters
# this repository. It signs in with a password (--htpasswd-file), the
# session in its cookie, as a deployment with an OAuth provider has after
# the provider's redirect. Needs wrk. Targets 127.0.0.1 only; stops by
# itself.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-5s}
CONNS=${CONNS:-32}
OUT=${OUT:-bench/results}
O2P_VERSION=v7.15.6
. bench/setup.sh

if [ -n "${O2P:-}" ]; then
	cp "$O2P" "$work/oauth2-proxy"
else
	echo "building oauth2-proxy $O2P_VERSION (about a minute)…"
	(cd "$work" && GOBIN="$work" go install "github.com/oauth2-proxy/oauth2-proxy/v7@$O2P_VERSION")
fi
free_port o2p_port

taskset -c 0 "$work/caddy" run --config bench/Caddyfile >"$work/caddy.log" 2>&1 & caddy=$!; pids+=($caddy)
echo "bench:$("$work/caddy" hash-password --plaintext bench-password)" >"$work/htpasswd"
taskset -c 0 "$work/oauth2-proxy" --http-address="127.0.0.1:$o2p_port" --upstream=static://202 \
	--provider=google --client-id=bench --client-secret=bench --email-domain='*' \
	--cookie-secret="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_')" --cookie-secure=false \
	--htpasswd-file="$work/htpasswd" --reverse-proxy --set-xauthrequest \
	--request-logging=false --auth-logging=false >"$work/o2p.log" 2>&1 & o2p=$!; pids+=($o2p)
taskset -c 0 "$work/backend" -addr "127.0.0.1:$BENCH_PORT_BACKEND" >"$work/backend.log" 2>&1 & bare=$!; pids+=($bare)
wait_port "$BENCH_PORT_PORTAL" Caddy "$work/caddy.log" "$caddy"
wait_port "$o2p_port" oauth2-proxy "$work/o2p.log" "$o2p"
wait_port "$BENCH_PORT_BACKEND" backend "$work/backend.log" "$bare"

# The sessions: the gate's minted as in run.sh; oauth2-proxy's from its
# sign-in form.
gate_cookie="smsgate_session=$("$work/mint" -secret "$BENCH_SECRET" -realm bench.localhost)"
o2p_cookie=$(curl -s -o /dev/null -D - -d 'username=bench&password=bench-password' "http://127.0.0.1:$o2p_port/oauth2/sign_in" |
	sed -n 's/^Set-Cookie: \(_oauth2_proxy=[^;]*\).*/\1/p')
[ -n "$o2p_cookie" ] || { echo "bench: oauth2-proxy's sign-in set no cookie; see $work/o2p.log" >&2; cat "$work/o2p.log" >&2; exit 1; }

# What Caddy's forward_auth sends: the browser's headers and X-Forwarded-*.
headers=(-H 'X-Forwarded-Method: GET' -H 'X-Forwarded-Proto: https' -H 'X-Forwarded-Host: app.bench.localhost'
	-H 'X-Forwarded-Uri: /dashboard/42?tab=activity' -H 'X-Forwarded-For: 127.0.0.1'
	-H 'User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
	-H 'Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'
	-H 'Accept-Language: en-GB,en;q=0.5' -H 'Accept-Encoding: gzip, deflate, br, zstd')
declare -A url=([smsgate]="http://127.0.0.1:$BENCH_PORT_PORTAL/.smsgate/auth" [oauth2-proxy]="http://127.0.0.1:$o2p_port/oauth2/auth"
	[caddy-200]="http://127.0.0.1:$BENCH_PORT_CHECK/" [net/http-200]="http://127.0.0.1:$BENCH_PORT_BACKEND/")
declare -A cookie=([smsgate]="theme=dark; $gate_cookie" [oauth2-proxy]="theme=dark; $o2p_cookie" [caddy-200]="theme=dark; $gate_cookie" [net/http-200]="theme=dark; $gate_cookie")
declare -A pid=([smsgate]=$caddy [oauth2-proxy]=$o2p [caddy-200]=$caddy [net/http-200]=$bare)
servers=(smsgate oauth2-proxy caddy-200 net/http-200)
for s in "${servers[@]}"; do
	code=$(curl -s -o /dev/null -w '%{http_code}' "${headers[@]}" -H "Cookie: ${cookie[$s]}" "${url[$s]}" || true)
	[[ $code == 2* ]] || { echo "bench: $s answers the check with $code" >&2; exit 1; }
done

cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
ticks=$(getconf CLK_TCK)
mkdir -p "$OUT"
results="$OUT/forwardauth.tsv"
printf 'round\tserver\trps\trequests\tcpu_s\n' >"$results"
for round in $(seq "$ROUNDS"); do
	for i in "${!servers[@]}"; do
		s=${servers[$(((i + round) % ${#servers[@]}))]}
		before=$(cpu "${pid[$s]}")
		report=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"$DURATION" "${headers[@]}" -H "Cookie: ${cookie[$s]}" "${url[$s]}" || true)
		after=$(cpu "${pid[$s]}")
		non2xx=$(awk '/Non-2xx/ {print $4}' <<<"$report")
		[ -z "$non2xx" ] || { echo "bench: $s had $non2xx answers that were not 2xx" >&2; exit 1; }
		rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$report")
		requests=$(awk '/requests in/ {print $1}' <<<"$report")
		cpu_s=$(awk -v a="$before" -v b="$after" -v t="$ticks" 'BEGIN { print (b - a) / t }')
		printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$s" "$rps" "$requests" "$cpu_s" >>"$results"
		echo "round $round, $s: $rps checks/s"
	done
done
python3 - "$results" <<'EOF' | tee "$OUT/forwardauth.md"
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
us = lambda r: float(r["cpu_s"]) / float(r["requests"]) * 1e6
print("| server | checks/s (median) | spread | CPU per check (median) | spread |\n|---|---|---|---|---|")
for s in ("smsgate", "oauth2-proxy", "caddy-200", "net/http-200"):
    rs = [r for r in rows if r["server"] == s]
    rps, cpu = [float(r["rps"]) for r in rs], [us(r) for r in rs]
    print(f"| {s} | {statistics.median(rps):,.0f} | {min(rps):,.0f}–{max(rps):,.0f} | "
          f"{statistics.median(cpu):.1f} µs | {min(cpu):.1f}–{max(cpu):.1f} µs |")
rounds = sorted({r["round"] for r in rows}, key=int)
by = {(r["round"], r["server"]): us(r) for r in rows}
ratios = [by[(n, "smsgate")] / by[(n, "oauth2-proxy")] for n in rounds]
print(f"\nCPU per check, smsgate/oauth2-proxy (per round): median {statistics.median(ratios):.2f}, "
      f"spread {min(ratios):.2f}–{max(ratios):.2f}")
for s in ("caddy-200", "net/http-200"):
    ratios = [by[(n, s)] / by[(n, "oauth2-proxy")] for n in rounds]
    print(f"CPU per check, {s}/oauth2-proxy (per round): median {statistics.median(ratios):.2f}, "
          f"spread {min(ratios):.2f}–{max(ratios):.2f}")
EOF
