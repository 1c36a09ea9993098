"""Reads `go tool pprof -raw` on stdin; prints a sample count.

total: every sample; gate: samples with Gate.ServeHTTP on the stack; own:
those of them that are not in the next handler Gate.ServeHTTP called (the
reverse proxy, through Caddy's route wrappers), i.e. the gate's own work
on an admitted request.
"""
import re
import sys

what = sys.argv[1]
# The next handler as Gate.ServeHTTP calls it: Caddy's wrapped route.
NEXT = ("HandlerFunc.ServeHTTP", "wrapMiddleware", "wrapRoute", "reverseproxy")
text = sys.stdin.read()
# -raw prints "Samples:" then one block per stack: "  count duration: id id id ..."
# followed by "Locations" mapping ids to functions.
samples = text.split("Locations")[0]
locations = text.split("Locations")[1] if "Locations" in text else ""
funcs = {}
for line in locations.splitlines():
    m = re.match(r"\s*(\d+): 0x[0-9a-f]+ M=\d+ (\S+)", line)
    if m:
        funcs.setdefault(m.group(1), []).append(m.group(2))
    else:
        m2 = re.match(r"\s{5,}(\S+) \S+:\d+", line)
        if m2 and funcs:
            last = list(funcs)[-1]
            funcs[last].append(m2.group(1))
total = gate = own = 0
for line in samples.splitlines():
    m = re.match(r"\s*(\d+)\s+\S+: ([\d ]+)$", line)
    if not m:
        continue
    n = int(m.group(1))
    names = [f for i in m.group(2).split() for f in funcs.get(i, [])]
    total += n
    # Stacks run leaf first: what Gate.ServeHTTP called is just before it.
    at = [i for i, f in enumerate(names) if "caddymodule.(*Gate).ServeHTTP" in f]
    if at:
        gate += n
        callee = names[at[-1] - 1] if at[-1] > 0 else ""
        if not any(k in callee for k in NEXT):
            own += n
print({"total": total, "gate": gate, "own": own}[what])
