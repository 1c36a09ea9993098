package caddymodule_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestANewSecretEndsEdDSASessions: with signing_alg EdDSA, sessions are
// signed with the store's Ed25519 keys, not the secret; a new secret (here
// an import of another store's, adopted by the running gate) ends them all
// the same: the keys go with the secret they were made under. On Badger
// and Redis, through a real Caddy. (Before: alice's enrolled phone's
// session still answered 200.)
func TestANewSecretEndsEdDSASessions(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		sitetest.Shorten(t, "store-watch", 200*time.Millisecond) // the gate's next look, sooner
		s := textSite(t, storeLine, []string{"alice"}, "\t\tsigning_alg EdDSA\n")
		addUser(t, s, "alice", "+14155552671")
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

		other := make([]byte, 32)
		_, _ = rand.Read(other)
		value, _ := json.Marshal(other)
		if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", `[{"key":"b64:keys/secret","value":`+string(value)+`}]`); code != http.StatusOK {
			t.Fatalf("importing another secret: %d %s", code, out)
		}
		awaitSignedOut(t, alice)
	})
}

// TestAcceptStoreNewSecretEndsEdDSASessions: Redis restarts without
// persistence (a revocation lost with it); the gate puts its secret and
// keys back, and the admin's remedy, accept-store with a new secret, ends
// every session, an enrolled phone's under signing_alg EdDSA too. (Before:
// 200 after the remedy.)
func TestAcceptStoreNewSecretEndsEdDSASessions(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.Shorten(t, "store-watch", 200*time.Millisecond)
	r := redistest.Start(t)
	s := textSite(t, "store redis "+r.Addr, []string{"alice"}, "\t\tsigning_alg EdDSA\n")
	addUser(t, s, "alice", "+14155552671")
	alice := sitetest.NewClient(t, "alice")
	signIn(t, s, alice)
	sitetest.Expect(t, alice.Get("/"), http.StatusOK, "")

	r.Restart() // no append-only file: everything is gone
	var code int
	var out string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if code, out = s.Admin(http.MethodPost, "/smsgate/store/accept", `{"realm":"localhost","new_secret":true}`); code == http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	if code != http.StatusOK || !strings.Contains(out, `"new_secret":true`) {
		t.Fatalf("accept-store --new-secret: %d %s", code, out)
	}
	awaitSignedOut(t, alice)
}

// awaitSignedOut waits up to 30 s for c's session to be refused: a 302 to
// the sign-in.
func awaitSignedOut(t *testing.T, c *sitetest.Client) {
	t.Helper()
	var res *sitetest.Response
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if res = c.Get("/"); res.StatusCode == http.StatusFound || time.Now().After(deadline) {
			break
		}
	}
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "/.smsgate/login") {
		t.Fatalf("the session from before the new secret still answers %d (Location %q) 30 s after", res.StatusCode, res.Header.Get("Location"))
	}
}
