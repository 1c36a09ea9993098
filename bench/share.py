"""Reads `go tool pprof -raw` on stdin (or, with a second argument perf,
`perf script -F comm,tid,ip,sym`); prints a sample count.

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


def count(stacks):
    """Counts total, gate and own samples over (count, [function, ...])
    stacks, leaf first."""
    total = gate = own = 0
    for n, names in stacks:
        total += n
        # Stacks run leaf first: what Gate.ServeHTTP called is just before it.
        at = [i for i, f in enumerate(names) if "caddymodule.(*Gate).ServeHTTP" in f]
        if at:
            gate += n
            callee = names[at[-1] - 1] if at[-1] > 0 else ""
            if not any(k in callee for k in NEXT):
                own += n
    return {"total": total, "gate": gate, "own": own}


if len(sys.argv) > 2 and sys.argv[2] == "perf":
    # `perf script -F ip,sym` prints one block per sample: a header line,
    # then one frame a line (leaf first), then a blank line.
    stacks, names = [], None
    for line in text.splitlines() + [""]:
        if not line.strip():
            if names is not None:
                stacks.append((1, names))
            names = None
        elif line[0] not in " \t":
            names = []
        elif names is not None:
            parts = line.split(None, 1)
            if len(parts) == 2:
                names.append(parts[1].rsplit(" (", 1)[0])
    print(count(stacks)[what])
    sys.exit(0)
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
stacks = []
for line in samples.splitlines():
    m = re.match(r"\s*(\d+)\s+\S+: ([\d ]+)$", line)
    if not m:
        continue
    stacks.append((int(m.group(1)), [f for i in m.group(2).split() for f in funcs.get(i, [])]))
print(count(stacks)[what])
