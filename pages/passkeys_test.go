package pages_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// passkeyCall posts a WebAuthn step's JSON (body nil: {}) from origin.
func passkeyCall(c *sitetest.Client, step, origin string, body []byte) *sitetest.Response {
	if body == nil {
		body = []byte("{}")
	}
	return c.PostJSON("/.smsgate/passkey/"+step, origin, json.RawMessage(body))
}

// registerPasskey signs c in as carol by text and adds auth as her passkey.
func registerPasskey(t *testing.T, s *sitetest.Site, c *sitetest.Client, auth *fakes.Authenticator) {
	t.Helper()
	sitetest.SignIn(t, s, c)
	c.Get("/.smsgate/devices") // the page the ceremony runs on: its flow
	origin := s.Base
	begin := passkeyCall(c, "register/begin", origin, nil)
	if begin.StatusCode != http.StatusOK {
		t.Fatalf("register/begin: %d %s", begin.StatusCode, begin.Text)
	}
	answer, err := auth.Create([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "register/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"added"`) {
		t.Fatalf("register/finish: %d %s", res.StatusCode, res.Text)
	}
}

// TestPasskeyAttacks: through a real Caddy, a software authenticator signs
// in with carol's passkey (discoverable, from the login page), and every
// kind of bad answer is refused with a clear 4xx and no session: another
// origin, another site's RP ID, a malformed answer, a replay, a cloned key
// (its counter gone back), and a ceremony nobody began.
func TestPasskeyAttacks(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, sitetest.AppSite)
	origin := s.WithPorts(s.Base)
	auth := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, sitetest.NewClient(t, ""), auth)

	// attempt runs a sign-in from the login page with answer, made from
	// the options by make; it returns the finish answer.
	attempt := func(make func(begin []byte) []byte) (*sitetest.Client, *sitetest.Response) {
		c := sitetest.NewClient(t, "")
		c.Get("/.smsgate/login")
		begin := passkeyCall(c, "login/begin", origin, nil)
		if begin.StatusCode != http.StatusOK || !strings.Contains(begin.Text, `"challenge"`) {
			t.Fatalf("login/begin: %d %s", begin.StatusCode, begin.Text)
		}
		return c, passkeyCall(c, "login/finish", origin, make([]byte(begin.Text)))
	}
	sign := func(a *fakes.Authenticator) func([]byte) []byte {
		return func(begin []byte) []byte {
			answer, err := a.Get(begin)
			if err != nil {
				t.Fatal(err)
			}
			return answer
		}
	}
	c, res := attempt(sign(auth))
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"verified"`) || c.Cookie("smsgate_session") == "" {
		t.Fatalf("a good passkey: %d %s", res.StatusCode, res.Text)
	}
	if res := c.Get("/"); res.StatusCode != http.StatusOK || res.Text != "Hello, carol (hwk)" {
		t.Fatalf("the app after a passkey: %d %q", res.StatusCode, res.Text)
	}

	refused := func(what string, c *sitetest.Client, res *sitetest.Response) {
		t.Helper()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "passkey was not accepted") || c.Cookie("smsgate_session") != "" {
			t.Fatalf("%s: %d %s", what, res.StatusCode, res.Text)
		}
	}
	var replay []byte
	_, _ = attempt(func(begin []byte) []byte { replay = sign(auth)(begin); return []byte("{}") })
	c, res = attempt(func([]byte) []byte { return replay })
	refused("an answer to another ceremony (a replay)", c, res)
	evil := *auth
	evil.Origin = "https://evil.example"
	c, res = attempt(sign(&evil))
	refused("another origin in the client data", c, res)
	other := *auth
	other.RPID = "evil.example"
	c, res = attempt(sign(&other))
	refused("another site's RP ID", c, res)
	c, res = attempt(func([]byte) []byte { return []byte(`{"id":"x","rawId":"x","type":"public-key","response":{}}`) })
	refused("a malformed answer", c, res)
	clone := *auth
	clone.Counter = 0 // the copy has not seen the original's signatures
	c, res = attempt(sign(&clone))
	refused("a cloned key (its counter gone back)", c, res)

	// A finish with no ceremony begun; an answer from another site's page.
	c = sitetest.NewClient(t, "")
	c.Get("/.smsgate/login")
	refused("a finish nobody began", c, passkeyCall(c, "login/finish", origin, replay))
	if res := passkeyCall(c, "login/begin", "https://evil.example", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a begin from another origin: %d %s", res.StatusCode, res.Text)
	}
	// The good one still works: nothing above changed the passkey.
	if c, res := attempt(sign(auth)); res.StatusCode != http.StatusOK || c.Cookie("smsgate_session") == "" {
		t.Fatalf("the good passkey after the attacks: %d %s", res.StatusCode, res.Text)
	}
}

// TestPasskeyRulesOfWebAuthn: a credential ID registers once (another
// user's is refused, WebAuthn §7.1 step 22), and where a passkey is the
// only factor (a login form) it must verify its user: an answer with UV=0
// is refused, and the options ask for verification.
func TestPasskeyRulesOfWebAuthn(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		user dave +14155552672
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
	origin := s.WithPorts(s.Base)
	carolKey := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, sitetest.NewClient(t, ""), carolKey)

	// dave, signed in, offers a credential with carol's ID as his own.
	s.Advance(time.Minute)
	dave := sitetest.NewClient(t, "")
	tok := dave.CSRF("/.smsgate/login")
	sitetest.Expect(t, dave.Post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, dave.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	dave.Get("/.smsgate/devices")
	begin := passkeyCall(dave, "register/begin", origin, nil)
	if !strings.Contains(begin.Text, `"userVerification":"required"`) {
		t.Fatalf("registration options on a login form do not require user verification: %s", begin.Text)
	}
	copycat := fakes.NewAuthenticator("localhost", origin)
	copycat.CopyID(carolKey)
	answer, err := copycat.Create([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(dave, "register/finish", origin, answer); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("registering another user's credential ID: %d %s", res.StatusCode, res.Text)
	}
	if page := dave.Get("/.smsgate/devices"); strings.Contains(page.Text, "Passkey 1") {
		t.Fatal("dave's devices list the copied passkey")
	}

	// At the login page, a passkey is the only factor: UV=0 is refused.
	login := func(a *fakes.Authenticator) (*sitetest.Client, *sitetest.Response) {
		c := sitetest.NewClient(t, "")
		c.Get("/.smsgate/login")
		begin := passkeyCall(c, "login/begin", origin, nil)
		if !strings.Contains(begin.Text, `"userVerification":"required"`) {
			t.Fatalf("login options on a login form do not require user verification: %s", begin.Text)
		}
		answer, err := a.Get([]byte(begin.Text))
		if err != nil {
			t.Fatal(err)
		}
		return c, passkeyCall(c, "login/finish", origin, answer)
	}
	absent := *carolKey
	absent.NoUserVerification = true
	if c, res := login(&absent); res.StatusCode != http.StatusBadRequest || c.Cookie("smsgate_session") != "" {
		t.Fatalf("a passkey answer without user verification: %d %s", res.StatusCode, res.Text)
	}
	if c, res := login(carolKey); res.StatusCode != http.StatusOK || c.Cookie("smsgate_session") == "" {
		t.Fatalf("carol's passkey, verified: %d %s", res.StatusCode, res.Text)
	}
}

// TestPasskeysOnASiteOriginWithAPath: site_origin is where links to the
// gate point (invites, delivery receipts), so it may have a path and a
// default port; passkeys are bound to its origin alone, as browsers send
// it. Such a site_origin was refused at load ("must be written as
// browsers send it"), though go-webauthn compares scheme and host alone.
func TestPasskeysOnASiteOriginWithAPath(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		site_origin http://localhost:{HTTP_PORT}/app
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
	origin := s.WithPorts(s.Base)
	auth := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, sitetest.NewClient(t, ""), auth)
	c := sitetest.NewClient(t, "")
	c.Get("/.smsgate/login")
	begin := passkeyCall(c, "login/begin", origin, nil)
	answer, err := auth.Get([]byte(begin.Text))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK || c.Cookie("smsgate_session") == "" {
		t.Fatalf("a passkey sign-in: %d %s", res.StatusCode, res.Text)
	}
}
