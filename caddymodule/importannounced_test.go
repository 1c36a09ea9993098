package caddymodule_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
)

// TestAnImportAnnouncesTheEndsItWrites: a thief's copy of alice's session
// cookie is served, so the gate has cached it. An import whose file ends
// that session (a user's revocation later than the store's, or the end of
// that one session: a restore from a store where alice was revoked or
// logged out) writes the end. Before, it did not announce it in the
// revocation log, so the gate kept serving the copy from its cache until
// the entry went (200). Now the import announces what it wrote, as a
// logout or a revoke does: the copy is refused within the log's poll and
// a round trip. On Badger and on a real Redis.
func TestAnImportAnnouncesTheEndsItWrites(t *testing.T) {
	sitetest.Parallel(t)
	for _, on := range []string{"badger", "redis"} {
		for _, ends := range []string{"user", "session"} {
			t.Run(on+"/"+ends, func(t *testing.T) {
				s := sitetest.Start(t, aliceSite(storeOn(t, on)))
				alice := sitetest.NewClient(t, "alice")
				sitetest.Enroll(t, s, alice, "+14155552671")
				cookie := alice.Cookie("smsgate_session")
				thief := sitetest.NewClient(t, "alice")
				thief.SetCookie("smsgate_session", cookie)
				sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
				sitetest.Expect(t, thief.Get("/"), http.StatusOK, "") // cached

				var record string
				if ends == "user" {
					at, _ := json.Marshal(time.Now().Add(time.Minute).UTC())
					record = fmt.Sprintf(`{"key":"revoked-user/localhost/alice","value":%s}`, at)
				} else {
					until, _ := json.Marshal(time.Now().Add(time.Hour).UTC())
					mark, _ := json.Marshal([]byte{1})
					record = fmt.Sprintf(`{"key":"b64:revoked/localhost/%s","value":%s,"until":%s}`, sidOf(t, cookie), mark, until)
				}
				if code, out := s.Admin(http.MethodPost, "/smsgate/import?realm=localhost", "["+record+"]"); code != http.StatusOK {
					t.Fatalf("import: %d %s", code, out)
				}
				// A hang guard: before, the copy was served until its session
				// expired (hours). The promise is the log's poll and a round
				// trip; a loaded machine (load 30, two cores) can take seconds
				// for that round trip, so the guard is well above it.
				deadline := time.Now().Add(session.RevocationPoll + 15*time.Second)
				for {
					res := thief.Get("/")
					if res.StatusCode == http.StatusFound {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("the copy of the session the import ended, %v after it: %d %q", session.RevocationPoll+15*time.Second, res.StatusCode, res.Text)
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
		}
	}
}

// sidOf is the session ID a session cookie (a JWT) names.
func sidOf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		SID string `json:"sid"`
	}
	if err := json.Unmarshal(raw, &cl); err != nil || cl.SID == "" {
		t.Fatalf("no sid: %v", err)
	}
	return cl.SID
}
