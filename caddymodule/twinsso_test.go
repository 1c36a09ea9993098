package caddymodule_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// The twin tests' SSO: a stub that passes a login's name as typed, the
// way an SSO whose logins ignore case does (alice's password typed as
// ALICE passes as ALICE), and the sites behind it.

// ssoStub is the address of an SSO stub that passes the X-Login header's
// name, as typed, in Remote-User where accepts takes it (401 where not).
func ssoStub(t *testing.T, accepts func(login string) bool) string {
	sso := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if login := r.Header.Get("X-Login"); accepts(login) {
			w.Header().Set("Remote-User", login)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(sso.Close)
	return strings.TrimPrefix(sso.URL, "http://")
}

// aliceSSO is an ssoStub whose logins ignore case: alice's in any case.
func aliceSSO(t *testing.T) string {
	return ssoStub(t, func(login string) bool { return strings.EqualFold(login, "alice") })
}

// behindSSO starts a site whose gate, its options lines (the store's, the
// provider's…), takes its users from the SSO at sso (forward_auth, the
// name in Remote-User) and greets them by that name.
func behindSSO(t *testing.T, sso string, lines ...string) *sitetest.Site {
	t.Helper()
	return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	route {
		forward_auth `+sso+` {
			uri /check
			copy_headers Remote-User
		}
		smsgate {
			identity {http.request.header.Remote-User}
			`+strings.Join(lines, "\n\t\t\t")+`
		}
		respond "Hello {http.request.header.Remote-User}"
	}
}`)
}

// ssoLogin is a browser that logs in at the SSO as name (X-Login).
func ssoLogin(t *testing.T, name string) *sitetest.Client {
	c := sitetest.NewClient(t, "")
	c.Header = http.Header{"X-Login": {name}}
	return c
}

// caseBlindHeldSite starts a site behind the case-blind SSO at sso, its
// gate in realm on storeLine's store wrapped in sitetest.HoldStore, whose
// folder (its hold and fail files) it returns too.
func caseBlindHeldSite(t *testing.T, sso, realm, storeLine string) (*sitetest.Site, string) {
	dir := t.TempDir()
	return behindSSO(t, sso, "realm "+realm, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1),
		"provider log {\n\t\t\t\tallow_public\n\t\t\t}"), dir
}
