package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

var appSetupSecret = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`) // the devices page's app setup

// TestTheLastDeviceSlotIsTakenOnce (attack14): carol, one slot short of
// MaxDevices, confirms a new phone's code from four of her sessions at
// once, through a real Caddy on Badger and Redis. One is added, the others
// are told the account is full: the limit is checked in the step that
// writes her list.
func TestTheLastDeviceSlotIsTakenOnce(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine, "factors sms totp")
		const n = 4
		clients := make([]*sitetest.Client, n)
		for i := range clients {
			clients[i] = sitetest.NewClient(t, "")
			tok := clients[i].CSRF("/.smsgate/login")
			sitetest.Expect(t, clients[i].Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, clients[i].Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
		}
		for i := 0; ; i++ {
			body := fmt.Sprintf(`{"realm":"localhost","user":"carol","phone":"+1415555%04d"}`, 100+i)
			if st, out := s.Admin("POST", "/smsgate/users", body); st != http.StatusOK {
				if st != http.StatusBadRequest || !strings.Contains(out, "At most") {
					t.Fatalf("adding phone %d: %d %s", i, st, out)
				}
				break
			}
		}
		devices := func() []map[string]any {
			t.Helper()
			_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
			var users []struct {
				User    string           `json:"user"`
				Devices []map[string]any `json:"devices"`
			}
			if err := json.Unmarshal([]byte(out), &users); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for _, u := range users {
				if u.User == "carol" {
					return u.Devices
				}
			}
			return nil
		}
		list := devices()
		if len(list) != enrollment.MaxDevices {
			t.Fatalf("%d devices, want %d", len(list), enrollment.MaxDevices)
		}
		id := fmt.Sprint(list[len(list)-1]["id"])
		if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"carol","id":%q}`, id)); st != http.StatusOK {
			t.Fatalf("removing %s: %d %s", id, st, out)
		}
		// Each session adds a phone of its own (one app setup is pending
		// per user at a time: a later one replaces it).
		codes, toks := make([]string, n), make([]string, n)
		for i, c := range clients {
			toks[i] = c.CSRF("/.smsgate/devices")
			res := c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {fmt.Sprintf("+4474001234%02d", i)}, "csrf": {toks[i]}})
			sitetest.Expect(t, res, http.StatusSeeOther, "/.smsgate/verify")
			codes[i] = s.LastCode()
		}
		full := make([]bool, n)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res := c.Post("/.smsgate/verify", url.Values{"code": {codes[i]}, "csrf": {toks[i]}})
				full[i] = res.StatusCode == http.StatusBadRequest && strings.Contains(res.Text, fmt.Sprintf("At most %d devices", enrollment.MaxDevices))
			}()
		}
		wg.Wait()
		refused := 0
		for _, f := range full {
			if f {
				refused++
			}
		}
		if got := len(devices()); refused != n-1 || got != enrollment.MaxDevices {
			t.Fatalf("four phones confirmed at once into the last slot: told full %v, %d devices; want one added, %d devices", full, got, enrollment.MaxDevices)
		}
	})
}
