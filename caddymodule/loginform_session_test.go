package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// A realm with a portal behind basic_auth (its forward-auth check, which
// the first factor is not on, open to the apps, as the README shows) and a
// login form (identity none) for a kiosk: a session the kiosk issued was
// earned with carol's phone alone, and the portal's apps took it, though
// the portal asks for her password too. Now a gate with a first factor
// takes no login form's session, inline or at its check; carol signs in
// at the portal (password and code) and the apps open, without a loop.
// Before: the app said "Hello carol" to the kiosk's session.
func TestALoginFormsSessionOpensNoFirstFactorsGate(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.StartWith(t, "servers {\n\t\ttrusted_proxies static 127.0.0.1/32\n\t}", `http://auth.sso.localhost:{HTTP_PORT} {
	@pages not path /.smsgate/auth
	basic_auth @pages argon2id {
		carol `+sitetest.DemoHash+`
	}
	smsgate {
		realm sso.localhost
		cookie_domain sso.localhost
		portal_url http://auth.sso.localhost:{HTTP_PORT}
		redirect_hosts *.sso.localhost:*
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "portal {http.auth.user.id}"
}
http://kiosk.sso.localhost:{HTTP_PORT} {
	smsgate {
		realm sso.localhost
		cookie_domain sso.localhost
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "kiosk {http.auth.user.id}"
}
http://app.sso.localhost:{HTTP_PORT} {
	route {
		request_header -Remote-User
		forward_auth localhost:{HTTP_PORT} {
			uri /.smsgate/auth
			header_up Host auth.sso.localhost:{HTTP_PORT}
			copy_headers Remote-User
		}
		@unchecked not header Remote-User *
		respond @unchecked 401
		respond "Hello {http.request.header.Remote-User}"
	}
}`)
	c := sitetest.NewClient(t, "")
	kiosk := c.WithPorts("http://kiosk.sso.localhost:{HTTP_PORT}")
	portal := c.WithPorts("http://auth.sso.localhost:{HTTP_PORT}")
	app := c.WithPorts("http://app.sso.localhost:{HTTP_PORT}")
	signIn := func(site string) {
		t.Helper()
		var tok []string
		if site == kiosk {
			tok = sitetest.CSRFField.FindStringSubmatch(c.GetURL(site + "/.smsgate/login").Text)
			sitetest.Expect(t, c.PostURL(site+"/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok[1]}}), http.StatusSeeOther, "/.smsgate/verify")
		} else {
			sitetest.Expect(t, c.GetURL(site+"/.smsgate/login"), http.StatusSeeOther, "/.smsgate/verify")
			tok = sitetest.CSRFField.FindStringSubmatch(c.GetURL(site + "/.smsgate/verify").Text)
			s.Advance(time.Minute) // past the kiosk's code's cooldown
			sitetest.Expect(t, c.PostURL(site+"/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok[1]}}), http.StatusSeeOther, "/.smsgate/verify")
		}
		if res := c.PostURL(site+"/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok[1]}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("carol's code at %s: %d %s", site, res.StatusCode, res.Text)
		}
	}

	signIn(kiosk) // her phone alone
	sitetest.ExpectBody(t, c.GetURL(kiosk+"/"), "kiosk carol")
	if res := c.GetURL(app + "/"); res.StatusCode != http.StatusFound {
		t.Fatalf("the kiosk's session at the portal's app: %d %s, want 302 to the portal", res.StatusCode, res.Text)
	}
	c.User = "carol" // her password, at the portal
	if res := c.GetURL(portal + "/"); res.StatusCode != http.StatusFound {
		t.Fatalf("the kiosk's session at the portal itself: %d %s, want 302 to its login", res.StatusCode, res.Text)
	}
	signIn(portal)
	c.User = ""
	sitetest.ExpectBody(t, c.GetURL(app+"/"), "Hello carol")
	sitetest.ExpectBody(t, c.GetURL(kiosk+"/"), "kiosk carol") // the portal's, stronger, counts there
}
