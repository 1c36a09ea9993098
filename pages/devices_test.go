package pages_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

var deviceID = regexp.MustCompile(`name="device" value="([^"]+)"`)

// stepUp answers the devices page's demand for a fresh code.
func stepUp(t *testing.T, s *sitetest.Site, c *sitetest.Client, tok string, res *sitetest.Response) {
	t.Helper()
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
}

func TestDevicesAndRecoveryCodes(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	alice := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, alice.Get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	tok := alice.CSRF("/.smsgate/enroll")
	alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
	recovery := sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), "/")

	// Adding a phone needs a fresh code: ten minutes on, it asks for one.
	s.Advance(10 * time.Minute)
	page := alice.Get("/.smsgate/devices")
	sitetest.ExpectBody(t, page, "1•••••••671")
	sitetest.ExpectBody(t, page, "10 unused")
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}
	stepUp(t, s, alice, tok, alice.Post("/.smsgate/devices", add))
	// Fresh now, the page finishes the add it kept: a code goes to the new
	// number, and once it is verified the first phone hears about it.
	s.Advance(time.Minute)
	sitetest.Expect(t, alice.Get("/.smsgate/devices"), http.StatusSeeOther, "/.smsgate/verify")
	page = alice.Get("/.smsgate/verify")
	sitetest.ExpectBody(t, page, "44•••••••456")
	tok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page = alice.Get("/.smsgate/devices")
	sitetest.ExpectBody(t, page, "Work phone")
	if n := len(s.Notices()); n != 1 || !strings.Contains(s.Notices()[0], "a new phone (+44•••••••456) was added") || !strings.HasSuffix(s.Notices()[0], "+1•••••••671") {
		t.Fatalf("notices: %q", s.Notices())
	}

	// A new session: the user picks which phone gets the code.
	s.Advance(time.Minute)
	c := sitetest.NewClient(t, "alice")
	verify := c.Get("/.smsgate/verify")
	ids := deviceID.FindAllStringSubmatch(verify.Text, -1)
	if len(ids) != 2 {
		t.Fatalf("%d phones to choose from, want 2:\n%s", len(ids), verify.Text)
	}
	ctok := sitetest.CSRFField.FindStringSubmatch(verify.Text)[1]
	for _, id := range ids {
		s.Advance(time.Minute)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {id[1]}, "csrf": {ctok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	last := s.LogEntries("verification code")
	if to := last[len(last)-1]["to"]; to != "+1•••••••671" && to != "+44•••••••456" {
		t.Fatalf("code went to %v", to)
	}
	if last[len(last)-1]["to"] == last[len(last)-2]["to"] {
		t.Fatal("both choices sent to the same phone")
	}
	if last[len(last)-1]["to"] == "+44•••••••456" {
		// Signed in with the first phone, so that removing the work phone
		// below leaves this session (one the work phone signed in ends).
		s.Advance(time.Minute)
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {ids[0][1]}, "csrf": {ctok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {ctok}}), http.StatusSeeOther, "/")

	// Remove the work phone (fresh), then the last one is refused.
	page = c.Get("/.smsgate/devices")
	ctok = sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	var workID string
	for _, m := range regexp.MustCompile(`(?s)<strong>([^<]+)</strong>.*?name="device" value="([^"]+)"`).FindAllStringSubmatch(page.Text, -1) {
		if m[1] == "Work phone" {
			workID = m[2]
		}
	}
	// First the page asks, naming the phone; nothing is removed yet.
	ask := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {workID}, "csrf": {ctok}})
	sitetest.Expect(t, ask, http.StatusOK, "")
	sitetest.ExpectBody(t, ask, "Remove Work phone (&#43;44•••••••456)?")
	if n := s.Notices(); len(n) != 1 {
		t.Fatalf("a phone was removed before the confirmation: %q", n)
	}
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {workID}, "confirm": {"1"}, "csrf": {ctok}}), http.StatusOK, "")
	if n := s.Notices(); len(n) != 2 || !strings.Contains(n[1], "was removed from your account. Browsers signed in with it were signed out.") {
		t.Fatalf("notices: %q", n)
	}
	lastID := deviceID.FindStringSubmatch(c.Get("/.smsgate/devices").Text)[1]
	res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lastID}, "confirm": {"1"}, "csrf": {ctok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "This is your only device")

	// A recovery code signs in once, and the phone is told.
	r1 := sitetest.NewClient(t, "alice")
	rtok := r1.CSRF("/.smsgate/verify")
	sitetest.Expect(t, r1.Post("/.smsgate/verify", url.Values{"code": {strings.ToLower(recovery[0])}, "csrf": {rtok}}), http.StatusSeeOther, "/")
	sitetest.ExpectBody(t, r1.Get("/"), "Hello, alice!")
	if n := s.Notices(); !strings.Contains(n[len(n)-1], "a recovery code was used") {
		t.Fatalf("notices: %q", n)
	}
	r2 := sitetest.NewClient(t, "alice")
	rtok = r2.CSRF("/.smsgate/verify")
	res = r2.Post("/.smsgate/verify", url.Values{"code": {recovery[0]}, "csrf": {rtok}})
	sitetest.Expect(t, res, http.StatusBadRequest, "")
	sitetest.ExpectBody(t, res, "each works only once")

	// New codes (the recovery sign-in is fresh) make the old ones stop working.
	res = r1.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "confirm": {"1"}, "csrf": {r1.CSRF("/.smsgate/devices")}})
	sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/recovery")
	res = r1.Get("/.smsgate/recovery")
	sitetest.Expect(t, res, http.StatusOK, "")
	fresh := sitetest.RecoveryCode.FindAllStringSubmatch(res.Text, -1)
	if len(fresh) != 10 {
		t.Fatalf("%d new codes", len(fresh))
	}
	r3 := sitetest.NewClient(t, "alice")
	rtok = r3.CSRF("/.smsgate/verify")
	sitetest.Expect(t, r3.Post("/.smsgate/verify", url.Values{"code": {recovery[1]}, "csrf": {rtok}}), http.StatusBadRequest, "")
	sitetest.Expect(t, r3.Post("/.smsgate/verify", url.Values{"code": {fresh[0][1]}, "csrf": {rtok}}), http.StatusSeeOther, "/")

	// The same page as JSON, for scripts.
	r3.Accept = "application/json"
	res = r3.Get("/.smsgate/devices")
	sitetest.ExpectBody(t, res, `"step":"devices"`)
	sitetest.ExpectBody(t, res, `"phone":"+1•••••••671"`)
	sitetest.ExpectBody(t, res, `"recovery_left":9`)
	r3.Accept = "text/html"

	// Stale sessions cannot change anything: step-up again.
	s.Advance(10 * time.Minute)
	dtok := r3.CSRF("/.smsgate/devices")
	sitetest.Expect(t, r3.Post("/.smsgate/devices", url.Values{"action": {"recovery"}, "csrf": {dtok}}), http.StatusSeeOther, "/.smsgate/verify")
}
