package caddymodule_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// knownSite is a login form giving alice number, on the store held in
// dir (sitetest.HoldStore over Badger at badger: "" for a new one), with
// a window of 5 checked guesses a day.
func knownSite(t *testing.T, dir, badger, number string) *sitetest.Site {
	t.Helper()
	if badger == "" {
		badger = "{DIR}"
	}
	return sitetest.StartWith(t, sitetest.TrustedProxies, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user alice `+number+`
		store smsgate_test_hold `+dir+` badger `+badger+`
		provider log
		limit guesses 5 1d
	}
	respond "Hello, {http.auth.user.id}!"
}`)
}

// TestTheOldNumbersBrowserIsNotAlicesKnownOne: the thief signs in as alice
// with her lost provisioned phone at a gate still giving it, once the
// store's record already held her new number (simulated, as in
// TestWhatTheOldNumberEarnedOnceTheRecordHeldTheNewIsRefused, by a settle
// the store failed); the config giving the new number then starts and
// settles, finding nothing lost. His browser must not stay alice's known
// one (her own window of guesses, past the strangers' full one, which he
// could fill to lock her out of hers): its known-browser cookie names the
// old number's mark, which the config no longer gives. Through a real
// Caddy; her new number's browser stays hers. (Before: his guess was
// checked, 400, with the strangers' window full.)
func TestTheOldNumbersBrowserIsNotAlicesKnownOne(t *testing.T) {
	sitetest.Parallel(t)
	dir := t.TempDir()
	s := knownSite(t, dir, "", "+447400123456") // the record: the new number
	badger := s.Store
	login := func(c *sitetest.Client) string {
		t.Helper()
		s.Advance(31 * time.Second) // past the login cooldown
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"alice"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		return tok
	}
	guess := func(c *sitetest.Client, tok string) int {
		return c.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {tok}}).StatusCode
	}

	failing(t, dir, true) // the old config's settle cannot read the record
	s = knownSite(t, dir, badger, "+14155552671")
	thief := sitetest.NewClient(t, "").From("192.0.2.66")
	tok := login(thief)
	sitetest.Expect(t, thief.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
	failing(t, dir, false)
	s = knownSite(t, dir, badger, "+447400123456") // settled: nothing lost
	if len(s.LogEntries("provisioned_number_changed")) != 0 {
		t.Fatal("the settle found a changed number: the test tests nothing")
	}
	s.Advance(time.Second)
	alice := sitetest.NewClient(t, "").From("198.51.100.7") // her new number's browser
	atok := login(alice)
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {atok}}), http.StatusSeeOther, "/")

	m := sitetest.NewClient(t, "").From("203.0.113.1") // strangers fill alice's window
	mtok := login(m)
	for i := range 5 {
		if st := guess(m, mtok); st != http.StatusBadRequest {
			t.Fatalf("stranger's guess %d: %d", i, st)
		}
	}
	thief.HTTP.CloseIdleConnections()
	ttok := login(thief)
	if st := guess(thief, ttok); st != http.StatusTooManyRequests {
		t.Fatalf("the old number's browser, with the strangers' window full: %d, its guess checked as alice's own browser's", st)
	}
	if st := guess(alice, login(alice)); st != http.StatusBadRequest {
		t.Fatalf("alice's own browser (her new number's), with the strangers' window full: %d, want her guess checked (400)", st)
	}
}
