package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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
	basic_auth argon2id {
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
		if time.Since(start) > 45*time.Second { // a hang guard, far above a loaded machine's next look
			t.Fatal("the gate did not put bob's revocation back into the wiped store")
		}
		time.Sleep(100 * time.Millisecond)
	}
	sitetest.Expect(t, signedIn["carol"].Get("/"), http.StatusOK, "")
}

// TestAFailoverBringsNoEndedSessionBack: alice logs out while the replica
// is silent (connected, not answering): her logout is on the master only,
// and a failover now would promote a replica that never had it — a thief
// with a copy of her cookie would be let in again, after she was told she
// was signed out. So the logout is not acknowledged until a replica has it:
// she is asked to try again (503), and once the replica answers, her
// logout is kept through the failover. Before, the first logout answered
// 200 at once.
func TestAFailoverBringsNoEndedSessionBack(t *testing.T) {
	sitetest.Parallel(t)
	sentinel := redistest.StartSentinelToldOnly(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
	}
	smsgate {
		store redis %[2]s {
			master_name %[3]s
		}
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, strings.Join(sentinel.Sentinels, " "), redistest.MasterName))
	alice := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, alice, "+14155552671")
	thief := sitetest.NewClient(t, "alice")
	thief.SetCookie("smsgate_session", alice.Cookie("smsgate_session"))
	sitetest.Expect(t, thief.Get("/"), http.StatusOK, "")
	tok := sitetest.CSRFField.FindStringSubmatch(alice.Get("/.smsgate/logout").Text)[1]
	sentinel.Replicated()

	replica := sentinel.Replica()
	replica.Pause() // what the master takes now does not reach it
	// The wait for it, waited out in vain: shorter, then back to
	// store.ReplicaWait for the replica's answer on a loaded machine.
	s.Shorten("replica-wait", 300*time.Millisecond)
	res := alice.Post("/.smsgate/logout", url.Values{"csrf": {tok}})
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "try again")
	replica.Resume()
	s.Shorten("replica-wait", store.ReplicaWait)
	sitetest.Expect(t, alice.Post("/.smsgate/logout", url.Values{"csrf": {tok}}), http.StatusOK, "")

	sentinel.KillMasterAndFailOver()
	for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
		res := thief.Get("/")
		if res.StatusCode == http.StatusOK {
			t.Fatalf("alice's logged-out session after the failover: %d %q", res.StatusCode, res.Text)
		}
		if res.StatusCode == http.StatusFound {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("after the failover: %d", res.StatusCode)
		}
	}
}
