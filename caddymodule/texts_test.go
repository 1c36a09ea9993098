package caddymodule_test

import (
	"net/http"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestOneRangeEverywhere: resend_cooldown and remember have one range,
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
		{"remember", "remember off 30d", `"remember": "720h", "remember_off": true`, ""},
	} {
		t.Run(c.caddyfile, func(t *testing.T) {
			want := c.want
			if want == "" {
				want = "wrong argument count"
			}
			sitetest.AssertLoadError(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
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

// quickstartExtras checks what the quickstart shows a newcomer besides the
// sign-in: its demo page links to the devices page, and the machine's
// address (127.0.0.1, ::1) answers with the way to localhost instead of
// Caddy's empty page.
func quickstartExtras(t *testing.T, c *sitetest.Client, demo *sitetest.Response) {
	t.Helper()
	sitetest.ExpectBody(t, demo, `<a href="/.smsgate/devices">Your devices</a>`)
	if res := c.Get("/.smsgate/devices"); res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the devices page the demo links to: %d", res.StatusCode)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		plain := harness.Browser(http.DefaultTransport) // caddytest's dialer knows only localhost
		res, err := plain.Get(c.WithPorts("http://" + host + ":{HTTP_PORT}/some/page?x=1"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := c.WithPorts("http://localhost:{HTTP_PORT}/some/page?x=1"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Fatalf("http://%s: %d to %q, want 302 to %s", host, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}
