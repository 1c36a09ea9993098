package caddymodule

import (
	"net/http"
	"time"
)

func newRequestWithCookie(header string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodGet, "http://localhost/", nil)
	r.Header.Set("Cookie", header)
	return r, err
}

// ShortenBodyTime makes the gate wait at most d for a POST's body, until
// the returned func restores it.
func ShortenBodyTime(d time.Duration) (restore func()) {
	was := bodyTime.Swap(int64(d))
	return func() { bodyTime.Store(was) }
}
