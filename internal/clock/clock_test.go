package clock

import (
	"context"
	"testing"
	"time"
)

func TestFromCarriesTheClock(t *testing.T) {
	t.Parallel()
	fallback := func() time.Time { return time.Unix(1, 0) }
	if got := From(context.Background(), fallback)(); !got.Equal(time.Unix(1, 0)) {
		t.Fatalf("without a clock: %v", got)
	}
	var c Test
	c.Advance(48 * time.Hour)
	now := From(With(context.Background(), c.Now), fallback)
	if d := time.Until(now()); d < 47*time.Hour || d > 49*time.Hour {
		t.Fatalf("the carried clock is %v ahead, want 48h", d)
	}
}

func TestStartOfHour(t *testing.T) {
	t.Parallel()
	var c Test
	c.StartOfHour()
	if m := c.Now().Sub(c.Now().Truncate(time.Hour)); m < time.Second || m > time.Minute {
		t.Fatalf("%v past the hour", m)
	}
	if c.Now().Before(time.Now()) {
		t.Fatal("the clock went back")
	}
}
