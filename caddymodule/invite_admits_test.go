package caddymodule_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// otherRealm is a gate of another realm on the same store as
// sitetest.NamedForms's, naming dave.
const otherRealm = `handle /other* {
		smsgate {
			identity none
			realm other.localhost
			path_prefix /other/.smsgate/
			user dave +14155550198
			store badger {DIR}
			provider log
		}
		respond "other"
	}`

// ssoGate is a gate of realm localhost behind a first factor (basic_auth,
// which signs in dave), on the same store as sitetest.NamedForms's.
const ssoGate = `
	handle /sso* {
		basic_auth argon2id {
			dave ` + sitetest.DemoHash + `
		}
		smsgate {
			realm localhost
			path_prefix /sso/.smsgate/
			store badger {DIR}
			provider log
		}
		respond "sso"
	}`

// TestAnInviteNoGateSignsInIsRefused: through a real Caddy's admin API, an
// invite for a name no login form of the realm signs in (dave: the realm's
// two login forms name alice and carol, and bob; dave is named only by a
// gate of another realm on the same store) is refused with words that name
// him and say why (409), and no link is made: at every gate of the realm
// it could never be used. Those they name get none either: the config
// gives them their phones (invite36); nor dave in his own realm, for the
// same reason. A gate behind a first factor (basic_auth here, an SSO
// elsewhere) signs in whomever that names, which its config does not say:
// with one in the realm, dave's invite is made, and leads there (the
// phone another realm's config gives him does not count). Before, dave's
// invite was made, and its link refused at every gate
// (TestAnInviteForANameTheFormDoesNotAdmit).
func TestAnInviteNoGateSignsInIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, sitetest.NamedForms(otherRealm))
	invite := func(user string) (int, string) {
		t.Helper()
		return sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"localhost","user":"`+user+`","ttl":"1h"}`)
	}
	st, out := invite("dave")
	t.Logf("dave: %d %s", st, out)
	for _, want := range []string{`no invite for \"dave\"`, "no gate of realm localhost signs in dave", "could never be used", "identity none", "dave is not one of them"} {
		if st != http.StatusConflict || !strings.Contains(out, want) {
			t.Errorf("an invite for a name no login form of the realm names: %d %s, want 409 saying %q", st, out, want)
		}
	}
	if strings.Contains(out, "token=") {
		t.Errorf("a refused invite has a link: %s", out)
	}
	const given = "this user's phone is set in the configuration"
	for _, user := range []string{"bob", "carol"} {
		if st, out := invite(user); st != http.StatusConflict || !strings.Contains(out, given) || strings.Contains(out, "token=") {
			t.Errorf("an invite for %s, whose phone the config gives: %d %s, want 409 saying %q", user, st, out, given)
		}
	}
	if st, out := sitetest.Admin(t, "POST", "/smsgate/invites", `{"realm":"other.localhost","user":"dave"}`); st != http.StatusConflict || !strings.Contains(out, given) {
		t.Errorf("an invite for dave in his own realm, whose config gives his phone: %d %s", st, out)
	}

	sitetest.Start(t, sitetest.NamedForms(otherRealm+ssoGate))
	if st, out := invite("dave"); st != http.StatusOK || !strings.Contains(out, `"path":"/sso/.smsgate/invite?token=`) {
		t.Errorf("an invite for dave where a first factor's gate serves the realm: %d %s", st, out)
	}
}

// TestAPhoneForANameNoGateSignsInIsRefused: through a real Caddy's admin
// API, provisioning a phone (`caddy smsgate add`, POST /smsgate/users) for
// a name no login form of the realm signs in (dave, as in
// TestAnInviteNoGateSignsInIsRefused) is refused with words that name him
// and say why (409), and no phone is written: it could never sign him in.
// A phone for a name one of them names is provisioned (bob's gate is not
// the main one), as is dave's in his own realm, and dave's where a first
// factor's gate serves the realm. Before, dave's phone was written, and
// no gate ever let him sign in with it.
func TestAPhoneForANameNoGateSignsInIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Start(t, sitetest.NamedForms(otherRealm))
	add := func(realm, user string) (int, string) {
		t.Helper()
		return sitetest.Admin(t, "POST", "/smsgate/users", `{"realm":"`+realm+`","user":"`+user+`","phone":"+14155550123"}`)
	}
	st, out := add("localhost", "dave")
	t.Logf("dave: %d %s", st, out)
	for _, want := range []string{`no phone for \"dave\"`, "no gate of realm localhost signs in dave", "could never be used to sign in", "identity none", "dave is not one of them"} {
		if st != http.StatusConflict || !strings.Contains(out, want) {
			t.Errorf("a phone for a name no login form of the realm names: %d %s, want 409 saying %q", st, out, want)
		}
	}
	if _, users := sitetest.Admin(t, "GET", "/smsgate/users?realm=localhost", ""); strings.Contains(users, "dave") {
		t.Errorf("a refused phone was written: %s", users)
	}
	for realm, user := range map[string]string{"localhost": "bob", "other.localhost": "dave"} {
		if st, out := add(realm, user); st != http.StatusOK || !strings.Contains(out, `"id"`) {
			t.Errorf("a phone for %s in %s: %d %s", user, realm, st, out)
		}
	}

	sitetest.Start(t, sitetest.NamedForms(otherRealm+ssoGate))
	if st, out := add("localhost", "dave"); st != http.StatusOK {
		t.Errorf("a phone for dave where a first factor's gate serves the realm: %d %s", st, out)
	}
}
