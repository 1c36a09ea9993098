package caddymodule_test

import (
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestOneRangeEverywhere: each duration has one range (Gate.numbers),
// checked where the config is (Provision), so that JSON and the Caddyfile
// refuse the same values with the same words. A cooldown of 0s used to
// load and mean 30s; JSON took a remember of an hour that the Caddyfile
// refused.
func TestOneRangeEverywhere(t *testing.T) {
	for _, c := range []struct{ option, caddyfile, json, want string }{
		{"resend_cooldown", "resend_cooldown 0s", `"resend_cooldown": "0.5s"`, "resend_cooldown must be from 1s to 1h0m0s, not "},
		{"resend_cooldown", "resend_cooldown 2h", `"resend_cooldown": "2h"`, "resend_cooldown must be from 1s to 1h0m0s, not 2h0m0s"},
		{"remember", "remember 12h", `"remember": "12h"`, "remember must be from 24h0m0s to 9600h0m0s, not 12h0m0s"},
		{"remember", "remember 401d", `"remember": "9624h"`, "remember must be from 24h0m0s to 9600h0m0s, not 9624h0m0s"},
		// A negative step_up or max_age, which the Caddyfile refused, loaded from
		// JSON and turned the step-up off: phones changed with any session.
		{"step_up", "step_up -1m", `"step_up": "-1m"`, "step_up must be at least 1s, not -1m0s"},
		{"max_age", "max_age -5m", `"max_age": "-5m"`, "max_age must be at least 1s, not -5m0s"},
		{"max_age", "max_age 1ns", `"max_age": "1ns"`, "max_age must be at least 1s, not 1ns"},
		{"key_rotation", "key_rotation -1h", `"key_rotation": "-1h"`, "key_rotation must be at least 1m0s, not -1h0m0s"},
		{"lockout", "lockout 1ns", `"lockout": "1ns"`, "lockout must be at least 1s, not 1ns"},
		{"session_lifetime", "session_lifetime -1h", `"session_lifetime": "-1h"`, "session_lifetime must be from 1s to 9600h0m0s, not -1h0m0s"},
		{"remember", "remember off 30d", `"remember": "720h", "remember_off": true`, ""},
	} {
		t.Run(c.caddyfile, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = "wrong argument count"
			}
			sitetest.AssertLoadError(t, `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		demo `+sitetest.DemoHash+`
	}
	smsgate {
		store badger {DIR}
		provider log
		`+c.caddyfile+`
	}
}`, want)
			if c.want == "" {
				want = "remember is both off and 720h0m0s"
			}
			cfg := sitetest.WithPorts(`{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "` + t.TempDir() + `"}, "providers": [{"provider": "log"}], ` + c.json + `}]}]}}}}}`)
			sitetest.AssertJSONLoadError(t, cfg, want)
		})
	}
}
