package caddymodule_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestARenameToNothingIsRefused: a device's new name that cleans to
// nothing (only spaces, which the field's `required` lets through, invalid
// UTF-8, a direction mark, NULs, the invisible U+034F, U+FE0F and Hangul
// filler U+3164) is a 400 saying the name was not changed, not "The name
// was changed." while the old name stays; a name with letters is still
// taken, without what textsafe hides (an emoji's U+FE0F: ❤ stays).
func TestARenameToNothingIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	s := sitetest.Basic(t, "")
	c := sitetest.NewClient(t, "alice")
	sitetest.Enroll(t, s, c, "+14155552671")
	page := c.Get("/.smsgate/devices")
	dev := regexp.MustCompile(`name="device" value="([A-Z0-9]+)"`).FindStringSubmatch(page.Text)
	if dev == nil {
		t.Fatalf("no device on the page:\n%s", page.Text)
	}
	tok := sitetest.CSRFField.FindStringSubmatch(page.Text)[1]
	rename := func(name string) *sitetest.Response {
		return c.Post("/.smsgate/devices", url.Values{"csrf": {tok}, "action": {"rename"}, "device": {dev[1]}, "name": {name}})
	}
	for _, name := range []string{"   ", "\xff\xfe", "\u202e", "\x00\x00", "\u034f\ufe0f \u3164"} {
		res := rename(name)
		if res.StatusCode != http.StatusBadRequest || strings.Contains(res.Text, "The name was changed.") ||
			!strings.Contains(res.Text, "The name was not changed: a name needs characters you can see") {
			t.Errorf("rename to %q: %d\n%s", name, res.StatusCode, res.Text)
		}
	}
	if res := rename("Work phone"); !strings.Contains(res.Text, "The name was changed.") || !strings.Contains(c.Get("/.smsgate/devices").Text, "Work phone") {
		t.Errorf("rename to Work phone: %d\n%s", res.StatusCode, res.Text)
	}
	if res := rename("Anna\u034f \u2764\ufe0f"); !strings.Contains(res.Text, "The name was changed.") ||
		!strings.Contains(c.Get("/.smsgate/devices").Text, "Anna \u2764<") {
		t.Errorf("rename to Anna ❤: %d\n%s", res.StatusCode, res.Text)
	}
}
