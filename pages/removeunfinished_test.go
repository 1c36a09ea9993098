package pages_test

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARemovalTheStoreStopsAsksAgain: through a real Caddy, a confirmed
// removal of a phone whose store goes away once the phone is gone, as its
// end is written (what it earned not yet ended), answers 503 with the
// confirmation of that phone again, named as the page named it before
// the removal: the page lists it no more, and only the removal asked
// again ends what it earned. The phone is the one the removal read (the
// list strongChange read for it).
func TestARemovalTheStoreStopsAsksAgain(t *testing.T) {
	sitetest.Parallel(t)
	s, dir := heldSite(t, "badger")
	c := sitetest.NewClient(t, "")
	sitetest.SignIn(t, s, c)
	for _, add := range [][2]string{{"+447400123456", "Work phone"}, {"+447400123457", "Home phone"}} {
		s.Advance(time.Minute) // past the last code's wait
		tok := c.CSRF("/.smsgate/devices")
		sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {add[0]}, "name": {add[1]}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/devices")
	}
	page := c.Get("/.smsgate/devices")
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	var work string
	for _, m := range regexp.MustCompile(`(?s)<strong>([^<]+)</strong>.*?name="device" value="([^"]+)"`).FindAllStringSubmatch(page.Text, -1) {
		if m[1] == "Work phone" {
			work = m[2]
		}
	}
	if work == "" {
		t.Fatal("no Work phone on the devices page")
	}
	if err := os.WriteFile(filepath.Join(dir, "break"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	res := c.Post("/.smsgate/devices", url.Values{"action": {"remove"}, "device": {work}, "confirm": {"1"}, "csrf": {tok}})
	if err := os.Remove(filepath.Join(dir, "down")); err != nil {
		t.Fatalf("the store never went away: %v", err)
	}
	sitetest.Expect(t, res, http.StatusServiceUnavailable, "")
	sitetest.ExpectBody(t, res, "could not be removed completely")
	sitetest.ExpectBody(t, res, "Remove Work phone (&#43;44•••••••456)?")
	if strings.Contains(c.Get("/.smsgate/devices").Text, "44•••••••456") {
		t.Fatal("the phone is still listed: the store went away before it was removed")
	}
}
