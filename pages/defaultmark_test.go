package pages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheDefaultMarkIsForTwoPhones: through a real Caddy, bob's devices
// page with his one phone marks none of it "Default" (walk35's 61, 10,
// 70: a mark that chose nothing); with a second phone, the default one is
// marked "Default for texts" ("Standard für SMS" in German), once.
func TestTheDefaultMarkIsForTwoPhones(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	bob := sitetest.NewClient(t, "bob")
	sitetest.Enroll(t, s, bob, "+14155550103")
	page := bob.Get("/.smsgate/devices")
	sitetest.Expect(t, page, http.StatusOK, "")
	if strings.Contains(page.Text, `class="badge"`) {
		t.Fatalf("bob's one phone is marked:\n%s", page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	sitetest.Expect(t, bob.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {"+14155550104"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.Expect(t, bob.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	page = bob.Get("/.smsgate/devices")
	if strings.Count(page.Text, `<span class="badge">Default for texts</span>`) != 1 {
		t.Fatalf("bob's two phones: no default marked \"Default for texts\", once:\n%s", page.Text)
	}
	de := bob.GetWith("/.smsgate/devices", map[string]string{"Accept-Language": "de"})
	sitetest.ExpectBody(t, de, `<span class="badge">Standard für SMS</span>`)
}
