package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2/caddytest"

	"github.com/smsgate/caddy-smsgate/caddymodule"
	"github.com/smsgate/caddy-smsgate/internal/harness"
)

// TestSwitchWaitsLikeResend: "Call me instead" (and "Text me instead")
// obeys the cooldown a resend does, so that a text is given the time to
// arrive before a call is paid for. Before, text, call and text again went
// out within seconds. The refusal says how long; the switch button counts
// down; once the cooldown is over the call goes out.
func TestSwitchWaitsLikeResend(t *testing.T) {
	s := basicSite(t, "channels sms voice")
	c := newClient(t, "demo")
	res, tok := enrollWith(t, c, "+14155552671")
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 1 {
		t.Fatalf("%d messages after the enrollment, want 1", n)
	}
	page := c.get("/.smsgate/verify")
	if !strings.Contains(page.body, `class="link countdown" data-resend-in="30" data-label="Call me instead"`) {
		t.Fatalf("the switch button does not count down the cooldown:\n%s", page.body)
	}
	caddymodule.Advance(3 * time.Second)
	res = c.post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "27" {
		t.Fatalf("a call 3 s after the text: %d, Retry-After %q, want 429 and 27", res.StatusCode, res.Header.Get("Retry-After"))
	}
	expectBody(t, res, "Please wait 27 seconds before requesting another code.")
	expectBody(t, res, `data-resend-in="27" data-label="Call me instead"`)
	if n := s.sent(); n != 1 {
		t.Fatalf("%d messages after a call refused, want 1", n)
	}
	// The text's code still works meanwhile; here the user waits instead.
	caddymodule.Advance(28 * time.Second)
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"call"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 2 {
		t.Fatalf("%d messages after the cooldown's call, want 2", n)
	}
	// And back to a text: the same wait again.
	res = c.post("/.smsgate/verify", url.Values{"action": {"sms"}, "csrf": {tok}})
	if res.StatusCode != http.StatusTooManyRequests || s.sent() != 2 {
		t.Fatalf("a text right after the call: %d, %d messages; want 429 and 2", res.StatusCode, s.sent())
	}
	expectBody(t, res, `data-label="Text me instead"`)
	// The call's code signs in.
	expectEnrolled(t, c.post("/.smsgate/verify", url.Values{"code": {lastCodeIn(s.logEntries("verification code"))}, "csrf": {tok}}), "/")
}

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
			assertLoadError(t, `http://localhost:{HTTP_PORT} {
	basic_auth {
		demo `+demoHash+`
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
			cfg := withPorts(`{"admin": {"listen": "localhost:{ADMIN_PORT}"}, "apps": {"http": {"http_port": {HTTP_PORT}, "servers": {"s": {"listen": [":{HTTP_PORT}"], "routes": [{"handle": [
	{"handler": "smsgate", "realm": "localhost", "identity": "none", "store": {"module": "badger", "path": "` + t.TempDir() + `"}, "providers": [{"provider": "log"}], ` + c.json + `}]}]}}}}}`)
			caddytest.AssertLoadError(t, cfg, "json", want)
		})
	}
}

// TestLoginReadsNationalNumbers: at a login form (identity none), a number
// typed as people know it, (415) 555-2671, is read as the enrollment page
// reads one: in the country the page's picker says (preset from the
// browser's language). Before, it was taken for a name nobody has: the
// page said a code was sent, and none was.
func TestLoginReadsNationalNumbers(t *testing.T) {
	s := carolSite(t, "")
	c := newClient(t, "")
	c.header = http.Header{"Accept-Language": {"en-US"}}
	page := c.get("/.smsgate/login")
	if !strings.Contains(page.body, `<option value="US" selected>`) {
		t.Fatalf("the login page's country picker is not preset to the browser's country:\n%s", page.body)
	}
	tok := csrfField.FindStringSubmatch(page.body)[1]
	expect(t, c.post("/.smsgate/login", url.Values{"username": {"(415) 555-2671"}, "region": {"US"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 1 {
		t.Fatalf("%d codes sent to carol's number typed in national form, want 1", n)
	}
	expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")

	// Another country's reading of the same digits is not carol's number.
	caddymodule.Advance(time.Minute)
	d := newClient(t, "")
	tok = d.csrf("/.smsgate/login")
	expect(t, d.post("/.smsgate/login", url.Values{"username": {"(415) 555-2671"}, "region": {"GB"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if n := s.sent(); n != 1 {
		t.Fatalf("%d codes after a GB reading of a US number, want still 1", n)
	}
}

// quickstartExtras checks what the quickstart shows a newcomer besides the
// sign-in: its demo page links to the devices page, and the machine's
// address (127.0.0.1, ::1) answers with the way to localhost instead of
// Caddy's empty page.
func quickstartExtras(t *testing.T, c *client, demo *response) {
	t.Helper()
	expectBody(t, demo, `<a href="/.smsgate/devices">Your devices</a>`)
	if res := c.get("/.smsgate/devices"); res.StatusCode != http.StatusOK && res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the devices page the demo links to: %d", res.StatusCode)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		plain := harness.Browser(http.DefaultTransport) // caddytest's dialer knows only localhost
		res, err := plain.Get(withPorts("http://" + host + ":{HTTP_PORT}/some/page?x=1"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := withPorts("http://localhost:{HTTP_PORT}/some/page?x=1"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != want {
			t.Fatalf("http://%s: %d to %q, want 302 to %s", host, res.StatusCode, res.Header.Get("Location"), want)
		}
	}
}

// TestTrustOfferedByDefault: with no remember line, the verify step offers
// "Trust this browser for 30 days", unticked; `remember off` offers
// nothing, and a browser that asks anyway is not trusted. (require and
// max_age routes ignoring a trust, now the default's, are
// TestRequireAStrongerKind and TestTrustedBrowser.)
func TestTrustOfferedByDefault(t *testing.T) {
	for _, c := range []struct {
		options string
		offered bool
	}{{"", true}, {"remember off", false}} {
		s := basicSite(t, c.options)
		b := newClient(t, "demo")
		res, tok := enrollWith(t, b, "+14155552671")
		expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
		page := b.get("/.smsgate/verify")
		box := `<input type="checkbox" name="remember" value="1"> Trust this browser for 30 days`
		if strings.Contains(page.body, box) != c.offered || strings.Contains(page.body, `name="remember" value="1" checked`) {
			t.Fatalf("%q: trust offered %v (unticked), want %v:\n%s", c.options, !c.offered, c.offered, page.body)
		}
		expectEnrolled(t, b.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "remember": {"1"}, "csrf": {tok}}), "/")
		if got := b.cookie("smsgate_trust") != ""; got != c.offered {
			t.Fatalf("%q: a trust cookie %v, want %v", c.options, got, c.offered)
		}
	}
}
