package caddymodule_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// brokenRemoval is the user whose device list, written while a hold
// store's file "break" exists, takes the store away (sitetest.Holds.Break):
// the list is written and its answer lost; alice's too
// (TestAKeptSessionsMarkOutlivesARemovalWrittenButAnsweredAsAnError).
const brokenRemoval = "erin"

func init() {
	sitetest.Holds.Break = func(key string) bool {
		return key == "device/localhost/"+brokenRemoval || key == "device/localhost/alice" ||
			key == "invite-latest/localhost/"+unrecordedInvitee || strings.HasPrefix(key, "invite/"+unmadeRealm+"/") // TestAFailedInviteSaysWhatBecameOfTheLinkSent
	}
}

// TestARemovalWrittenButAnsweredAsAnErrorIsToldWhenAskedAgain: erin
// removes her lost phone on the devices page; the store writes her device
// list without it, and its answer is lost (a connection dropped before the
// reply). The page says the removal is unfinished and asks again; asked
// again once the store is back, the removal finds the phone gone, ends
// what it earned (the thief's session), and her phone left is told of the
// removal, once, in a finished removal's words: asked a third time, it
// tells nothing more. On Badger and Redis, through a real Caddy. (Before:
// the first removal told nobody, nor did the one asked again, which found
// the phone gone: the removal went unseen.)
func TestARemovalWrittenButAnsweredAsAnErrorIsToldWhenAskedAgain(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s, dir, lost, _, thief, erin := lostPhoneSite(t, storeLine, brokenRemoval)
		tok := erin.CSRF("/.smsgate/devices")
		if err := os.WriteFile(filepath.Join(dir, "break"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		remove := func(tok string) *sitetest.Response {
			return erin.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lost}, "confirm": {"1"}, "csrf": {tok}})
		}
		res := remove(tok)
		if err := os.Remove(filepath.Join(dir, "down")); err != nil {
			t.Fatalf("the store never went away at the removal's write (%v): %d", err, res.StatusCode)
		}
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.Text, `name="device" value="`+lost+`"`) {
			t.Fatalf("a removal whose answer was lost: %d, want 503 asking again:\n%s", res.StatusCode, res.Text)
		}
		removals := func() (n []string) {
			for _, m := range s.Notices() {
				if strings.Contains(m, "was removed") {
					n = append(n, m)
				}
			}
			return n
		}
		if n := removals(); len(n) != 0 {
			t.Fatalf("a removal answered as an error told her phones: %q", n)
		}
		again := sitetest.CSRFField.FindStringSubmatch(res.Text)[1]
		for i := range 2 {
			sitetest.Expect(t, remove(again), http.StatusOK, "")
			if n := removals(); len(n) != 1 || !strings.Contains(n[0], "Browsers signed in with it were signed out.") || !strings.HasSuffix(n[0], "→ +1•••••••672") {
				t.Fatalf("the notices of the removal asked again %d times: %q; want one, to her phone left, finished", i+1, n)
			}
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatal("the thief's session outlived the removal asked again")
		}
		sitetest.ExpectBody(t, erin.Get("/"), "Hello, "+brokenRemoval+"!")
	})
}
