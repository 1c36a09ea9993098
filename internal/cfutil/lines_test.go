package cfutil

import (
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

func TestLinesOf(t *testing.T) {
	at := func(line int) caddyfile.Token { return caddyfile.Token{File: "Caddyfile", Line: line} }
	l := Lines{"": at(3), "realm": at(4), "allowed_regions voice": at(9), "allowed_regions sms": at(7), "allowed_regionsx": at(5)}
	for key, want := range map[string]int{
		"realm":                 4, // the option itself
		"allowed_regions":       7, // the first of its kind, not a longer name
		"allowed_regions voice": 9,
		"code_ttl":              3, // not written: the directive
		"":                      3,
	} {
		if got := l.Of(key).Line; got != want {
			t.Errorf("Of(%q): line %d, want %d", key, got, want)
		}
	}
}

func TestLinesBoth(t *testing.T) {
	at := func(line int) caddyfile.Token { return caddyfile.Token{File: "Caddyfile", Line: line} }
	l := Lines{"user a": at(4), "user b": at(6)}
	if got, want := l.Both("user a", "user b", "users", 0, 1), "Caddyfile:4 and Caddyfile:6"; got != want {
		t.Errorf("Both, both written: %q, want %q", got, want)
	}
	if got, want := l.Both("user a", "user c", "users", 0, 2), "users[0] and users[2]"; got != want {
		t.Errorf("Both, one not written: %q, want %q", got, want)
	}
	if got, want := Lines(nil).Both("user a", "user b", "users", 1, 3), "users[1] and users[3]"; got != want {
		t.Errorf("Both, from JSON: %q, want %q", got, want)
	}
}
