package pages_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// Through a real Caddy (review29): five sources (127.0.0.2-6) posting forged
// receipts every 5 ms take the five lines of every 5 s window the moment
// it opens (each is told again exactly when its own 5 s end); 127.0.0.9,
// posting a forged receipt once a second for 16 s, was never named, only
// counted in other_sources; now the last line of a window is its.
func TestFiveForgersDoNotHideASixthThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	s := receiptsSite(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 2; i <= 6; i++ {
		c := from(t, fmt.Sprint("127.0.0.", i))
		wg.Go(func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					forgeReceipt(t, s, c)
				}
			}
		})
	}
	victim := from(t, "127.0.0.9")
	time.Sleep(300 * time.Millisecond)
	for range 16 {
		forgeReceipt(t, s, victim)
		time.Sleep(time.Second)
	}
	close(stop)
	wg.Wait()
	others := 0
	for _, l := range s.LogEntries("delivery receipt refused: its signature is wrong") {
		if n, ok := l["other_sources"].(float64); ok {
			others += int(n)
		}
	}
	if got := forgedFrom(s, "127.0.0.9"); len(got) == 0 {
		t.Errorf("16 forged receipts from 127.0.0.9 over 16 s wrote no warning naming it (other_sources summed: %d)", others)
	}
}
