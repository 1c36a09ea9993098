package siteblock

import "testing"

// TestDialKeyEqualsSpellingsOfOneUpstream: the spellings of one app's
// address that Caddy dials the same are one key, and other apps are not.
func TestDialKeyEqualsSpellingsOfOneUpstream(t *testing.T) {
	t.Setenv("SMSGATE_TEST_APP", "localhost:3000")
	same := []string{"localhost:3000", "127.0.0.1:3000", "[::1]:3000", ":3000", "LOCALHOST:3000",
		"http://localhost:3000", "http://127.0.0.1:3000/", "https://localhost:3000", "tcp/localhost:3000",
		"{env.SMSGATE_TEST_APP}", "0.0.0.0:3000"}
	for _, up := range same {
		if got := DialKey(up); got != DialKey(same[0]) {
			t.Errorf("DialKey(%q) = %q, want %q", up, got, DialKey(same[0]))
		}
	}
	pairs := [][2]string{
		{"app", "app:80"}, {"http://app", "app:80"}, {"https://app", "app:443"}, {"App:8080", "http://app:8080"},
	}
	for _, p := range pairs {
		if DialKey(p[0]) != DialKey(p[1]) {
			t.Errorf("DialKey(%q) = %q, DialKey(%q) = %q: want equal", p[0], DialKey(p[0]), p[1], DialKey(p[1]))
		}
	}
	other := []string{"localhost:3001", "127.0.0.2:3000", "errors:3000", "https://localhost", "unix//run/app.sock",
		"{http.request.header.X-Up}", "udp/localhost:3000"}
	for _, up := range other {
		if DialKey(up) == DialKey(same[0]) {
			t.Errorf("DialKey(%q) = %q, the same as %q's", up, DialKey(up), same[0])
		}
	}
	if DialKey("{http.request.header.X-Up}") != DialKey("{http.request.header.X-Up}") {
		t.Error("a request placeholder is not equal to itself")
	}
}
