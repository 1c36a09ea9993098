package caddymodule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestADeviceTheThiefAddedGoesWithTheNumber: a thief holding alice's
// password and her provisioned phone (the config's `user` line) signs in
// with its code and adds a phone and an app of his own on the devices
// page (their notices go to the phone he holds), then, from that phone's
// session, another phone. Alice signs in with an enrolled phone of hers and adds one too.
// The admin gives alice a new number and reloads: the thief's phones
// and app go (their codes sign nobody in), hers stay, and she is told at
// her new number; a phone she adds with the new number's session stays
// through the next load. On Badger and Redis, through a real Caddy.
// (Before: his phone's code said "Hello, alice!" after the reload.)
func TestADeviceTheThiefAddedGoesWithTheNumber(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, keep func(*sitetest.Site) string) {
		user := func(number string) string { return "\t\tuser alice " + number + "\n" + limitsOff }
		s := textSite(t, storeLine, []string{"alice"}, user("+14155552671"))
		thief := sitetest.NewClient(t, "alice")
		signIn(t, s, thief)
		x := addPhone(t, s, thief, "+14155559001", "X")
		secret, tok := appSetup(t, thief)
		sitetest.Expect(t, thief.Post("/.smsgate/devices", url.Values{"action": {"app-confirm"}, "code": {sitetest.AppCode(t, secret)}, "name": {"A"}, "csrf": {tok}}), http.StatusOK, "")
		fromX := sitetest.NewClient(t, "alice")
		signInWith(t, s, fromX, x, false)
		y := addPhone(t, s, fromX, "+14155559002", "Y")
		enrolled := addUser(t, s, "alice", "+14155559003")
		alice := sitetest.NewClient(t, "alice")
		signInWith(t, s, alice, enrolled, false)
		w := addPhone(t, s, alice, "+14155559004", "W")

		same := keep(s)
		s = textSite(t, same, []string{"alice"}, user("+447400123456"))
		for _, id := range []string{x, y} {
			if phoneSignsIn(t, s, id) {
				t.Errorf("the phone the thief added (%s) signed him in after the config took the number away", id)
			}
		}
		if got := deviceNames(t, s); got != "Phone 3-W" {
			t.Errorf("alice's devices after the reload: %q (want her enrolled phone and W)", got)
		}
		told := strings.Join(s.Notices(), "\n")
		if !strings.Contains(told, "devices added while signed in with your previous number were removed") || !strings.Contains(told, "+44") {
			t.Errorf("alice not told at her new number: %s", told)
		}
		if !phoneSignsIn(t, s, w) {
			t.Error("the phone alice added from her enrolled phone's session no longer signs her in")
		}

		s.Advance(time.Second) // past the revocation's second
		mine := sitetest.NewClient(t, "alice")
		signIn(t, s, mine)
		v := addPhone(t, s, mine, "+14155559005", "V")
		s = textSite(t, same, []string{"alice"}, user("+447400123456"))
		if !phoneSignsIn(t, s, v) {
			t.Error("the phone alice added with her new number's session went at a load that changed nothing")
		}
	})
}

// addPhone has c, signed in, add e164 named name on the devices page (its
// code typed), and returns its ID.
func addPhone(t *testing.T, s *sitetest.Site, c *sitetest.Client, e164, name string) string {
	t.Helper()
	tok := c.CSRF("/.smsgate/devices")
	sitetest.Expect(t, c.Post("/.smsgate/devices", url.Values{"action": {"add"}, "phone": {e164}, "name": {name}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	if res := c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("adding %s: %d %s", name, res.StatusCode, res.Text)
	}
	for _, d := range devicesOf(t, s) {
		if d.Name == name {
			return d.ID
		}
	}
	t.Fatalf("%s not added", name)
	return ""
}

type listed struct{ ID, Name string }

// devicesOf is alice's devices, as the admin API lists them.
func devicesOf(t *testing.T, s *sitetest.Site) []listed {
	t.Helper()
	_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
	var list []struct {
		User    string
		Devices []listed
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, u := range list {
		if u.User == "alice" {
			return u.Devices
		}
	}
	return nil
}

// deviceNames is alice's devices' names, joined by "-" in the list's order.
func deviceNames(t *testing.T, s *sitetest.Site) string {
	var names []string
	for _, d := range devicesOf(t, s) {
		names = append(names, d.Name)
	}
	return strings.Join(names, "-")
}

// phoneSignsIn reports whether a new browser signs in as alice with the
// code texted to her device id.
func phoneSignsIn(t *testing.T, s *sitetest.Site, id string) bool {
	t.Helper()
	s.Advance(time.Minute) // past the last send's cooldown
	c := sitetest.NewClient(t, "alice")
	sitetest.Expect(t, c.Get("/.smsgate/login?rd=%2F"), http.StatusSeeOther, "/.smsgate/verify")
	tok := c.CSRF("/.smsgate/verify")
	before := s.Sent()
	c.Post("/.smsgate/verify", url.Values{"action": {"send"}, "device": {id}, "csrf": {tok}})
	if s.Sent() == before {
		return false // no code went out
	}
	c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}})
	return c.Get("/").StatusCode == http.StatusOK
}

// TestADeviceListOfThePreviousReleaseReadsWithAddedBy: alice's device
// list as the previous release wrote it (no device records what added
// it: the thief's phone X, added from the config phone's session before
// the upgrade) reads at a gate of this release; a phone the thief adds
// now from a new session of the config's phone is the number's, and the number's change removes
// it alone: X, which nothing names as the number's, stays (SECURITY.md's
// residual: read her devices at a change of number). On Redis, through
// a real Caddy, the list rewritten in the store.
func TestADeviceListOfThePreviousReleaseReadsWithAddedBy(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	user := func(number string) string { return "\t\tuser alice " + number + "\n" + limitsOff }
	s := textSite(t, "store redis "+addr, []string{"alice"}, user("+14155552671"))
	thief := sitetest.NewClient(t, "alice")
	signIn(t, s, thief)
	addPhone(t, s, thief, "+14155559001", "X")

	ctx := context.Background()
	rc := redis.NewClient(&redis.Options{Addr: addr})
	defer rc.Close()
	raw, err := rc.Get(ctx, "smsgate:device/localhost/alice").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil || len(list) != 1 || list[0]["added_by"] == nil {
		t.Fatalf("alice's devices as this release wrote them: %v %s", err, raw)
	}
	delete(list[0], "added_by") // as the previous release wrote it
	old, _ := json.Marshal(list)
	if err := rc.Set(ctx, "smsgate:device/localhost/alice", old, 0).Err(); err != nil {
		t.Fatal(err)
	}

	again := sitetest.NewClient(t, "alice")
	s.Advance(time.Minute) // past the last send's cooldown
	signIn(t, s, again)
	addPhone(t, s, again, "+14155559002", "Y")
	s = textSite(t, "store redis "+addr, []string{"alice"}, user("+447400123456"))
	if got := deviceNames(t, s); got != "X" {
		t.Errorf("alice's devices after the reload: %q (want X, of the previous release, alone)", got)
	}
}
