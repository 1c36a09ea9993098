package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// windowsOfTwoSpans: two gates on one store count one key with two spans
// (limit ip 3 1h at one, 3 1m at the other): the short one's count trims
// nothing the long one counts.
func windowsOfTwoSpans(t *testing.T, s store.Store, k string) {
	ctx := context.Background()
	start := time.Unix(1_800_000_000, 0)
	slide := func(id string, at, span time.Duration) (bool, time.Duration) {
		t.Helper()
		ok, wait, err := s.Slide(ctx, k, id, 3, span, start.Add(at))
		if err != nil {
			t.Fatal(err)
		}
		return ok, wait
	}
	for i := range 3 {
		if ok, _ := slide(fmt.Sprint("hour", i), time.Duration(i)*time.Minute, time.Hour); !ok {
			t.Fatalf("event %d refused under the limit", i)
		}
	}
	if ok, _ := slide("minute", 5*time.Minute, time.Minute); !ok {
		t.Fatal("the minute's window refused with none in its minute")
	}
	if ok, wait := slide("hour3", 6*time.Minute, time.Hour); ok || wait != 55*time.Minute {
		t.Fatalf("the hour's window after the minute's: ok=%v wait=%v; want refused, 55m until two of its 4 have left it", ok, wait)
	}
	if ok, wait := slide("minute2", 5*time.Minute+30*time.Second, time.Minute); !ok || wait != 0 {
		t.Fatalf("the minute's window: ok=%v wait=%v, want its second event", ok, wait)
	}
}
