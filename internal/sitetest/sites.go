package sitetest

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// The sites and steps that tests of more than one package share (the
// pages' HTTP tests and the browser tests).

// AppSite has carol, with a phone, who names herself on the login form;
// its page says who signed in and how ({http.auth.user.amr}).
const AppSite = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`

// NamedUsersSite has users who name themselves on the login form: alice
// (an admin) and carol; its signing key is fixed, so that a test can sign
// a session as an older release did, without listing it.
const NamedUsersSite = `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user alice +14155550101
		user carol +14155552671
		admins alice
		signing_key "a signing key of at least thirty-two bytes, for tests"
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`

// InvitingSite is NamedUsersSite's login form (alice, an admin, and
// carol: the config gives their phones, so they get no invite) with a
// gate of its realm on its store behind basic_auth under /dan/ (pages
// under /dan/.smsgate/), which signs in dan (password demo), whom no
// config line names: an invite for him is made, and leads there.
var InvitingSite = RealmSite(BasicAuthGate("dan", signingKey), signingKey)

const signingKey = `signing_key "a signing key of at least thirty-two bytes, for tests"`

// RealmSite is a site whose realm, localhost, has a login form at its
// root naming alice (an admin) and carol (with the smsgate options
// more), after the handles of other.
func RealmSite(other, more string) string {
	return `http://localhost:{HTTP_PORT} {
	` + other + `
	handle {
		smsgate {
			identity none
			realm localhost
			user alice +14155550101
			user carol +14155552671
			admins alice
			` + more + `
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id}!"
	}
}`
}

// BasicAuthGate is a handle of a gate of realm localhost on the store
// (with the smsgate options more) behind basic_auth under /user/ (pages
// under /user/.smsgate/), which signs in user (password demo) and names
// no users: one RealmSite's form does not admit.
func BasicAuthGate(user, more string) string {
	return `handle /` + user + `* {
		basic_auth argon2id {
			` + user + ` ` + DemoHash + `
		}
		smsgate {
			realm localhost
			path_prefix /` + user + `/.smsgate/
			` + more + `
			store badger {DIR}
			provider log
		}
		respond "` + user + `'s"
	}`
}

// NamedForms is a site whose realm, localhost, is served by two login
// forms on one store, each naming its users: alice (an admin) and carol at
// the root, bob under /bob/ (pages under /bob/.smsgate/). extra is more of
// the site block, before the root's handle.
func NamedForms(extra string) string {
	return RealmSite(`handle /bob* {
		smsgate {
			identity none
			realm localhost
			path_prefix /bob/.smsgate/
			user bob +14155550199
			store badger {DIR}
			provider log
		}
		respond "bob's"
	}
	`+extra, "")
}

// Browsers' User-Agents: the console names them.
const (
	FirefoxOnLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	SafariOnIPhone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// ProviderSite is the quickstart with a provider block (in options)
// instead of `log`. The gateway's delivery receipts and the JWKS are left
// out of the first factor, as the README says to: a gateway has no
// password.
func ProviderSite(t *testing.T, options string) *Site {
	return Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	@people not path /.smsgate/twilio/status /.smsgate/jwks.json
	basic_auth @people argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		store badger {DIR}
		%[2]s
	}
	respond "Hello, {http.auth.user.id}!"
}`, DemoHash, options))
}

// TwilioVoiceSite is a ProviderSite that texts and calls through the fake
// Twilio f.
func TwilioVoiceSite(t *testing.T, f *fakes.Twilio, extra string) *Site {
	t.Helper()
	return ProviderSite(t, fmt.Sprintf(`channels sms voice
		%s
		# Twilio's magic test numbers are +1 500 "personal numbers".
		number_types sms mobile fixed_line_or_mobile personal_number
		provider twilio {
			account_sid %s
			auth_token %s
			from +15005550006
			voice
			base_url %s
		}`, extra, f.AccountSID, f.AuthToken, f.URL))
}

// SignInAs signs c in as user on the login form, by text.
func SignInAs(t *testing.T, s *Site, c *Client, user string) {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	tok := c.CSRF("/.smsgate/login")
	Expect(t, c.Post("/.smsgate/login", url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
}

// WrongCode is a six-digit code that is not right.
func WrongCode(right string) string {
	if right == "000000" {
		return "000001"
	}
	return "000000"
}
