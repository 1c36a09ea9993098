"""The report of bench/burst.sh: per store and limits, what the sign-ins
came to (medians over the rounds), then the goals as ratios Badger/Redis.

    python3 bench/burst.py runs.jsonl SECONDS
"""
import json
import statistics
import sys

runs = [json.loads(line) for line in open(sys.argv[1])]
seconds = int(sys.argv[2])


def cpu(run, k):
    """Caddy's CPU per answered attempt in second k of the offered load."""
    per = [s for s in run.get("per_second", []) if s["s"] == k]
    return per[0]["cpu_ms_per_attempt"] if per and per[0]["answered"] else float("nan")


def cpu3(run, ks):
    """Caddy's CPU per answered attempt over the seconds ks, together."""
    per = [s for s in run.get("per_second", []) if s["s"] in ks]
    answered = sum(s["answered"] for s in per)
    return sum(s["cpu_ms"] for s in per) / answered if answered else float("nan")


def ratio(a, b):
    return a / b if b else float("nan")


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


rows = {}
for r in runs:
    rows.setdefault((r["limits"], r["store"]), []).append(r["run"])

print(f"{'limits':<8} {'store':<7} {'attempts':>8} {'signed in':>9} {'refused':>8} {'failed':>6} {'signed in/s':>11} "
      f"{'answered/s':>10} {'whole p50':>9} {'whole p99':>9} {'CPU/attempt 1st s':>17} {'last s':>7} {'last/1st':>8}")
for (limits, store), rs in sorted(rows.items()):
    first, last = [cpu(r, 0) for r in rs], [cpu(r, seconds - 1) for r in rs]
    failed = sum(sum(r["failed"].values()) for r in rs)
    print(f"{limits:<8} {store:<7} {med([r['attempts'] for r in rs]):>8.0f} {med([r['signed_in'] for r in rs]):>9.0f} "
          f"{med([sum(r['refused'].values()) for r in rs]):>8.0f} {failed:>6} "
          f"{med([r['signed_in_per_s'] for r in rs]):>11.1f} "
          f"{med([(r['signed_in'] + sum(r['refused'].values())) / r['seconds'] for r in rs]):>10.1f} "
          f"{med([r['signin_p50_ms'] for r in rs]):>7.1f}ms {med([r['signin_p99_ms'] for r in rs]):>7.1f}ms "
          f"{med(first):>15.2f}ms {med(last):>5.2f}ms {med([ratio(b, a) for a, b in zip(first, last)]):>8.2f}")
    for r in rs:
        bad = {**r["failed"]}
        if bad:
            print(f"{'':17}failed: {bad}")
    refused = {}
    for r in rs:
        for k, v in r["refused"].items():
            refused[k] = refused.get(k, 0) + v
    if refused:
        print(f"{'':17}refused by limit, all rounds: {refused}")

print("\ngoals (medians of the rounds)")
for limits in sorted({k[0] for k in rows}):
    b, r = rows.get((limits, "badger"), []), rows.get((limits, "redis"), [])
    if not b or not r:
        continue
    failed = sum(sum(x["failed"].values()) for x in b + r)
    speed = ratio(med([x["signed_in_per_s"] for x in b]), med([x["signed_in_per_s"] for x in r]))
    growth = med([ratio(cpu(x, seconds - 1), cpu(x, 0)) for x in b])
    first3, last3 = range(0, 3), range(seconds - 3, seconds)
    growth3 = med([ratio(cpu3(x, last3), cpu3(x, first3)) for x in b])
    each = ", ".join(f"{ratio(cpu(x, seconds - 1), cpu(x, 0)):.2f}" for x in b)
    print(f"  {limits} limits: failed sign-ins {failed} (goal 0); Badger/Redis sign-ins per second {speed:.2f} (goal >= 0.9); "
          f"Badger CPU per attempt, last second / first {growth:.2f} (goal <= 1.1; each round {each}), "
          f"last 3 s / first 3 s {growth3:.2f}")
