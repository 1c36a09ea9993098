package caddymodule_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
)

// behindAProxy is the neighbour site's gate behind a TLS-terminating
// proxy that asks it at a loopback address with that address as its Host
// (nginx's default for `proxy_pass http://localhost:PORT`; here Caddy's
// reverse_proxy told to do the same): the gate's site is
// http://localhost, its public_origin the https site browsers see.
const behindAProxy = neighbourApp + ` {
	tls %s
	reverse_proxy localhost:{HTTP_PORT} {
		header_up Host {upstream_hostport}
	}
}
http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		user carol +14155552671
		user mallory +14155552672
		store badger {DIR}
		public_origin ` + neighbourApp + `
		provider log {
			allow_public
		}
	}
	respond "Hello, {http.auth.user.id}! cookies=[{http.request.header.Cookie}]"
}`

// TestAGateBehindAProxyAtLoopbackKeepsItsCookiesSecure: browsers see the
// site over https (public_origin), but the proxy in front asks the gate
// at a loopback Host over plain http. The gate took that request for plain
// http at localhost, where browsers keep no Secure cookie: the session was
// written under its old name without Secure (sent over plain http too),
// and an old-name session issued since counted — a neighbour host's
// planted session (Domain=example.com) signed the visitor in as its user.
// The browser's scheme is public_origin's: the cookies are Secure and
// prefixed there, and a planted old-name session counts for nothing.
func TestAGateBehindAProxyAtLoopbackKeepsItsCookiesSecure(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, fmt.Sprintf(behindAProxy, certificate(t)))
	planter, visitor := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	signInOverTLS(t, s, planter, "mallory")
	signInOverTLS(t, s, visitor, "carol")
	app, _ := url.Parse(visitor.WithPorts(neighbourApp + "/"))
	for _, c := range visitor.HTTP.Jar.Cookies(app) {
		if c.Name == pages.SessionCookie {
			t.Fatalf("the session is written under its old name at an https site: %s", c.Name)
		}
	}
	mallory := hostSession(planter)
	if mallory == "" || hostSession(visitor) == "" {
		t.Fatal("no session cookie under its __Host- name at an https site")
	}
	plant(t, visitor, mallory)
	res := visitor.GetURL(visitor.WithPorts(neighbourApp + "/private/page"))
	sitetest.ExpectBody(t, res, "Hello, carol!")
	if strings.Contains(res.Text, "smsgate") || res.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", res.StatusCode, res.Text)
	}
}
