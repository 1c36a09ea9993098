package caddymodule_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/session"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// What a config's phone earned carries its number's mark (session.NumberMark),
// and a gate whose config no longer gives the user that number refuses it,
// without the settle's record (session.Manager.CheckNumbers).

// oldNumber and newNumber are alice's lost phone and the one the admin gives her.
const oldNumber, newNumber = "\t\tremember 30d\n\t\tuser alice +14155552671\n", "\t\tremember 30d\n\t\tuser alice +447400123456\n"

// failing makes dir's HoldStore fail the reads of the provisioned numbers
// (and revocations: renewal_test.go's sitetest.Holds.Fail) while on.
func failing(t *testing.T, dir string, on bool) {
	t.Helper()
	var err error
	if on {
		err = os.WriteFile(filepath.Join(dir, "fail"), nil, 0o600)
	} else {
		err = os.Remove(filepath.Join(dir, "fail"))
	}
	if err != nil {
		t.Fatal(err)
	}
}

// refusedAsSignedOut checks that c's request for / and its forward-auth
// check are answered as those of a browser with no session are.
func refusedAsSignedOut(t *testing.T, c *sitetest.Client, what string) {
	t.Helper()
	c.HTTP.CloseIdleConnections() // the old config's server closed them
	anonymous := sitetest.NewClient(t, "alice")
	got, want := c.Get("/"), anonymous.Get("/")
	if got.StatusCode != want.StatusCode || got.Header.Get("Location") != want.Header.Get("Location") {
		t.Errorf("%s: / answered %d %q, not as signed out (%d %q): %s", what, got.StatusCode, got.Header.Get("Location"),
			want.StatusCode, want.Header.Get("Location"), got.Text)
	}
	if res := c.Get("/.smsgate/auth?mode=status"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("%s: the forward-auth check answered %d, not 401", what, res.StatusCode)
	}
}

// TestWhatTheOldNumberEarnedOnceTheRecordHeldTheNewIsRefused: the store's
// record of alice's numbers already holds her new one while a gate still
// gives her the old (a reload's overlap, a load that failed after the
// settle, another instance, a store that failed that gate's settle:
// simulated by the last), and the thief signs in there with the old
// phone's code and has his browser trusted. Then the config giving the
// new number starts and settles: it compares the record, the new number,
// with the new number, and ends nothing. The thief's session and his
// trust must be refused all the same, as a signed-out browser is (the
// sign-in page, 401 at the forward-auth check), while alice's new number
// signs her in. On Badger and Redis, through a real Caddy. (Before, his
// session answered "Hello, alice!" and the trust signed him in again.)
func TestWhatTheOldNumberEarnedOnceTheRecordHeldTheNewIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		dir := t.TempDir()
		held := func(line string) string {
			return strings.Replace(line, "store ", "store smsgate_test_hold "+dir+" ", 1)
		}
		s := textSite(t, held(storeLine), []string{"alice"}, newNumber) // the record: the new number
		same := held(keep(s))

		failing(t, dir, true) // the old config's settle cannot read the record: it keeps the new number
		s = textSite(t, same, []string{"alice"}, oldNumber)
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, thief.Get("/"), "Hello, alice!")

		s = textSite(t, same, []string{"alice"}, newNumber) // its settle fails too
		failing(t, dir, false)
		s = textSite(t, same, []string{"alice"}, newNumber) // settled: the record held the new number, nothing ends
		refusedAsSignedOut(t, thief, "the old number's session, the record holding the new one")
		thief.SetCookie("smsgate_session", "")
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Errorf("the old number's trusted browser signed in again after the config took the number away")
		}
		if len(s.LogEntries("provisioned_number_changed")) != 0 {
			t.Error("the settle found a changed number: the test tests nothing")
		}
		alice := sitetest.NewClient(t, "alice")
		signIn(t, s, alice)
		sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	})
}

