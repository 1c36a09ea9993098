package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestTheLastSlotIsTakenOnceWhateverTheKind (attack17): carol, one device
// short of MaxDevices, finishes adding two passkeys, an authenticator app
// and two phones from five of her sessions at once, while the admin API
// adds a phone for her: through a real Caddy on Badger and Redis. One
// device is added; every other answer says her account is full, or (a
// passkey's, an app's, once a passkey or an app was added meanwhile) asks
// for the step-up with it that she now needs (none a 500); her list holds MaxDevices; only the one added tells her phones
// (the admin's tells none); no whole number nor the app's secret in the log. Each kind's add checks the limit in the atomic
// update that writes her list (enrollment.Devices.edit). Checked on a read
// before that update, all six were added (15 devices) once the read and
// the write were 100 ms apart (a slow store); at this store's speed, six
// requests at once did not land in that gap in the runs tried: every
// interleaving is enrollment's TestTwoAddsIntoTheLastSlot.
func TestTheLastSlotIsTakenOnceWhateverTheKind(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine)
		origin := s.WithPorts(s.Base)
		for i := 0; i < enrollment.MaxDevices-1; i++ {
			addUser(t, s, "carol", fmt.Sprintf("+1415555%04d", 100+i))
		}
		session := func() *sitetest.Client {
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			return c
		}
		// A contender's answer is a win (added), a refusal (her account
		// full; or, for a passkey or an app, the step-up with one that a
		// passkey or an app added meanwhile now asks for: 403 and a
		// redirect to the verify step), or a failure of the test.
		type contender struct {
			kind   string
			finish func() (status int, text, location string)
		}
		var all []contender
		for range 2 {
			c, auth := session(), fakes.NewAuthenticator("localhost", origin)
			c.Get("/.smsgate/devices") // the page the ceremony runs on: its flow
			begin := c.PostJSON("/.smsgate/passkey/register/begin", s.Base, json.RawMessage("{}"))
			if begin.StatusCode != http.StatusOK {
				t.Fatalf("register/begin: %d %s", begin.StatusCode, begin.Text)
			}
			answer, err := auth.Create([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, contender{"passkey", func() (int, string, string) {
				res := c.PostJSON("/.smsgate/passkey/register/finish", s.Base, json.RawMessage(answer))
				return res.StatusCode, res.Text, ""
			}})
		}
		app := session()
		secret, appTok := appSetup(t, app)
		all = append(all, contender{"app", func() (int, string, string) {
			res := app.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "csrf": {appTok}})
			return res.StatusCode, res.Text, res.Header.Get("Location")
		}})
		for i := range 2 {
			c := session()
			tok := c.CSRF("/.smsgate/devices")
			sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {fmt.Sprintf("+4474001234%02d", i)}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			code := s.LastCode()
			all = append(all, contender{"phone", func() (int, string, string) {
				res := c.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
				return res.StatusCode, res.Text, res.Header.Get("Location")
			}})
		}
		all = append(all, contender{"admin", func() (int, string, string) {
			st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"carol","phone":"+14155559999"}`)
			return st, out, ""
		}})
		before := len(s.Notices())

		statuses, texts, locations := make([]int, len(all)), make([]string, len(all)), make([]string, len(all))
		var wg sync.WaitGroup
		for i, c := range all {
			wg.Go(func() { statuses[i], texts[i], locations[i] = c.finish() })
		}
		wg.Wait()
		full := fmt.Sprintf("At most %d devices", enrollment.MaxDevices)
		var won []string
		for i, c := range all {
			st, text, loc := statuses[i], texts[i], locations[i]
			switch {
			case st == http.StatusBadRequest && strings.Contains(text, full),
				c.kind == "passkey" && st == http.StatusForbidden && strings.Contains(text, `"step_up"`),
				c.kind == "app" && st == http.StatusSeeOther && loc == "/.smsgate/verify":
			case c.kind == "passkey" && st == http.StatusOK && strings.Contains(text, `"added"`),
				c.kind == "app" && st == http.StatusOK && strings.Contains(text, "The authenticator app was added."),
				c.kind == "phone" && st == http.StatusSeeOther && loc == "/.smsgate/devices",
				c.kind == "admin" && st == http.StatusOK:
				won = append(won, c.kind)
			default:
				t.Errorf("%s: %d %s %s", c.kind, st, loc, text)
			}
		}
		list := listOf(t, s, "localhost", "carol")
		t.Logf("added: %v; answers %v %q", won, statuses, locations)
		if len(won) != 1 || len(list) != enrollment.MaxDevices {
			t.Fatalf("six adds at once into the last slot: %v added, %d devices; want one, %d", won, len(list), enrollment.MaxDevices)
		}
		told := map[string]int{}
		for _, n := range s.Notices()[before:] {
			for _, kind := range []string{"a new phone", "an authenticator app", "a passkey"} {
				if strings.Contains(n, kind+" ") && strings.Contains(n, "was added") {
					told[kind]++
				}
			}
		}
		want := map[string]string{"phone": "a new phone", "app": "an authenticator app", "passkey": "a passkey"}[won[0]]
		for kind, n := range told {
			if kind != want || n == 0 {
				t.Fatalf("%s won; her phones were told %v", won[0], told)
			}
		}
		if want != "" && told[want] == 0 {
			t.Fatalf("%s won; her phones were told nothing", won[0])
		}
		log, err := os.ReadFile(s.LogFile)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.Join(strings.Fields(string(log)), "")
		for _, number := range []string{"447400123400", "447400123401", "14155559999", "14155550100", strings.ReplaceAll(secret, " ", "")} {
			if strings.Contains(raw, number) {
				t.Fatalf("the log holds %s", number)
			}
		}
	})
}

// listOf is user's devices in realm, as the admin API lists them.
func listOf(t *testing.T, s *sitetest.Site, realm, user string) []map[string]any {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/users?realm="+realm, "")
	var users []struct {
		User    string           `json:"user"`
		Devices []map[string]any `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, u := range users {
		if u.User == user {
			return u.Devices
		}
	}
	return nil
}
