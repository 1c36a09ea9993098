package caddymodule_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestASiteNamedInAnotherScript: a site address in another script than
// its xn-- form (bücher.localhost) is one Caddy serves (its host matcher
// takes the xn-- form browsers send), and the gate takes its passkeys'
// origin and its WebOTP line from it as browsers send it (its realm, a
// namespace, stays as written: a site that loaded with a public_origin
// keeps its users). It did not load ("field 'RPID' is not a valid domain
// string", naming the smsgate line), and its WebOTP line was "@bücher…",
// a host no browser matches. The text names the site as people write it
// (it said "Your xn--bcher-kva.localhost verification code"), and so does
// the recovery codes' file.
func TestASiteNamedInAnotherScript(t *testing.T) {
	sitetest.Parallel(t)
	// A cookie_domain in its own script is the same domain: it was refused
	// ("cookie_domain bücher.localhost does not cover this site
	// (xn--bcher-kva.localhost)").
	for _, option := range []string{"", "cookie_domain bücher.localhost"} {
		t.Run(option, func(t *testing.T) { signInAtBücher(t, option) })
	}
}

func signInAtBücher(t *testing.T, option string) {
	s := sitetest.Start(t, `http://bücher.localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		`+option+`
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}"
}`)
	c := sitetest.NewClient(t, "")
	base := s.WithPorts("http://xn--bcher-kva.localhost:{HTTP_PORT}")
	page := c.GetURL(base + "/.smsgate/login")
	sitetest.Expect(t, page, http.StatusOK, "")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, c.PostURL(base+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	texts := s.LogEntries("verification code")
	if len(texts) != 1 {
		t.Fatalf("%d texts", len(texts))
	}
	code := s.LastCode()
	if body, _ := texts[0]["body"].(string); !strings.HasSuffix(body, "@xn--bcher-kva.localhost #"+code) {
		t.Fatalf("the text's WebOTP line is not the host browsers send: %q", body)
	} else if !strings.Contains(body, "bücher.localhost") || strings.Count(body, "xn--") != 1 {
		t.Fatalf("the text names the site other than as people write it: %q", body)
	}
	sitetest.Expect(t, c.PostURL(base+"/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}), http.StatusSeeOther, "/")
	if res := c.GetURL(base + "/"); res.Text != "Hello, carol" {
		t.Fatalf("after sign-in: %d %q", res.StatusCode, res.Text)
	}
	// The recovery codes' file names the site as the texts do (it said
	// "Recovery codes of carol for xn--bcher-kva.localhost").
	devices := c.GetURL(base + "/.smsgate/devices")
	sitetest.Expect(t, devices, http.StatusOK, "")
	dtok := sitetest.CSRFField.FindStringSubmatch(devices.Text)[1]
	sitetest.Expect(t, c.PostURL(base+"/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {dtok}}), http.StatusSeeOther, "/.smsgate/recovery")
	if page := c.GetURL(base + "/.smsgate/recovery").Text; !strings.Contains(page, `data-header="Recovery codes of carol for bücher.localhost, made `) {
		t.Fatalf("the recovery codes' file does not name the site as people write it: %s", page)
	}
}
