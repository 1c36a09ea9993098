package pages_test

// A new signing secret (an import of another keys/secret, as accept-store
// --new-secret writes one; a changed signing_key) ends sessions and codes,
// and keeps the devices: a passkey keeps answering the user handle it was
// registered with, and an app's secret, sealed under a key of the old
// secret, is sealed again under the new one (attack41b H2).

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// newSecret imports another signing secret into s's store, and waits
// until the gate adopted it (c, signed in, is signed out).
func newSecret(t *testing.T, s *sitetest.Site, c *sitetest.Client) {
	t.Helper()
	other := make([]byte, 32)
	_, _ = rand.Read(other)
	value, _ := json.Marshal(other)
	if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", `[{"key":"b64:keys/secret","value":`+string(value)+`}]`); code != http.StatusOK {
		t.Fatalf("importing another secret: %d %s", code, out)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if res := c.Get("/"); res.StatusCode == http.StatusFound {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the new secret was not adopted")
		}
	}
}

// appSite is AppSite on storeLine.
func appSite(storeLine string) string {
	return strings.Replace(sitetest.AppSite, "store badger {DIR}", storeLine, 1)
}

// TestAPasskeyOutlivesANewSecret: through a real Caddy on each store,
// carol's passkey, registered under one signing secret, signs her in
// after the gate adopted another: from the login page (discoverable: the
// passkey names her by its handle) and named (she typed her name first).
// Before, its handle, an HMAC under the code key, was made again under
// the new key, and go-webauthn refused the handle the passkey presents.
func TestAPasskeyOutlivesANewSecret(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond)
		s := sitetest.Start(t, appSite(storeLine))
		origin := s.WithPorts(s.Base)
		auth := fakes.NewAuthenticator("localhost", origin)
		signedIn := sitetest.NewClient(t, "")
		registerPasskey(t, s, signedIn, auth)
		signIn := func(named bool) {
			t.Helper()
			c := sitetest.NewClient(t, "")
			if named {
				tok := c.CSRF("/.smsgate/login")
				sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
				c.Get("/.smsgate/verify")
			} else {
				c.Get("/.smsgate/login")
			}
			begin := passkeyCall(c, "login/begin", origin, nil)
			if begin.StatusCode != http.StatusOK {
				t.Fatalf("login/begin (named %v): %d %s", named, begin.StatusCode, begin.Text)
			}
			answer, err := auth.Get([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"verified"`) {
				t.Fatalf("carol's passkey (named %v): %d %s", named, res.StatusCode, res.Text)
			}
			if res := c.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, carol") {
				t.Fatalf("the app after her passkey (named %v): %d %q", named, res.StatusCode, res.Text)
			}
		}
		signIn(false)
		newSecret(t, s, signedIn)
		s.Advance(time.Minute)
		signIn(false)
		signIn(true)
	})
}

// TestAnAppOutlivesANewSecret: through a real Caddy on each store,
// carol's authenticator app, added under one signing secret, signs her in
// after the gate adopted another: its secret is sealed again under the
// new secret's key. Before, it did not open (a 503, "Sign-in is
// unavailable right now", forever).
func TestAnAppOutlivesANewSecret(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond)
		s := sitetest.Start(t, appSite(storeLine))
		storeLine = keep(s)
		first := sitetest.NewClient(t, "")
		secret := addApp(t, s, first)
		s.Advance(30 * time.Second)
		newSecret(t, s, first)
		s.Advance(2 * time.Minute)
		appSignIn := func(s *sitetest.Site) {
			t.Helper()
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}}), http.StatusSeeOther, "/")
			if res := c.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, carol") {
				t.Fatalf("the app after her app's code: %d %q", res.StatusCode, res.Text)
			}
		}
		appSignIn(s)
		// Sealed again in the store, not only opened with the old key this
		// process keeps in memory: once the pass is done (its log line),
		// a gate started afresh on the store (a reload: its keys derived
		// from the store's secret, no old key) opens it too.
		for deadline := time.Now().Add(30 * time.Second); len(s.LogEntries("authenticator apps' secrets sealed again under the store's new secret")) == 0; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("carol's app was not sealed again under the new secret")
			}
		}
		s = sitetest.Start(t, strings.Replace(appSite(storeLine), "provider log", "provider log\n\t\tsite_name Reloaded", 1))
		s.Advance(2 * time.Minute)
		appSignIn(s)
	})
}

// TestAnAppNoKeyOpensIsADeadDevice: through a real Caddy on each store,
// an app whose secret was sealed under a signing_key since changed (the
// gate reloaded with another: nothing here holds the old key) answers
// as a dead device — a clear message, a 400, an audit line and a log
// line — not a 503; her phone still signs her in.
func TestAnAppNoKeyOpensIsADeadDevice(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		site := func(key string) *sitetest.Site {
			return sitetest.Start(t, strings.Replace(appSite(storeLine), "provider log", fmt.Sprintf("provider log\n\t\tsigning_key %q", key), 1))
		}
		s := site("the first signing key of at least thirty-two bytes")
		storeLine = keep(s)
		secret := addApp(t, s, sitetest.NewClient(t, ""))
		s = site("another signing key of at least thirty-two bytes!")
		s.Advance(time.Minute)
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		res := c.Post("/.smsgate/verify", url.Values{"action": {"app"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {tok}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Text, "can no longer be checked here") {
			t.Fatalf("an app no key opens: %d %.600s", res.StatusCode, res.Text)
		}
		if len(s.LogEntries("an authenticator app's secret does not open under the gate's signing secret: the app is dead until its user adds it again")) == 0 {
			t.Error("no log line for the dead app")
		}
		audited := false
		for _, e := range s.LogEntries("verify_failed") {
			audited = audited || e["reason"] == "app_unreadable"
		}
		if !audited {
			t.Error("no audit line for the dead app")
		}
		s.Advance(10 * time.Minute)                      // the texts' cooldown
		sitetest.SignIn(t, s, sitetest.NewClient(t, "")) // her phone still does
	})
}

// TestANamedPasskeyOutlivesANewSecret: through a real Caddy on each store,
// behind basic_auth (the user is named before her passkey is asked for:
// go-webauthn's named ceremony, begun under the handle of the key in use),
// carol's passkey registered under one signing secret signs her in after
// the gate adopted another.
func TestANamedPasskeyOutlivesANewSecret(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond)
		s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		carol %s
	}
	smsgate {
		%s
		provider log
	}
	respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
}`, sitetest.DemoHash, storeLine))
		origin := s.WithPorts(s.Base)
		auth := fakes.NewAuthenticator("localhost", origin)
		signedIn := sitetest.NewClient(t, "carol")
		sitetest.Enroll(t, s, signedIn, "+14155552671")
		signedIn.Get("/.smsgate/devices") // the page the ceremony runs on: its flow
		begin := passkeyCall(signedIn, "register/begin", origin, nil)
		answer, err := auth.Create([]byte(begin.Text))
		if err != nil {
			t.Fatalf("register/begin: %d %s: %v", begin.StatusCode, begin.Text, err)
		}
		if res := passkeyCall(signedIn, "register/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"added"`) {
			t.Fatalf("register/finish: %d %s", res.StatusCode, res.Text)
		}
		signIn := func() {
			t.Helper()
			c := sitetest.NewClient(t, "carol")
			c.Get("/.smsgate/login?rd=%2F")
			c.Get("/.smsgate/verify")
			begin := passkeyCall(c, "login/begin", origin, nil)
			if begin.StatusCode != http.StatusOK || !strings.Contains(begin.Text, `"allowCredentials"`) {
				t.Fatalf("login/begin (named): %d %s", begin.StatusCode, begin.Text)
			}
			answer, err := auth.Get([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			if res := passkeyCall(c, "login/finish", origin, answer); res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"verified"`) {
				t.Fatalf("carol's passkey (named): %d %s", res.StatusCode, res.Text)
			}
			if res := c.Get("/"); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Text, "Hello, carol") {
				t.Fatalf("the app after her passkey (named): %d %q", res.StatusCode, res.Text)
			}
		}
		signIn()
		newSecret(t, s, signedIn)
		s.Advance(time.Minute)
		signIn()
	})
}
