"""Prints a loopback port that nothing listens on, for a server a bench
script starts: below the kernel's ephemeral range, as internal/harness
chooses, because a port from that range can be taken before the server
binds it by any outgoing connection on the machine, and stays taken in
TIME_WAIT for a minute after (on CI the suite's thousands of connections
did that to Caddy's bind). Ports given as arguments (given earlier to the
same script) are not chosen again.
"""
import random
import socket
import sys

LOW = 10000
high = 32768
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        high = max(LOW + 1000, int(f.read().split()[0]))
except (OSError, ValueError, IndexError):
    pass
taken = {int(a) for a in sys.argv[1:]}
for _ in range(1000):
    port = random.randrange(LOW, high)
    if port in taken:
        continue
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    sys.exit(0)
sys.exit("bench: no free port in [%d, %d)" % (LOW, high))
