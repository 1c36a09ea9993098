"""Prints the processes that carry the mark in $SMSGATE_CI_MARK in their
environment, other than this one and the shells that run it: processes
the tests started (every child inherits the mark) that outlived them.
.ci/run fails if any is left once the tests have ended."""
import os
import sys

mark = b"SMSGATE_CI_MARK=" + os.environ["SMSGATE_CI_MARK"].encode() + b"\0"


def parent(pid):
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return int(stat[stat.rindex(b")") + 2:].split()[1])


mine = set()
pid = os.getpid()
while pid > 1:
    mine.add(pid)
    try:
        pid = parent(pid)
    except OSError:
        break

left = []
for name in os.listdir("/proc"):
    if not name.isdigit() or int(name) in mine:
        continue
    try:
        with open(f"/proc/{name}/environ", "rb") as f:
            env = f.read()
        if (b"\0" + env).find(b"\0" + mark) < 0:
            continue
        with open(f"/proc/{name}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        left.append(name + " " + cmdline)
    except OSError:
        continue  # ended meanwhile, or not ours to read
for line in left:
    print(line)
sys.exit(1 if left else 0)
