package caddymodule_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAResetStoppedAfterHerOnlyPhoneWentFinishesWhenAskedAgain
// (redesign39; adminops38 left it): rosa's only record is the phone the
// admin API added. Her reset through the admin API is held once it has
// written her device list away (her phone gone), and the store goes away
// meanwhile: the rest of the reset fails, 503, nothing audited. Asked
// again once the store is back, the reset finds her by the record that
// it began (reset-begun/), finishes, answers "reset": rosa, and
// admin_reset is audited once; a third reset, with nothing of hers left,
// is "No such user" (the record went with the reset's end). On Badger
// and Redis, through a real Caddy. (Before: the retry answered 404 "No
// such user", and her reset was audited nowhere.)
func TestAResetStoppedAfterHerOnlyPhoneWentFinishesWhenAskedAgain(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		held := strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1)
		s := textSite(t, held, []string{"rosa"}, limitsOff)
		addUser(t, s, "rosa", "+14155552690")
		reset := func() *sitetest.Response {
			res, err := http.Post(s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/reset"), "application/json",
				strings.NewReader(`{"realm":"localhost","user":"rosa"}`))
			if err != nil {
				return &sitetest.Response{Response: &http.Response{StatusCode: 0}, Text: err.Error()}
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return &sitetest.Response{Response: res, Text: string(b)}
		}
		// Held once her device list is written away; the store goes away
		// meanwhile, so the reset's later steps fail.
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "rosa", Op: "write", Key: "device/localhost/rosa"})
		parked := sitetest.Park(t, dir, reset)
		if err := os.WriteFile(filepath.Join(dir, "down"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := parked.Release(t)
		if err := os.Remove(filepath.Join(dir, "down")); err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a reset the store stopped after her phone went: %d %s; want 503", res.StatusCode, res.Text)
		}
		if st, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); st != http.StatusOK || strings.Contains(out, `"user":"rosa"`) {
			t.Fatalf("the users after the first try: %d %s; want rosa gone (her phone went before the failure)", st, out)
		}
		if got := s.LogEntries("admin_reset"); len(got) != 0 {
			t.Fatalf("a reset that failed audited %v", got)
		}
		res = reset()
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Text, `"reset":"rosa"`) {
			t.Fatalf("the reset asked again: %d %s; want it finished, \"reset\": rosa", res.StatusCode, res.Text)
		}
		if got := s.LogEntries("admin_reset"); len(got) != 1 || got[0]["user"] != "rosa" {
			t.Fatalf("audited %v; want admin_reset of rosa once", got)
		}
		if res := reset(); res.StatusCode != http.StatusNotFound || !strings.Contains(res.Text, "No such user") {
			t.Errorf("a third reset, nothing of hers left: %d %s; want 404 No such user", res.StatusCode, res.Text)
		}
	})
}
