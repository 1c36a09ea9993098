package pages_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store"
)

// natRealms is a site of two gates on one store: carol and dave at
// localhost, mallory at other.localhost (under /other/), with limit ip 3.
const natRealms = `http://localhost:{HTTP_PORT} {
	handle /other/* {
		smsgate {
			realm other.localhost
			path_prefix /other/.smsgate/
			identity none
			user mallory +14155550199
			store badger {DIR}
			provider log
		}
		respond "other {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			user dave +14155550142
			limit ip 3 1h
			store badger {DIR}
			provider log
		}
		respond "Hello, {http.auth.user.id} ({http.auth.user.amr})"
	}
}`

// TestAnotherUsersKnownBrowserSpendsNotHerAddressWindows: a known
// browser's windows at its address — its sends (limit ip) and its
// recovery code tries (10 an hour) — were one for every known browser
// there, of any user and any realm on the store (attack40 H2): dave,
// behind carol's address (a NAT), signing in as himself three times
// (limit ip 3) kept her own known browser from getting a code for an
// hour (before: 429 at her login), and ten wrong recovery codes of his
// for himself, or of mallory's for herself at another realm, kept her
// right recovery code out (before: 429). Now they are the known user's
// in her realm. On Badger and Redis, through a real Caddy.
func TestAnotherUsersKnownBrowserSpendsNotHerAddressWindows(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.ReplaceAll(natRealms, "store badger {DIR}", storeLine))
		const nat = "198.51.100.7"
		carol := sitetest.NewClient(t, "").From(nat)
		codes := recoveryCodesSignedOut(t, s, carol)

		// Ten wrong recovery codes each: dave's for himself, then
		// mallory's for herself at the other realm.
		wrongTen := func(c *sitetest.Client, prefix, user string) {
			for range 2 {
				s.Advance(21 * time.Minute) // a new flow (one lasts 20 minutes from its last use)
				tok := c.CSRF(prefix + "login")
				sitetest.Expect(t, c.Post(prefix+"login", url.Values{"username": {user}, "csrf": {tok}}), http.StatusSeeOther, prefix+"verify")
				for range 5 {
					if res := c.Post(prefix+"verify", url.Values{"code": {"ABCDE-FGHJK"}, "csrf": {tok}}); res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusTooManyRequests {
						t.Fatalf("%s's wrong recovery code: %d", user, res.StatusCode)
					}
				}
			}
		}
		dave := sitetest.NewClient(t, "").From(nat)
		sitetest.SignInAs(t, s, dave, "dave")
		sitetest.Expect(t, dave.Post("/.smsgate/logout", url.Values{"csrf": {dave.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
		mallory := sitetest.NewClient(t, "").From(nat)
		const other = "/other/.smsgate/"
		tok := mallory.CSRF(other + "login")
		sitetest.Expect(t, mallory.Post(other+"login", url.Values{"username": {"mallory"}, "csrf": {tok}}), http.StatusSeeOther, other+"verify")
		sitetest.Expect(t, mallory.Post(other+"verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		sitetest.Expect(t, mallory.Post(other+"logout", url.Values{"csrf": {mallory.CSRF(other + "logout")}}), http.StatusOK, "")
		for i, spend := range []func(){
			func() { wrongTen(dave, "/.smsgate/", "dave") },
			func() { wrongTen(mallory, other, "mallory") },
		} {
			spend()
			s.Advance(time.Minute)
			tok := carol.CSRF("/.smsgate/login")
			sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			if res := carol.Post("/.smsgate/verify", url.Values{"code": {codes[i][1]}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
				t.Fatalf("carol's known browser, her right recovery code after %s's ten wrong ones for %s at her address: %d %s, want 303 to /\n%s",
					[]string{"dave", "mallory"}[i], []string{"himself", "herself at another realm"}[i], res.StatusCode, res.Header.Get("Location"), res.Text)
			}
			sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
		}
		// dave, known as himself at the address: three sign-ins.
		s.Advance(time.Hour + time.Minute) // the sends above are gone from the windows
		for range 3 {
			s.Advance(9 * time.Minute) // and SignInAs's minute: past his cooldown
			sitetest.SignInAs(t, s, dave, "dave")
			sitetest.Expect(t, dave.Post("/.smsgate/logout", url.Values{"csrf": {dave.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
		}
		sent := s.Sent()
		tok = carol.CSRF("/.smsgate/login")
		if res := carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther || s.Sent() != sent+1 {
			t.Fatalf("carol's known browser at her address after another user's three sign-ins there (limit ip 3): %d, %d texts; want 303 and one\n%s", res.StatusCode, s.Sent()-sent, res.Text)
		}

	})
}

// TestAnAddressWindowOfThePreviousReleaseStillCounts: the previous
// release kept one window for every known browser at an address (its
// sends, its recovery tries); this one keeps the known user's. A window
// the previous release filled still refuses carol's known browser there
// until it ends, and then lets her in: the sends' (20, begun 30 minutes
// before), then the recovery tries' (10, begun just before). This release
// adds nothing to it (it ends when its own entries do). On Badger and
// Redis, through a real Caddy.
func TestAnAddressWindowOfThePreviousReleaseStillCounts(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStoreFirst(t, func(t *testing.T, st store.Store, closeStore func() error, storeLine string) {
		const nat = "198.51.100.7"
		ctx, now := context.Background(), time.Now()
		// As the previous release keyed them: store.Key("limit", kind,
		// IPKey(ip)+"/known"), shared by every known browser there.
		for i := range 20 {
			if _, _, err := st.Slide(ctx, store.Key("limit", "ip", nat+"/known"), fmt.Sprint("send", i), 20, time.Hour, now.Add(-30*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 10 {
			if _, _, err := st.Slide(ctx, store.Key("limit", "recovery", nat+"/known"), fmt.Sprint("try", i), 10, time.Hour, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := closeStore(); err != nil {
			t.Fatal(err)
		}
		s := sitetest.StartWith(t, sitetest.TrustedProxies, strings.Replace(sitetest.AppSite, "store badger {DIR}", storeLine, 1))
		carol := sitetest.NewClient(t, "").From(nat)
		codes := recoveryCodesSignedOut(t, s, carol) // her sign-in a stranger's until then: not the known browsers' windows
		s.Advance(time.Minute)
		tok := carol.CSRF("/.smsgate/login")
		if res := carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("carol's known browser, the previous release's window of sends full: %d, want 429\n%s", res.StatusCode, res.Text)
		}
		s.Advance(30 * time.Minute) // that window's entries are gone
		tok = carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if res := carol.Post("/.smsgate/verify", url.Values{"code": {codes[0][1]}, "csrf": {tok}}); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("carol's known browser, the previous release's window of recovery tries full: %d, want 429\n%s", res.StatusCode, res.Text)
		}
		s.Advance(30 * time.Minute) // and that one's
		tok = carol.CSRF("/.smsgate/login")
		sitetest.Expect(t, carol.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		if res := carol.Post("/.smsgate/verify", url.Values{"code": {codes[1][1]}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("carol's known browser once the previous release's window ended: %d %s, want 303 to /\n%s", res.StatusCode, res.Header.Get("Location"), res.Text)
		}
	})
}

// TestAnotherUsersKnownBrowserSpendsNotHerPasskeySignIns: a known
// browser's passkey sign-ins begun at the login form counted in one tally
// of every known browser at the address (attack40 H2): dave, known as
// himself behind carol's address, who began stranger_ip of them kept her
// own known browser there from beginning one for the window (before:
// 429). Now the tally is the known user's. (Tallies are kept in memory,
// not in the store.)
func TestAnotherUsersKnownBrowserSpendsNotHerPasskeySignIns(t *testing.T) {
	sitetest.Parallel(t)
	s, begin := passkeyBeginSite(t, "\n\t\tuser dave +14155550142")
	carol := sitetest.NewClient(t, "").From("198.51.100.9")
	sitetest.SignIn(t, s, carol)
	sitetest.Expect(t, carol.Post("/.smsgate/logout", url.Values{"csrf": {carol.CSRF("/.smsgate/logout")}}), http.StatusOK, "")
	dave := sitetest.NewClient(t, "").From("198.51.100.10")
	sitetest.SignInAs(t, s, dave, "dave")
	sitetest.Expect(t, dave.Post("/.smsgate/logout", url.Values{"csrf": {dave.CSRF("/.smsgate/logout")}}), http.StatusOK, "")

	carol.From("198.51.100.7")
	dave.From("198.51.100.7") // the same address
	twoBegunThenRefused(t, begin, dave, "dave's known browser, his passkey sign-in")
	twoBegunThenRefused(t, begin, carol, "carol's known browser at her address, after dave's, her passkey sign-in")
}
