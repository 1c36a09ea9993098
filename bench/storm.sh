#!/usr/bin/env bash
# Sign-in storms: two Caddy instances on one redis-server, real sign-ins
# (bench/storm: a code asked for on one instance, read from the log
# provider's line, typed on the other) at 10, 100 and 1,000 a second,
# while wrk keeps an admitted session's requests flowing on both. Then a
# burst from one IP and a run past the global budget show that the limits
# hold exactly (the budget run finds LEFT codes left, 300, and asks for
# 200 more), and 100,000 sessions are held to measure their memory.
# Prints a report and writes it to bench/results/storm.txt.
#
#   bench/storm.sh                 # phases of 10 s (1,000/s: 5 s)
#   PHASE=20s bench/storm.sh
#   RATES="5" PHASE=1s SESSIONS=50 LEFT=20 CADDY=/tmp/caddy bench/storm.sh   # a smoke run
#
# The sites are named localhost (a passkey's RP ID cannot be an IP) and
# reached on 127.0.0.1. CADDY names a Caddy binary to use instead of
# building one.
# Needs wrk and redis-server (apt-get install wrk redis-server). Everything
# listens on 127.0.0.1, on free ports; it stops by itself.
set -euo pipefail
cd "$(dirname "$0")/.."
PHASE=${PHASE:-10s}
RATES=${RATES:-10 100 1000}
SESSIONS=${SESSIONS:-100000}
LEFT=${LEFT:-300}
OUT=${OUT:-bench/results}
for tool in wrk redis-server redis-cli; do
	command -v "$tool" >/dev/null || { echo "storm: $tool is not installed (apt-get install wrk redis-server)" >&2; exit 1; }
done

. bench/build.sh
caddy_into "$work"
build ./bench/storm "$work"
. bench/ports.sh
free_port rport
redis-server --bind 127.0.0.1 --port "$rport" --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" &
redis=$!
pids+=($redis)
export STORM_SECRET=$(head -c 24 /dev/urandom | base64)

# Every sign-in is a different user with a different number.
seconds=${PHASE%s}
# A phase at 1,000 a second or more lasts half as long.
phase_of() { if [ "$1" -ge 1000 ]; then echo $(((seconds + 1) / 2))s; else echo "${seconds}s"; fi; }
rated=0
for rate in $RATES; do d=$(phase_of "$rate"); rated=$((rated + rate * ${d%s})); done
budget=$((rated + 20 + LEFT)) # the storms, the IP burst's 20, and LEFT for the budget run
users=$((SESSIONS > rated + LEFT + 1200 ? SESSIONS : rated + LEFT + 1200))
# Users are u and their number in letters (ua, ub, … uba): a message says
# a name's letters only.
awk -v n="$users" 'function name(i, s) { s = ""; do { s = sprintf("%c", 97 + i % 26) s; i = int(i / 26) } while (i > 0); return "u" s }
	BEGIN { for (i = 0; i < n; i++) printf "user %s +1415%07d\n", name(i), 2000000 + i }' >"$work/users"
declare -A base addr log cpid admin
for name in a b; do
	free_port p
	base[$name]="http://localhost:$p"
	addr[$name]="127.0.0.1:$p"
	free_port ap
	admin[$name]="127.0.0.1:$ap"
	log[$name]="$work/$name.log"
	touch "${log[$name]}"
	cat >"$work/$name.Caddyfile" <<CADDY
{
	admin ${admin[$name]}
	auto_https off
	servers {
		trusted_proxies static 127.0.0.1/32
	}
	log {
		output file ${log[$name]}
		format json
	}
}
http://localhost:$p {
	bind 127.0.0.1
	smsgate {
		identity none
		realm storm.localhost
		signing_key {env.STORM_SECRET}
		store redis 127.0.0.1:$rport
		provider log
		message_template "storm {{.User}} {{.Code}}"
		limit ip 20 1h
		limit user 10 1h
		limit number 10 1h
		limit country 1000000 1h
		limit global_enrolled $budget 1h
		# The storm's sign-ins come from few addresses: strangers' caps off.
		limit stranger_ip off
		limit stranger_net off
		limit strangers off
		import $work/users
	}
	respond "ok {http.auth.user.id}"
}
CADDY
	"$work/caddy" run --config "$work/$name.Caddyfile" >"$work/$name.stderr" 2>&1 &
	cpid[$name]=$!
	pids+=(${cpid[$name]})
done
# get NAME PATH [curl options]: a GET to instance NAME, on 127.0.0.1.
get() { curl -s --resolve "localhost:${addr[$1]#127.0.0.1:}:127.0.0.1" "${@:3}" "${base[$1]}$2"; }
for name in a b; do
	for _ in $(seq 300); do get "$name" /.smsgate/login -o /dev/null && break; sleep 0.1; done
