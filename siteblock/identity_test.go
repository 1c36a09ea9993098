package siteblock

import "testing"

// TestCopied: a header the identity reads is believed where it holds what
// the auth answer said, under its own name or one it was copied from; one
// the client sent itself, beside an answer that said something else or
// nothing, is not; one not sent names nobody and is not held against the
// request (an empty identity is refused anyway).
func TestCopied(t *testing.T) {
	t.Parallel()
	headers := TrustedHeaders("{http.request.header.Remote-User}", []string{"X-Auth-User"})
	for _, c := range []struct {
		name   string
		values map[string]string
		want   bool
	}{
		{"copied", map[string]string{"http.request.header.Remote-User": "alice", "http.reverse_proxy.header.Remote-User": "alice"}, true},
		{"copied from a renamed header", map[string]string{"http.request.header.Remote-User": "alice", "http.reverse_proxy.header.X-Auth-User": "alice"}, true},
		{"the client's own", map[string]string{"http.request.header.Remote-User": "alice"}, false},
		{"another than the answer's", map[string]string{"http.request.header.Remote-User": "alice", "http.reverse_proxy.header.Remote-User": "bob"}, false},
		{"not sent", map[string]string{"http.reverse_proxy.header.Remote-User": "alice"}, true},
	} {
		get := func(key string) (string, bool) { v, ok := c.values[key]; return v, ok }
		if got := Copied(headers, get); got != c.want {
			t.Errorf("%s: Copied %v, want %v", c.name, got, c.want)
		}
	}
}
