package cfutil

import (
	"strings"
	"testing"
)

func TestValidatingIsCaddysValidateOnly(t *testing.T) {
	for args, want := range map[string]bool{
		"caddy validate --config Caddyfile":          true,
		"caddy adapt --config Caddyfile --validate":  true,
		"caddy adapt --validate=true":                true,
		"caddy adapt --config Caddyfile":             false,
		"caddy adapt --validate=false":               false,
		"caddy run --config Caddyfile":               false,
		"caddy reload --config Caddyfile":            false,
		"caddy start":                                false,
		"caddy smsgate list --realm r":               false,
		"/tmp/go-build/caddymodule.test -test.run=X": false,
		"caddy": false,
	} {
		if got := validating(strings.Fields(args)); got != want {
			t.Errorf("%q: validating %v, want %v", args, got, want)
		}
	}
}
