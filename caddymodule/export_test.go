package caddymodule

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// skew moves every Gate's clock forward, for tests that must wait out a
// cooldown without sleeping.
var skew atomic.Int64

func init() {
	now = func() time.Time { return clock.Now().Add(time.Duration(skew.Load())) }
}

// Advance moves the gates' clock forward by d.
func Advance(d time.Duration) { skew.Add(int64(d)) }

func newRequestWithCookie(header string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	r.Header.Set("Cookie", header)
	return r, err
}

// StartOfHour moves the gates' clock to just past the next full hour, so
// that a test of an hourly limit stays within one window.
func StartOfHour() {
	t := now()
	Advance(t.Truncate(time.Hour).Add(time.Hour + time.Second).Sub(t))
}

// Now is the gates' clock (with Advance's skew), for codes made in tests.
func Now() time.Time { return now() }

// ShortenBodyTime makes the gate wait at most d for a POST's body, until
// the returned func restores it.
func ShortenBodyTime(d time.Duration) (restore func()) {
	was := bodyTime.Swap(int64(d))
	return func() { bodyTime.Store(was) }
}
