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

var appSetupSecret = regexp.MustCompile(`<code class="secret" id="secret">([A-Z2-7 ]+)</code>`)

// TestTheLastDeviceSlotIsTakenOnce (attack14): carol, one slot short of
// MaxDevices, confirms an authenticator app from four of her sessions at
// once, through a real Caddy on Badger and Redis. One is added, the others
// are told the account is full: the limit is checked in the step that
// writes her list.
func TestTheLastDeviceSlotIsTakenOnce(t *testing.T) {
	onEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := sitetest.Start(t, `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		user carol +14155552671
		factors sms totp
		`+storeLine+`
		provider log
`+limitsOff+`	}
	respond "hi {http.auth.user.id}"
}`)
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
		forms := make([]url.Values, n)
		for i, c := range clients {
			tok := c.CSRF("/.smsgate/devices")
			res := c.Post("/.smsgate/devices", url.Values{"action": {"app"}, "csrf": {tok}})
			m := appSetupSecret.FindStringSubmatch(res.Text)
			if m == nil {
				t.Fatalf("no app setup: %d\n%s", res.StatusCode, res.Text)
			}
			forms[i] = url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, m[1])}, "csrf": {tok}}
		}
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = c.Post("/.smsgate/devices", forms[i]).StatusCode
			}()
		}
		wg.Wait()
		added := 0
		for _, st := range statuses {
			if st < 400 {
				added++
			}
		}
		if got := len(devices()); added != 1 || got != enrollment.MaxDevices {
			t.Fatalf("four apps confirmed at once into the last slot: statuses %v, %d devices; want one added, %d devices", statuses, got, enrollment.MaxDevices)
		}
	})
}
