package caddymodule_test

import (
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAGateBehindAnAnswerIsRefused: a handler that answers every request
// (reverse_proxy, file_server, respond) placed before the gate, in a route
// (written order) or by an `order` option, leaves the gate to run never:
// the app is served with no code asked. Such a Caddyfile loaded without a
// word; it is refused with the answering handler's line. A handler with a
// matcher before the gate (a health check) is a choice, and loads.
func TestAGateBehindAnAnswerIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	gate := `smsgate {
			provider log
		}`
	auth := `basic_auth argon2id {
		alice ` + sitetest.DemoHash + `
	}`
	for _, tc := range []struct{ name, cfg, answer, line string }{
		{"reverse_proxy above the gate in a route", `http://localhost:8080 {
	` + auth + `
	route {
		reverse_proxy localhost:9
		` + gate + `
	}
}`, "reverse_proxy", "Caddyfile:6"},
		{"order smsgate after reverse_proxy", `{
	order smsgate after reverse_proxy
}
http://localhost:8080 {
	` + auth + `
	reverse_proxy localhost:9
	` + gate + `
}`, "reverse_proxy", "Caddyfile:8"},
		{"respond in a route above the gate", `http://localhost:8080 {
	` + auth + `
	route {
		route {
			respond "app"
		}
		` + gate + `
	}
}`, "respond", "Caddyfile:7"},
		{"respond /* above the gate", `http://localhost:8080 {
	` + auth + `
	route {
		respond /* "app"
		` + gate + `
	}
}`, "respond", "Caddyfile:6"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := adaptFile(t, tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.answer+" answers every request before smsgate") ||
				!strings.Contains(err.Error(), "protects nothing") || !strings.Contains(err.Error()+",", "/"+tc.line+",") {
				t.Fatalf("error %v, want %s answering, at %s", err, tc.answer, tc.line)
			}
		})
	}
	for _, cfg := range []string{`http://localhost:8080 {
	` + auth + `
	route {
		respond /health "ok"
		` + gate + `
		reverse_proxy localhost:9
	}
}`, `http://localhost:8080 {
	` + auth + `
	reverse_proxy localhost:9
	` + gate + `
}`} {
		if _, err := adaptFile(t, cfg); err != nil {
			t.Errorf("%s\n%v", cfg, err)
		}
	}
}
