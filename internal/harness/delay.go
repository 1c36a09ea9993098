package harness

import (
	"net"
	"testing"
	"time"
)

// Delay is a TCP proxy on loopback to target that holds every chunk the
// client sends for delay before passing it on (answers come back at
// once): each round trip through it costs delay more, as across a
// network. It stops when the test or benchmark ends.
func Delay(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	return proxy(tb, target, func(server, client net.Conn) { delayed(server, client, delay) })
}

// delayed copies from src to dst, each chunk sent delay after it came: a
// delay line, not a bandwidth limit (chunks behind it are not held longer).
func delayed(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		b  []byte
		at time.Time
	}
	line := make(chan chunk, 1024)
	go func() {
		defer dst.Close()
		for c := range line {
			time.Sleep(time.Until(c.at))
			if _, err := dst.Write(c.b); err != nil {
				return
			}
		}
	}()
	defer close(line)
	for {
		buf := make([]byte, 32<<10)
		n, err := src.Read(buf)
		if n > 0 {
			line <- chunk{buf[:n], time.Now().Add(delay)}
		}
		if err != nil {
			return
		}
	}
}
