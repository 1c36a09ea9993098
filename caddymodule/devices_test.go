package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/caddymodule"
)

var deviceID = regexp.MustCompile(`name="device" value="([^"]+)"`)

// notices returns the bodies of the notices (messages without a code).
func (s *site) notices() []string {
	var out []string
	for _, m := range s.logEntries("notice") {
		out = append(out, m["body"].(string)+" → "+m["to"].(string))
	}
	return out
}

// stepUp answers the devices page's demand for a fresh code.
func stepUp(t *testing.T, s *site, c *client, tok string, res *response) {
	t.Helper()
	expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
	expect(t, c.post("/.smsgate/verify", url.Values{"action": {"send"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
}

func TestDevicesAndRecoveryCodes(t *testing.T) {
	s := basicSite(t, "")
	alice := newClient(t, "alice")
	expect(t, alice.get("/.smsgate/login"), http.StatusSeeOther, "/.smsgate/enroll")
	tok := alice.csrf("/.smsgate/enroll")
	alice.post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}})
	recovery := expectEnrolled(t, alice.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), "/")

	// Adding a phone needs a fresh code: ten minutes on, it asks for one.
	caddymodule.Advance(10 * time.Minute)
	page := alice.get("/.smsgate/devices")
	expectBody(t, page, "1•••••••671")
	expectBody(t, page, "10 unused")
	tok = csrfField.FindStringSubmatch(page.body)[1]
	add := url.Values{"action": {"add"}, "phone": {"+447400123456"}, "name": {"Work phone"}, "csrf": {tok}}
	stepUp(t, s, alice, tok, alice.post("/.smsgate/devices", add))
	// Fresh now: a code goes to the new number, and once it is verified the
	// first phone hears about it.
	caddymodule.Advance(time.Minute)
	tok = alice.csrf("/.smsgate/devices")
	add.Set("csrf", tok)
	expect(t, alice.post("/.smsgate/devices", add), http.StatusSeeOther, "/.smsgate/verify")
	expectBody(t, alice.get("/.smsgate/verify"), "44•••••••456")
	expect(t, alice.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page = alice.get("/.smsgate/devices")
	expectBody(t, page, "Work phone")
	if n := len(s.notices()); n != 1 || !strings.Contains(s.notices()[0], "a new phone (+44•••••••456) was added") || !strings.HasSuffix(s.notices()[0], "+1•••••••671") {
		t.Fatalf("notices: %q", s.notices())
	}

	// A new session: the user picks which phone gets the code.
	caddymodule.Advance(time.Minute)
	c := newClient(t, "alice")
	verify := c.get("/.smsgate/verify")
	ids := deviceID.FindAllStringSubmatch(verify.body, -1)
	if len(ids) != 2 {
		t.Fatalf("%d phones to choose from, want 2:\n%s", len(ids), verify.body)
	}
	ctok := csrfField.FindStringSubmatch(verify.body)[1]
	for _, id := range ids {
		caddymodule.Advance(time.Minute)
		expect(t, c.post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {id[1]}, "csrf": {ctok}}), http.StatusSeeOther, "/.smsgate/verify")
	}
	last := s.logEntries("verification code")
	if to := last[len(last)-1]["to"]; to != "+1•••••••671" && to != "+44•••••••456" {
		t.Fatalf("code went to %v", to)
	}
	if last[len(last)-1]["to"] == last[len(last)-2]["to"] {
		t.Fatal("both choices sent to the same phone")
	}
	expect(t, c.post("/.smsgate/verify", url.Values{"code": {s.lastCode()}, "csrf": {ctok}}), http.StatusSeeOther, "/")

	// Remove the work phone (fresh), then the last one is refused.
	page = c.get("/.smsgate/devices")
	ctok = csrfField.FindStringSubmatch(page.body)[1]
	var workID string
	for _, m := range regexp.MustCompile(`(?s)<strong>([^<]+)</strong>.*?name="device" value="([^"]+)"`).FindAllStringSubmatch(page.body, -1) {
		if m[1] == "Work phone" {
			workID = m[2]
		}
	}
	// First the page asks, naming the phone; nothing is removed yet.
	ask := c.post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {workID}, "csrf": {ctok}})
	expect(t, ask, http.StatusOK, "")
	expectBody(t, ask, "Remove Work phone (&#43;44•••••••456)?")
	if n := s.notices(); len(n) != 1 {
		t.Fatalf("a phone was removed before the confirmation: %q", n)
	}
	expect(t, c.post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {workID}, "confirm": {"1"}, "csrf": {ctok}}), http.StatusOK, "")
	if n := s.notices(); len(n) != 2 || !strings.Contains(n[1], "was removed") {
		t.Fatalf("notices: %q", n)
	}
	lastID := deviceID.FindStringSubmatch(c.get("/.smsgate/devices").body)[1]
	res := c.post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {lastID}, "confirm": {"1"}, "csrf": {ctok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "This is your only phone")

	// A recovery code signs in once, and the phone is told.
	r1 := newClient(t, "alice")
	rtok := r1.csrf("/.smsgate/verify")
	expect(t, r1.post("/.smsgate/verify", url.Values{"code": {strings.ToLower(recovery[0])}, "csrf": {rtok}}), http.StatusSeeOther, "/")
	expectBody(t, r1.get("/"), "Hello, alice!")
	if n := s.notices(); !strings.Contains(n[len(n)-1], "a recovery code was used") {
		t.Fatalf("notices: %q", n)
	}
	r2 := newClient(t, "alice")
	rtok = r2.csrf("/.smsgate/verify")
	res = r2.post("/.smsgate/verify", url.Values{"code": {recovery[0]}, "csrf": {rtok}})
	expect(t, res, http.StatusBadRequest, "")
	expectBody(t, res, "each works only once")

	// New codes (the recovery sign-in is fresh) make the old ones stop working.
	res = r1.post("/.smsgate/devices", url.Values{"action": {"recovery"}, "csrf": {r1.csrf("/.smsgate/devices")}})
	expect(t, res, http.StatusOK, "")
	fresh := recoveryCode.FindAllStringSubmatch(res.body, -1)
	if len(fresh) != 10 {
		t.Fatalf("%d new codes", len(fresh))
	}
	r3 := newClient(t, "alice")
	rtok = r3.csrf("/.smsgate/verify")
	expect(t, r3.post("/.smsgate/verify", url.Values{"code": {recovery[1]}, "csrf": {rtok}}), http.StatusBadRequest, "")
	expect(t, r3.post("/.smsgate/verify", url.Values{"code": {fresh[0][1]}, "csrf": {rtok}}), http.StatusSeeOther, "/")

	// The same page as JSON, for scripts.
	r3.accept = "application/json"
	res = r3.get("/.smsgate/devices")
	expectBody(t, res, `"step":"devices"`)
	expectBody(t, res, `"phone":"+1•••••••671"`)
	expectBody(t, res, `"recovery_left":9`)
	r3.accept = "text/html"

	// Stale sessions cannot change anything: step-up again.
	caddymodule.Advance(10 * time.Minute)
	dtok := r3.csrf("/.smsgate/devices")
	expect(t, r3.post("/.smsgate/devices", url.Values{"action": {"recovery"}, "csrf": {dtok}}), http.StatusSeeOther, "/.smsgate/verify")
}
