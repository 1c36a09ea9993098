package pages_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/pages"
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// TestAnEndedSessionChangesNothing: alice's session and the admin vera's
// are ended in the store (their users' revocation records, written by
// another instance, say) while this gate's cache still holds them: the
// gate learns of an end from the revocation log, which this test leaves
// alone. Every POST a session makes — each of the devices page's actions,
// each of the console's, and every other page's but the steps of a
// sign-in (pages.SignInSteps), read from the source so a page added later
// is walked too — goes to sign-in, and changes nothing (attack34b: in the
// second before the other instance read the log, the ended session
// removed her other phone, and the revoked admin reset a user or minted
// an invite). Their GETs still admit them: the cache held them throughout.
func TestAnEndedSessionChangesNothing(t *testing.T) {
	sitetest.Parallel(t)
	addr := redistest.Server(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		admins vera
		remember 30d
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, addr))
	for _, u := range [][2]string{{"alice", "+14155550101"}, {"alice", "+14155550102"}, {"vera", "+14155550103"}, {"walt", "+14155550104"}} {
		if st, out := s.Admin("POST", "/smsgate/users", `{"realm":"localhost","user":"`+u[0]+`","phone":"`+u[1]+`"}`); st != http.StatusOK {
			t.Fatalf("adding %s: %d %s", u[0], st, out)
		}
	}
	users := func() string { _, out := s.Admin("GET", "/smsgate/users?realm=localhost", ""); return out }
	second := regexp.MustCompile(`"id":"([^"]+)",[^}]*"nth":2`).FindStringSubmatch(users())
	if second == nil {
		t.Fatalf("no id of alice's second phone in %s", users())
	}
	other := second[1]
	walts := regexp.MustCompile(`"user":"walt","devices":\[\{"id":"([^"]+)"`).FindStringSubmatch(users())[1]
	signIn := func(user string) *sitetest.Client {
		c := sitetest.NewClient(t, "")
		tok := c.CSRF("/.smsgate/login")
		sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {user}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/.smsgate/verify")
		sitetest.Expect(t, c.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), http.StatusSeeOther, "/")
		sitetest.ExpectBody(t, c.Get("/"), "Hello, "+user+"!")
		return c
	}
	alice, vera := signIn("alice"), signIn("vera")
	walt := "/.smsgate/admin/user?name=walt"
	sitetest.Expect(t, vera.Get(walt), http.StatusOK, "")
	before := users() // their sign-ins' last use in it

	// Ended in the store, as another instance's sign-out everywhere and
	// revoke write it: the record only, not the log's entry.
	st, closeStore, err := store.OpenRedis(&store.Redis{Addresses: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore()
	at, _ := json.Marshal(s.Now().UTC())
	for _, u := range []string{"alice", "vera"} {
		if err := st.Put(context.Background(), endkeys.User("localhost", u), at, 0); err != nil {
			t.Fatal(err)
		}
	}

	post := func(c *sitetest.Client, path string, form url.Values) {
		t.Helper()
		form.Set("csrf", c.CSRF("/.smsgate/devices"))
		res := c.PostWith(path, form, map[string]string{"Origin": c.Base()})
		if strings.Contains(path, "/passkey/") {
			// The ceremonies' JSON: refused as their own check refuses.
			if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Text, `"step_up"`) {
				t.Errorf("POST %s by a session ended in the store: %d %q, want 403 step_up", path, res.StatusCode, res.Text)
			}
			return
		}
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/.smsgate/login" {
			t.Errorf("POST %s (action %q) by a session ended in the store: %d %q, want 303 to the sign-in", path, form.Get("action"), res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, action := range []string{"remove", "reset", "revoke", "end", "end-unlisted", "invite"} {
		post(vera, walt, url.Values{"action": {action}, "confirm": {"1"}, "device": {walts}, "session": {"x"}})
	}
	for _, action := range []string{"rename", "default", "remove", "add", "app", "app-confirm", "passkey", "untrust", "signout-all", "recovery", "", "no-such"} {
		post(alice, "/.smsgate/devices", url.Values{"action": {action}, "device": {other}, "name": {"Mine"}, "phone": {"+14155550109"},
			"code": {"123456"}, "trust": {"x"}, "confirm": {"1"}})
	}
	for _, step := range pageSteps(t) {
		if !pages.SignInSteps[step] {
			post(alice, "/.smsgate/"+step, url.Values{"action": {"rename"}, "device": {other}, "name": {"Mine"}})
		}
	}
	if after := users(); after != before {
		t.Errorf("the ended sessions changed the users:\nbefore %s\nafter  %s", before, after)
	}
	// Not a vacuous pass: the gate's cache still admits both.
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	sitetest.ExpectBody(t, vera.Get("/"), "Hello, vera!")
}

// pageSteps are the pages' steps (under the prefix) as the pages' source
// routes them: serve's cases and the passkey ceremonies', but the two
// served before any session is read (the signed delivery receipts and
// the public keys).
func pageSteps(t *testing.T) []string {
	t.Helper()
	var steps []string
	for _, file := range []string{"pages.go", "passkeys.go"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range regexp.MustCompile(`(?m)^\tcase ((?:"[^"]+"(?:, )?)+):`).FindAllStringSubmatch(string(src), -1) {
			for _, q := range strings.Split(c[1], ", ") {
				if step := strings.Trim(q, `"`); !slices.Contains(steps, step) && step != "twilio/status" && step != "jwks.json" {
					steps = append(steps, step)
				}
			}
		}
	}
	if !slices.Contains(steps, "devices") || !slices.Contains(steps, "admin/user") || !slices.Contains(steps, "passkey/register/begin") {
		t.Fatalf("the pages' steps, read from their source: %v", steps)
	}
	return steps
}
