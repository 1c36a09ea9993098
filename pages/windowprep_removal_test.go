package pages_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// straddleUser's removal is held (sitetest.Holds.Park) once its first
// lasting write, the removed phone's tombstone, is written.
const straddleUser = "rita"

func init() {
	earlier := sitetest.Holds.Park
	sitetest.Holds.Park = func(op, key string) bool {
		if strings.HasSuffix(key, "/"+straddleUser) {
			return key == store.Key("removed-device", "localhost", straddleUser) && op == "write"
		}
		return earlier != nil && earlier(op, key)
	}
}

// TestARevocationAfterTheTombstoneStopsTheRemoval (review36b F2):
// the devices page's removal of a phone writes the phone's tombstone
// first (enrollment.Devices.remove: bury), then the notice it owes, then
// her device list. The tombstone is the change's first lasting write: it
// spends the guard, and the list's write two or three round trips later is
// unguarded. Her revocation (another instance's sign-out everywhere)
// landing after the tombstone and before the list's write lets the
// removal through on a session already ended: 200, the phone gone.
func TestARevocationAfterTheTombstoneStopsTheRemoval(t *testing.T) {
	sitetest.Parallel(t)
	for _, kind := range []string{"badger", "redis"} {
		t.Run(kind, func(t *testing.T) {
			sitetest.Parallel(t)
			inner := "badger {DIR}"
			if kind == "redis" {
				inner = "redis " + redistest.Server(t)
			}
			dir := t.TempDir()
			s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		store smsgate_test_hold %s %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, dir, inner))
			for _, p := range []string{"+14155550121", "+14155550122"} {
				if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"`+straddleUser+`","phone":"`+p+`"}`); st != http.StatusOK {
					t.Fatalf("adding: %d %s", st, out)
				}
			}
			users := func() string { _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); return out }
			other := regexp.MustCompile(`"id":"([^"]+)","name":"Phone 2"`).FindStringSubmatch(users())[1]
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {straddleUser}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			before := users()
			c.SetCookie(pages.KnownCookie, "none")
			form := url.Values{"action": {"remove"}, "device": {other}, "confirm": {"1"}, "csrf": {c.CSRF("/.smsgate/devices")}}
			held := sitetest.Park(t, dir, func() *sitetest.Response {
				return c.PostWith("/.smsgate/devices", form, map[string]string{"Origin": c.Base()})
			})
			if parked := users(); parked != before {
				t.Fatalf("held after her list's write, not before it:\n%s", parked)
			}
			at, _ := json.Marshal(s.Now().Add(time.Second).UTC())
			sitetest.PutWhileParked(t, dir, endkeys.User("localhost", straddleUser), at)
			res := held.Release(t)
			if after := users(); after != before {
				t.Errorf("her removal, her session revoked after its tombstone and before her list's write: %d %s, and her phone went:\nbefore %s\nafter  %s",
					res.StatusCode, res.Header.Get("Location"), before, after)
			}
		})
	}
}
