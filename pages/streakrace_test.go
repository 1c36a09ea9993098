package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// These tests' hold store (sitetest.HoldStore) goes away as a send
// claims the records of its cooldown (cooldown/…), once armed
// (TestATryAgainAfterAStoreFailureIsNotMadeToWait), and as a removal
// writes its device's end (revoked-device/…:
// TestARemovalTheStoreStopsAsksAgain). Where it holds a request is each
// test's own rule (sitetest.AddHold).
func init() {
	sitetest.Holds.Break = func(key string) bool {
		return strings.HasPrefix(key, "cooldown/") || strings.HasPrefix(key, "revoked-device/")
	}
}

// heldAddress is where the code's check a test holds comes from
// (sitetest.Client.OnLoopback(77)).
const heldAddress = "127.0.0.77"

// TestTwoLoginPostsAtOnceSendOneCode: through a real Caddy, two posts of
// carol's name at the login form at once from one IP (two tabs), after a
// first code whose wait is over, send one code, not two, and the wait
// after it is the doubled one (60 s): one post is held right after it
// read the client's streak until the other has been answered, on Badger
// and on Redis. Before, the held post passed the wait it had read and
// texted carol too (two codes, both 303), and the doubling of one of
// them was lost.
func TestTwoLoginPostsAtOnceSendOneCode(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s, dir := heldSite(t, kind)
			first := sitetest.NewClient(t, "")
			sitetest.Expect(t, typeCarol(first), http.StatusSeeOther, "/.smsgate/verify")
			s.Advance(31 * time.Second) // past the first code's wait: the next one's is 60 s
			// Two tabs of one browser: each its own form.
			held, other := sitetest.NewClient(t, ""), sitetest.NewClient(t, "")
			heldTok, otherTok := held.CSRF("/.smsgate/login"), other.CSRF("/.smsgate/login")
			post := func(c *sitetest.Client, tok string) *sitetest.Response {
				return c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}})
			}
			// Held once it read the client's streak.
			sitetest.AddHold(t, dir, sitetest.Hold{Of: "127.0.0.1", Op: "read", Key: "cooldown/*/*/ip/*"})
			parked := sitetest.Park(t, dir, func() *sitetest.Response { return post(held, heldTok) })
			res := post(other, otherTok)
			heldStatus := parked.Release(t).StatusCode
			if res.StatusCode != http.StatusSeeOther || heldStatus != http.StatusTooManyRequests || s.Sent() != 2 {
				t.Fatalf("two posts at once: %d and, held, %d; %d codes sent in all; want 303 and 429, 2 codes (the first login's and one)",
					res.StatusCode, heldStatus, s.Sent())
			}
			s.Advance(31 * time.Second)
			if res := typeCarol(first); res.StatusCode != http.StatusTooManyRequests {
				t.Fatalf("31 s after the code: %d; want 429 (its wait is 60 s)", res.StatusCode)
			}
			s.Advance(30 * time.Second)
			if sitetest.Expect(t, typeCarol(first), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 3 {
				t.Fatalf("%d codes sent after the doubled wait; want 3", s.Sent())
			}
		})
	}
}

// atOnceRealm is TestANameAndItsNumberAtOnceSendOneCode's realm.
const atOnceRealm = "at-once.localhost"

// TestANameAndItsNumberAtOnceSendOneCode: through a real Caddy, carol's
// name and her number posted at the login form at the same instant, from
// two clients, send one code, not two: the name's post is held right
// after it read the number's wait (none yet) until the number's has been
// answered, on Badger and on Redis; it then loses its claim of the
// records (store.Batch.Claim), is decided again and held by the number's
// wait, answered as every send is (the verify step), with no text.
// Before, the number's waits were put beside the doubling's swap: the held
// post passed the wait it had read, and carol got two codes.
func TestANameAndItsNumberAtOnceSendOneCode(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			s, dir := heldSite(t, kind, "realm "+atOnceRealm)
			name, number := sitetest.NewClient(t, ""), sitetest.NewClient(t, "").OnLoopback(2)
			nameTok, numberTok := name.CSRF("/.smsgate/login"), number.CSRF("/.smsgate/login")
			// Held once it read its number's base wait.
			sitetest.AddHold(t, dir, sitetest.Hold{Of: atOnceRealm, Op: "read", Key: "cooldown-to/*/*"})
			parked := sitetest.Park(t, dir, func() *sitetest.Response {
				return name.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {nameTok}})
			})
			sitetest.Expect(t, number.Post("/.smsgate/login", url.Values{"username": {"+1 415 555 2671"}, "csrf": {numberTok}}),
				http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, parked.Release(t), http.StatusSeeOther, "/.smsgate/verify")
			if s.Sent() != 1 {
				t.Fatalf("her name and her number at once: %d codes sent; want 1", s.Sent())
			}
			s.Advance(31 * time.Second)
			if sitetest.Expect(t, typeCarol(name), http.StatusSeeOther, "/.smsgate/verify"); s.Sent() != 2 {
				t.Fatalf("her name past the number's wait: %d codes sent in all; want 2", s.Sent())
			}
		})
	}
}
