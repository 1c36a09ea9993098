package caddymodule_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// twoGatesOfARealm is a site of one realm on one store: an /admin gate
// with adminOptions, the site's gate with siteOptions; carol is each
// gate's config user.
func twoGatesOfARealm(t *testing.T, storeLine, adminOptions, siteOptions string) *sitetest.Site {
	t.Helper()
	return sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	handle /admin* {
		smsgate {
			identity none
			user carol +14155552671
			path_prefix /admin/.smsgate/
			`+adminOptions+`
			`+storeLine+`
			provider log
		}
		respond "admin {http.auth.user.id}"
	}
	handle {
		smsgate {
			identity none
			user carol +14155552671
			`+siteOptions+`
			`+storeLine+`
			provider log
		}
		respond "Hello {http.auth.user.id}"
	}
}`)
}

// TestGatesOfARealmThatHoldChangesDifferentlyAreWarnedOf (attack33): the
// /admin gate of a realm sets `step_up 1m`, the site's keeps the default
// (5m). Carol's phones are the realm's, whichever gate's devices page
// changes them: three minutes after her code, her session adds a phone
// at the admin's devices page only after a fresh code to her own phone,
// but at the site's the code goes straight to the new number. A warning,
// not a refusal (SECURITY.md's residual): the load names step_up in
// realm_checks_differ, and the cure (the same step_up, no longer than the
// shortest max_age: max_age 1m at /admin beside step_up 1m at both) loads
// without it. Before: no word. On Badger and Redis.
//
// Each store's part runs the two configs one after the other, each its
// own site: one level of parallel parts, which queue once for the
// package's slots (speed40b: as two parallel subtests, differ and alike,
// their parts queued a second time, behind every waiting test, and the
// test ended with the package).
func TestGatesOfARealmThatHoldChangesDifferentlyAreWarnedOf(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		t.Run("differ", func(t *testing.T) { warnedOfStepUp(t, storeLine, keep) })
		t.Run("alike", func(t *testing.T) {
			s := twoGatesOfARealm(t, storeLine, "step_up 1m\n\t\t\tmax_age 1m", "step_up 1m")
			if warned := s.LogEntries(admin.MixedChecks); len(warned) != 0 {
				t.Fatalf("gates alike in step_up (1m, no longer than max_age) warned of: %v", warned)
			}
		})
	})
}

// warnedOfStepUp is TestGatesOfARealmThatHoldChangesDifferentlyAreWarnedOf
// where the gates differ.
func warnedOfStepUp(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
	s := twoGatesOfARealm(t, storeLine, "step_up 1m", "")
	warned := s.LogEntries(admin.MixedChecks)
	if len(warned) != 1 || fmt.Sprint(warned[0]["differ"]) != "[step_up]" || warned[0]["realm"] != "localhost" {
		t.Fatalf("the warning: %v; want one, naming step_up", warned)
	}
	// What it warns of, still so.
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	sitetest.ExpectBody(t, c.Get("/admin/x"), "admin carol")
	s.Advance(3 * time.Minute)
	lastTo := func() string {
		e := s.LogEntries("verification code")
		return fmt.Sprint(e[len(e)-1]["to"])
	}
	tok := c.CSRF("/admin/.smsgate/devices")
	c.Post("/admin/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "csrf": {tok}})
	if strings.HasSuffix(lastTo(), "199") {
		t.Fatal("the admin's gate (step_up 1m) texted the new phone with a 3-minute-old session")
	}
	site := sitetest.NewClient(t, "")
	site.SetCookie("smsgate_session", c.Cookie("smsgate_session"))
	tok = site.CSRF("/.smsgate/devices")
	site.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550199"}, "csrf": {tok}})
	if !strings.HasSuffix(lastTo(), "199") {
		t.Errorf("the site's gate (step_up 5m) sent no code to the new phone: the residual warned of is gone, say so in SECURITY.md")
	}
}
