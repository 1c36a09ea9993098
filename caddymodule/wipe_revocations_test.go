package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAWipedStoreBringsNoEndedSessionBack: a thief holds copies of alice's
// and bob's session cookies (and their passwords). Alice logs out; the
// admin ends all of bob's sessions. Then Redis restarts without
// persistence and forgets every revocation record. Before, the gate
// checked the copies against the empty store and let the thief in as both
// (200 "Hello, alice!" at the first request after the restart). Now the
// gate refuses them from what its revocation log told it, and puts the
// records back into the store, so that an instance that knew nothing of
// them refuses them too. Carol, whose session nobody ended, goes on.
func TestAWipedStoreBringsNoEndedSessionBack(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth {
		alice %[1]s
		bob %[1]s
		carol %[1]s
	}
	smsgate {
		store redis %[2]s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, r.Addr))
	signedIn := map[string]*sitetest.Client{}
	for i, user := range []string{"alice", "bob", "carol"} {
		signedIn[user] = sitetest.NewClient(t, user)
		sitetest.Enroll(t, s, signedIn[user], fmt.Sprintf("+1415555267%d", i))
	}
	thief := map[string]*sitetest.Client{}
	for _, user := range []string{"alice", "bob"} {
		thief[user] = sitetest.NewClient(t, user)
		thief[user].SetCookie("smsgate_session", signedIn[user].Cookie("smsgate_session"))
		sitetest.Expect(t, thief[user].Get("/"), http.StatusOK, "")
	}
	tok := sitetest.CSRFField.FindStringSubmatch(signedIn["alice"].Get("/.smsgate/logout").Text)[1]
	sitetest.Expect(t, signedIn["alice"].Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")
	if st, out := s.Admin("POST", "/smsgate/revoke", `{"realm":"localhost","user":"bob"}`); st != http.StatusOK {
		t.Fatalf("revoke: %d %s", st, out)
	}
	for _, user := range []string{"alice", "bob"} {
		sitetest.Expect(t, thief[user].Get("/"), http.StatusFound, "/.smsgate/login?rd=%2F")
	}

	r.Restart() // no append-only file: every revocation record is gone
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	for start := time.Now(); ; {
		for _, user := range []string{"alice", "bob"} {
			if res := thief[user].Get("/"); res.StatusCode != http.StatusFound {
				t.Fatalf("%s's ended session after the wipe: %d %q", user, res.StatusCode, res.Text)
			}
		}
		// Put back once the gate noticed (its next look at the log).
		if before, err := session.RevokedBefore(context.Background(), st, "localhost", "bob"); err == nil && !before.IsZero() {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatal("the gate did not put bob's revocation back into the wiped store")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sitetest.Expect(t, signedIn["carol"].Get("/"), http.StatusOK, "")
}