done
# The realm (storm.localhost) is not the sites' host's (localhost): its
# session cookie has a name of its own, which mint prints with the value.
cookie="Cookie: $("$work/storm" mint -secret "$STORM_SECRET" -realm storm.localhost)"
for name in a b; do
	code=$(get "$name" / -o /dev/null -w '%{http_code}' -H "$cookie")
	[ "$code" = 200 ] || { echo "storm: ${base[$name]} answers $code with a session" >&2; cat "$work/$name.stderr" >&2; exit 1; }
done

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# The live heap of an instance, just after a collection (pprof's gc=1).
heap() {
	curl -s -o /dev/null "http://${admin[$1]}/debug/pprof/heap?gc=1"
	curl -s "http://${admin[$1]}/debug/vars" | python3 -c 'import json, sys; print(json.load(sys.stdin)["memstats"]["HeapAlloc"])'
}
redis_mem() { redis-cli -p "$rport" info memory | awk -F: '/^used_memory:/ {print $2}' | tr -d '\r'; }
# wrk on both instances, in the background, for the length of a phase.
flow() {
	wrk_pids=()
	for name in a b; do
		wrk -t1 -c16 -d"$1" -H "$cookie" -H "Host: ${base[$name]#http://}" "http://${addr[$name]}/" >"$work/wrk.$name" 2>&1 &
		wrk_pids+=($!)
	done
}
wrk_rps() { awk '/^Requests\/sec/ {s += $2} END {printf "%.0f", s}' "$work/wrk.a" "$work/wrk.b"; }
wrk_bad() { awk '/Non-2xx/ {s += $4} END {print s + 0}' "$work/wrk.a" "$work/wrk.b"; }
logs="${log[a]},${log[b]}"

report="$work/report.txt"
{
	echo "sign-in storms, $(date -u +%Y-%m-%d), $(nproc) cores, commit $(git rev-parse --short HEAD)"
	echo "two Caddy instances and one redis-server on this machine; wrk -t1 -c16 on each instance"
	echo
} >"$report"

# Quiet: admitted requests alone, before and after the storms (the mean
# is the baseline: these machines drift).
quiet_run() {
	local r0
	r0=$(cpu "$redis")
	flow "$PHASE"
	wait "${wrk_pids[@]}"
	printf '%s %s' "$(wrk_rps)" "$(awk -v a="$r0" -v b="$(cpu "$redis")" -v t="$ticks" -v d="$seconds" 'BEGIN { printf "%.1f", 100 * (b - a) / t / d }')"
}
read -r quiet1 redis_quiet <<<"$(quiet_run)"
redis_before_storms=$(redis_mem)

from=0
for rate in $RATES; do
	d=$(phase_of "$rate")
	r0=$(cpu "$redis")
	flow "$d"
	json=$("$work/storm" signins -a "${base[a]}" -b "${base[b]}" -logs "$logs" -rate "$rate" -for "$d" -from "$from")
	wait "${wrk_pids[@]}"
	r1=$(cpu "$redis")
	echo "$json" >>"$work/runs.jsonl"
	attempts=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["attempts"])' "$json")
	from=$((from + attempts))
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$json" "$(wrk_rps)" "$r0" "$r1" "${d%s}" "$(wrk_bad)" >>"$work/phases.tsv"
done

read -r quiet2 _ <<<"$(quiet_run)"
printf 'quiet (no sign-ins), before and after the storms: %s and %s admitted req/s on both instances; Redis CPU %s%%\n' "$quiet1" "$quiet2" "$redis_quiet" | tee -a "$report"
python3 - "$work/phases.tsv" "$quiet1" "$quiet2" "$ticks" <<'PY' | tee -a "$report"
import json, sys
quiet = (float(sys.argv[2]) + float(sys.argv[3])) / 2
ticks = float(sys.argv[4])
print(f"admitted: requests/s on both instances under wrk during the storm, and their share of the quiet mean ({quiet:.0f})\n")
print(f"{'offered/s':<10} {'signed in':>9} {'per s':>7} {'send p50':>9} {'send p99':>9} {'check p50':>9} {'check p99':>9} {'whole p50':>9} {'whole p99':>9} {'admitted':>13} {'Redis CPU':>9}")
for line in open(sys.argv[1]):
    js, rps, r0, r1, d, bad = line.rstrip("\n").split("\t")
    r, rps = json.loads(js), float(rps)
    cpu = 100 * (float(r1) - float(r0)) / ticks / float(d)
    print(f"{r['offered_per_s']:<10} {r['signed_in']:>9} {r['signed_in_per_s']:>7.1f} {r['send_p50_ms']:>7.1f}ms {r['send_p99_ms']:>7.1f}ms "
          f"{r['check_p50_ms']:>7.1f}ms {r['check_p99_ms']:>7.1f}ms {r['signin_p50_ms']:>7.1f}ms {r['signin_p99_ms']:>7.1f}ms "
          f"{f'{rps:.0f} ({100 * rps / quiet:.0f}%)':>13} {cpu:>8.1f}%")
    bad_list = [f"{k}: {v}" for k, v in {**r['refused'], **r['failed']}.items()]
    if bad_list or int(bad):
        print(f"{'':10} not signed in: {', '.join(bad_list) or 'none'}; admitted requests refused: {bad}")
