package pages_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// Through a real Caddy (review29): five sources (127.0.0.2-6) posting forged
// receipts took the five lines of every 5 s window the moment it opened
// (each is told again exactly when its own 5 s end); 127.0.0.9, posting a
// forged receipt after them in every window, was never named, only counted
// in other_sources; now the last line of a window is its. The order that
// hid it is forced, not waited for: the gates' clock moves a window at a
// time (four windows, 20 s), and in each the five post first, at once and
// twice each, then 127.0.0.9. (Before, the five posted every 5 ms for 16 s
// of real time: 7-8 s of CPU, and the order left to the scheduler.)
func TestFiveForgersDoNotHideASixthThroughCaddy(t *testing.T) {
	sitetest.Parallel(t)
	s := receiptsSite(t)
	var forgers []*sitetest.Client
	for i := 2; i <= 6; i++ {
		forgers = append(forgers, from(t, fmt.Sprint("127.0.0.", i)))
	}
	victim := from(t, "127.0.0.9")
	for range 4 {
		var wg sync.WaitGroup
		for _, c := range forgers {
			wg.Go(func() {
				forgeReceipt(t, s, c)
				forgeReceipt(t, s, c)
			})
		}
		wg.Wait()
		forgeReceipt(t, s, victim)
		s.Advance(5 * time.Second) // a window of forged lines (forgedEvery)
	}
	others := 0
	for _, l := range s.LogEntries("delivery receipt refused: its signature is wrong") {
		if n, ok := l["other_sources"].(float64); ok {
			others += int(n)
		}
	}
	if got := forgedFrom(s, "127.0.0.9"); len(got) == 0 {
		t.Errorf("4 forged receipts from 127.0.0.9, one a window after the five, wrote no warning naming it (other_sources summed: %d)", others)
	}
}
