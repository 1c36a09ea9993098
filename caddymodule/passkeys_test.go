package caddymodule_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
)

// passkeyCall posts a WebAuthn step's JSON (body nil: {}) from origin.
func passkeyCall(c *client, step, origin string, body []byte) *response {
	if body == nil {
		body = []byte("{}")
	}
	return c.postJSON("/.smsgate/passkey/"+step, origin, json.RawMessage(body))
}

// registerPasskey signs c in as carol by text and adds auth as her passkey.
func registerPasskey(t *testing.T, s *site, c *client, auth *fakes.Authenticator) {
	t.Helper()
	signIn(t, s, c)
	c.get("/.smsgate/devices") // the page the ceremony runs on: its flow
	origin := withPorts(base)
	begin := passkeyCall(c, "register/begin", origin, nil)
	if begin.StatusCode != http.StatusOK {
		t.Fatalf("register/begin: %d %s", begin.StatusCode, begin.body)
	}
	answer, err := auth.Create([]byte(begin.body))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(c, "register/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.body, `"added"`) {
		t.Fatalf("register/finish: %d %s", res.StatusCode, res.body)
	}
}

// TestPasskeyAttacks: through a real Caddy, a software authenticator signs
// in with carol's passkey (discoverable, from the login page), and every
// kind of bad answer is refused with a clear 4xx and no session: another
// origin, another site's RP ID, a malformed answer, a replay, a cloned key
// (its counter gone back), and a ceremony nobody began.
func TestPasskeyAttacks(t *testing.T) {
	s := startSite(t, appSite)
	origin := withPorts(base)
	auth := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, newClient(t, ""), auth)

	// attempt runs a sign-in from the login page with answer, made from
	// the options by make; it returns the finish answer.
	attempt := func(make func(begin []byte) []byte) (*client, *response) {
		c := newClient(t, "")
		c.get("/.smsgate/login")
		begin := passkeyCall(c, "login/begin", origin, nil)
		if begin.StatusCode != http.StatusOK || !strings.Contains(begin.body, `"challenge"`) {
			t.Fatalf("login/begin: %d %s", begin.StatusCode, begin.body)
		}
		return c, passkeyCall(c, "login/finish", origin, make([]byte(begin.body)))
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
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, `"verified"`) || c.cookie("smsgate_session") == "" {
		t.Fatalf("a good passkey: %d %s", res.StatusCode, res.body)
	}
	if res := c.get("/"); res.StatusCode != http.StatusOK || res.body != "Hello, carol (hwk)" {
		t.Fatalf("the app after a passkey: %d %q", res.StatusCode, res.body)
	}

	refused := func(what string, c *client, res *response) {
		t.Helper()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.body, "passkey was not accepted") || c.cookie("smsgate_session") != "" {
			t.Fatalf("%s: %d %s", what, res.StatusCode, res.body)
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
	c = newClient(t, "")
	c.get("/.smsgate/login")
	refused("a finish nobody began", c, passkeyCall(c, "login/finish", origin, replay))
	if res := passkeyCall(c, "login/begin", "https://evil.example", nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a begin from another origin: %d %s", res.StatusCode, res.body)
	}
	// The good one still works: nothing above changed the passkey.
	if c, res := attempt(sign(auth)); res.StatusCode != http.StatusOK || c.cookie("smsgate_session") == "" {
		t.Fatalf("the good passkey after the attacks: %d %s", res.StatusCode, res.body)
	}
}

// TestPasskeyRulesOfWebAuthn: a credential ID registers once (another
// user's is refused, WebAuthn §7.1 step 22), and where a passkey is the
// only factor (a login form) it must verify its user: an answer with UV=0
// is refused, and the options ask for verification.
func TestPasskeyRulesOfWebAuthn(t *testing.T) {
	s := startSite(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		user dave +14155552672
		store badger {DIR}
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`)
	origin := withPorts(base)
	carolKey := fakes.NewAuthenticator("localhost", origin)
	registerPasskey(t, s, newClient(t, ""), carolKey)

	// dave, signed in, offers a credential with carol's ID as his own.
	caddymodule.Advance(time.Minute)
	dave := newClient(t, "")
	tok := dave.csrf("/.smsgate/login")
	expect(t, dave.post("/.smsgate/login", url.Values{"username": {"dave"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, dave.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	dave.get("/.smsgate/devices")
	begin := passkeyCall(dave, "register/begin", origin, nil)
	if !strings.Contains(begin.body, `"userVerification":"required"`) {
		t.Fatalf("registration options on a login form do not require user verification: %s", begin.body)
	}
	copycat := fakes.NewAuthenticator("localhost", origin)
	copycat.CopyID(carolKey)
	answer, err := copycat.Create([]byte(begin.body))
	if err != nil {
		t.Fatal(err)
	}
	if res := passkeyCall(dave, "register/finish", origin, answer); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("registering another user's credential ID: %d %s", res.StatusCode, res.body)
	}
	if page := dave.get("/.smsgate/devices"); strings.Contains(page.body, "Passkey 1") {
		t.Fatal("dave's devices list the copied passkey")
	}

	// At the login page, a passkey is the only factor: UV=0 is refused.
	login := func(a *fakes.Authenticator) (*client, *response) {
		c := newClient(t, "")
		c.get("/.smsgate/login")
		begin := passkeyCall(c, "login/begin", origin, nil)
		if !strings.Contains(begin.body, `"userVerification":"required"`) {
			t.Fatalf("login options on a login form do not require user verification: %s", begin.body)
		}
		answer, err := a.Get([]byte(begin.body))
		if err != nil {
			t.Fatal(err)
		}
		return c, passkeyCall(c, "login/finish", origin, answer)
	}
	absent := *carolKey
	absent.NoUserVerification = true
	if c, res := login(&absent); res.StatusCode != http.StatusBadRequest || c.cookie("smsgate_session") != "" {
		t.Fatalf("a passkey answer without user verification: %d %s", res.StatusCode, res.body)
	}
	if c, res := login(carolKey); res.StatusCode != http.StatusOK || c.cookie("smsgate_session") == "" {
		t.Fatalf("carol's passkey, verified: %d %s", res.StatusCode, res.body)
	}
}
