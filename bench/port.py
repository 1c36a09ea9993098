"""Prints a loopback port that nothing listens on, for a server a bench
script starts: below the kernel's ephemeral range, as internal/harness
chooses, because a port from that range can be taken before the server
binds it by any outgoing connection on the machine, and stays taken in
TIME_WAIT for a minute after (on CI the suite's thousands of connections
did that to Caddy's bind). Ports given as arguments (given earlier to the
same script) are not chosen again.

The port is reserved as internal/harness reserves its own (an abstract
unix socket named for it, lock_linux.go), for as long as the script whose
PID follows --for runs: the tests' Caddys bind their ports only when a
config is loaded, so a port chosen by a check alone was taken from under
them by a bench script running beside them (`go test ./...` runs
bench/smoke_test.go beside caddymodule's tests: "bind: address already in
use"), and a test could take one a script had chosen before its server
bound it.
"""
import os
import random
import socket
import sys
import time

LOW = 10000


def reserve(port):
    """The port's reservation, or None where another process holds it."""
    lock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        lock.bind("\0smsgate-test-port-%d" % port)
        lock.listen()
    except OSError:
        lock.close()
        return None
    return lock


def listening(port):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        s.listen()
        return False
    except OSError:
        return True
    finally:
        s.close()


def hold(lock, owner):
    """Keeps lock in a process of its own until the process owner ends."""
    if os.fork() > 0:
        lock.close()  # the child's copy holds it
        return
    os.setsid()
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)  # the script's $(…) ends without waiting for us
    while True:
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass
        time.sleep(0.5)


def main(args):
    owner = None
    if args[:1] == ["--for"]:
        owner, args = int(args[1]), args[2:]
    high = 32768
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            high = max(LOW + 1000, int(f.read().split()[0]))
    except (OSError, ValueError, IndexError):
        pass
    taken = {int(a) for a in args}
    for _ in range(1000):
        port = random.randrange(LOW, high)
        if port in taken:
            continue
        lock = reserve(port)
        if lock is None:
            continue
        if listening(port):
            lock.close()
            continue
        if owner is None:
            lock.close()
        else:
            hold(lock, owner)
        print(port, flush=True)
        return 0
    sys.exit("bench: no free port in [%d, %d)" % (LOW, high))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