PY
redis_after_storms=$(redis_mem)

# Limits hold exactly: 100 sign-ins from one IP at once, across both
# instances, against "limit ip 20 1h".
json=$("$work/storm" signins -a "${base[a]}" -b "${base[b]}" -logs "$logs" -burst 100 -ip 192.0.2.77 -from "$from")
from=$((from + 100))
echo "$json" >>"$work/runs.jsonl"
python3 - "$json" <<'PY' | tee -a "$report"
import json, sys
r = json.loads(sys.argv[1])
ok = r["codes_sent"] == 20 and r["refused"].get("ip", 0) == 80
print(f"\n100 at once from one IP (limit ip 20 1h): {r['codes_sent']} codes sent, {r['refused'].get('ip', 0)} refused by the IP limit — {'exact' if ok else 'NOT EXACT'}")
PY

# The global budget: every code either instance sent so far counts; send
# past what is left, at once.
sent=$(cat "${log[a]}" "${log[b]}" | grep -c '"msg":"verification code"' || true)
left=$((budget - sent))
json=$("$work/storm" signins -a "${base[a]}" -b "${base[b]}" -logs "$logs" -burst $((left + 200)) -from "$from")
echo "$json" >>"$work/runs.jsonl"
total=$(cat "${log[a]}" "${log[b]}" | grep -c '"msg":"verification code"' || true)
python3 - "$json" "$budget" "$sent" "$left" "$total" <<'PY' | tee -a "$report"
import json, sys
r = json.loads(sys.argv[1]); budget, sent, left, total = map(int, sys.argv[2:6])
ok = total == budget and r["codes_sent"] == left and r["refused"].get("global", 0) == 200
print(f"global budget {budget}/h: {sent} codes sent before, {left + 200} asked for at once, {r['codes_sent']} sent, "
      f"{r['refused'].get('global', 0)} refused by the budget; {total} codes in both logs — {'exact' if ok else 'NOT EXACT'}")
PY

# Memory: 100,000 sessions, each admitted once on each instance.
redis_before=$(redis_mem); a_before=$(heap a); b_before=$(heap b)
json=$("$work/storm" sessions -a "${base[a]}" -b "${base[b]}" -secret "$STORM_SECRET" -realm storm.localhost -n "$SESSIONS")
redis_after=$(redis_mem); a_after=$(heap a); b_after=$(heap b)
python3 - "$json" "$redis_before" "$redis_after" "$a_before" "$a_after" "$b_before" "$b_after" <<'PY' | tee -a "$report"
import json, sys
r = json.loads(sys.argv[1]); rb, ra, ab, aa, bb, ba = map(int, sys.argv[2:8])
n = r["sessions"]; cached = min(n, 10000)
grow = ((aa - ab) + (ba - bb)) / 2
print(f"\n{n} sessions, each admitted once on each instance ({r['admitted']} admitted, {r['refused']} refused, {r['seconds']:.0f} s):")
print(f"  Redis used_memory {rb / 2**20:.2f} → {ra / 2**20:.2f} MiB: {(ra - rb) / n:.1f} bytes a session (a session is its cookie)")
print(f"  live heap after a collection, A {ab / 2**20:.1f} → {aa / 2**20:.1f} MiB, B {bb / 2**20:.1f} → {ba / 2**20:.1f} MiB: "
      f"{grow / n:.0f} bytes a session per instance, {grow / cached:.0f} bytes for each of the {cached} the verified-token cache keeps")
PY
python3 - "$redis_before_storms" "$redis_after_storms" "$rated" <<'PY' | tee -a "$report"
import sys
b, a, n = map(int, sys.argv[1:4])
print(f"\nRedis used_memory across the storms: {b / 2**20:.1f} → {a / 2**20:.1f} MiB, {(a - b) / n:.0f} bytes a sign-in "
      "(limit windows, cooldowns, tries: all expire within the hour)")
PY
mkdir -p "$OUT"
cp "$report" "$OUT/storm.txt"
cp "$work/runs.jsonl" "$OUT/storm-runs.jsonl"