// TestATrustTheOldNumberEarnedGivesNoSessionOnceTheNumberChanged: the
// thief's browser trusted by the old number, the admin gives alice her
// new one and reloads with the store failing (the settle, retried, has
// not run): the trust gives no session, and neither does the session it
// gave before. On Badger and Redis, through a real Caddy. (Before, both
// signed him in until the store answered again.)
func TestATrustTheOldNumberEarnedGivesNoSessionOnceTheNumberChanged(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		dir := t.TempDir()
		held := func(line string) string {
			return strings.Replace(line, "store ", "store smsgate_test_hold "+dir+" ", 1)
		}
		s := textSite(t, held(storeLine), []string{"alice"}, oldNumber)
		same := held(keep(s))
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		thief.SetCookie("smsgate_session", "")
		sitetest.Expect(t, thief.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/") // the trust's session
		trusted := thief.Cookie("smsgate_session")

		failing(t, dir, true)
		s = textSite(t, same, []string{"alice"}, newNumber)
		failing(t, dir, false) // the settle waits for its retry (a second)
		thief.SetCookie("smsgate_session", "")
		thief.HTTP.CloseIdleConnections()
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Errorf("the old number's trusted browser signed in after the config took the number away")
		}
		thief.SetCookie("smsgate_session", trusted)
		refusedAsSignedOut(t, thief, "the session the old number's trust gave")
	})
}

// TestTwoGatesOfARealmGivingTwoNumbersAdmitEachOthersSessions: two gates
// of one realm give carol a number each (realmsGiving); a session earned
// with either number counts at both, before and after a reload of the
// same config: the numbers a gate checks are its realm's, not its own
// `user` line's.
func TestTwoGatesOfARealmGivingTwoNumbersAdmitEachOthersSessions(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Start(t, realmsGiving("store badger {DIR}", "+14155552671", "+447400123456"))
	same := realmsGiving("store badger "+s.Store, "+14155552671", "+447400123456")
	atA, atB := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
	carolAt(t, s, atA, "a.sso.localhost")
	carolAt(t, s, atB, "b.sso.localhost")
	for round := range 2 {
		for _, c := range []*sitetest.Client{atA, atB} {
			c.HTTP.CloseIdleConnections()
			for _, host := range []string{"a.sso.localhost", "b.sso.localhost"} {
				if res := c.GetURL(absolute(s, host, "/")); !strings.Contains(res.Text, host+" carol") {
					t.Errorf("round %d: a session of the realm's other number refused at %s: %d %s", round, host, res.StatusCode, res.Text)
				}
			}
		}
		sitetest.Start(t, same)
	}
}

// TestASessionOfThePreviousReleaseLastsUntilTheSettle: a session a
// config's phone earned under a release before the mark (its Device ""
// or absent) is not refused for lacking one: it counts through a reload
// of the same config (an upgrade), and ends only when the settle finds
// the number changed. On Redis (the test signs the old token with the
// store's secret), through a real Caddy.
func TestASessionOfThePreviousReleaseLastsUntilTheSettle(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	s := textSite(t, "store redis "+addr, []string{"alice"}, oldNumber)
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	secret, err := rc.Get(context.Background(), "smsgate:keys/secret").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	keys := session.NewKeys(session.Derive(secret, "session"), s.Now)
	for _, device := range []*string{nil, new(string)} { // the release before the claim, the one before the mark
		c := sitetest.NewClient(t, "alice")
		signIn(t, s, c)
		var cl session.Claims
		if err := keys.Verify(c.Cookie("smsgate_session"), "localhost", &cl); err != nil || !session.IsNumberMark(cl.DeviceID()) {
			t.Fatalf("the config phone's session carries no mark: %q %v", cl.DeviceID(), err)
		}
		cl.Device = device
		old, err := keys.Sign(&cl)
		if err != nil {
			t.Fatal(err)
		}
		c.SetCookie("smsgate_session", old)
		s = textSite(t, "store redis "+addr, []string{"alice"}, oldNumber) // the upgrade
		c.HTTP.CloseIdleConnections()
		sitetest.ExpectBody(t, c.Get("/"), "Hello, alice!")
		s = textSite(t, "store redis "+addr, []string{"alice"}, newNumber)
		refusedAsSignedOut(t, c, "a session of the release before, its number changed")
		s = textSite(t, "store redis "+addr, []string{"alice"}, oldNumber) // back, for the next
		s.Advance(time.Second)                                             // past the revocation's second
	}
}
