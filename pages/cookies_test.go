package pages

import (
	"net/http"
	"testing"
)

// TestForwardedSecure: what a forward-auth check's headers say of the
// request the proxy asks about. Plain http at loopback only where every
// header says so; a header that says nothing, or cannot be read, says
// nothing of loopback (the check's own address decides, secure).
func TestForwardedSecure(t *testing.T) {
	for _, c := range []struct {
		h    map[string][]string
		want bool
	}{
		{nil, false},
		{map[string][]string{"X-Forwarded-Proto": {"https"}}, true},
		{map[string][]string{"X-Forwarded-Proto": {"http, HTTPS"}}, true},
		{map[string][]string{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"app.example.com"}}, true},
		{map[string][]string{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"localhost:8080, app.example.com"}}, true},
		{map[string][]string{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"a.sso.localhost:8080"}}, false},
		{map[string][]string{"X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"[::1]:8080"}}, false},
		{map[string][]string{"X-Forwarded-Host": {""}}, false},
		{map[string][]string{"X-Original-Url": {"https://localhost/"}}, true},
		{map[string][]string{"X-Original-Url": {"http://app.example.com/x"}}, true},
		{map[string][]string{"X-Original-Url": {"http://127.0.0.1:8080/x?y"}}, false},
		{map[string][]string{"X-Original-Url": {"http://%zz/"}}, true},
	} {
		if got := forwardedSecure(http.Header(c.h)); got != c.want {
			t.Errorf("forwardedSecure(%v) = %v, want %v", c.h, got, c.want)
		}
	}
}
