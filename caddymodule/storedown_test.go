package caddymodule_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// rawFault is what a store's failure looks like in raw form: none of it may
// reach a user or an admin (the log has it).
var rawFault = regexp.MustCompile(`(?i)dial tcp|connection refused|redis|goroutine|badger|i/o timeout|EOF`)

// TestStoreDownEveryPath: with Redis down, every page, every action and
// every admin endpoint answers 503 (or what needs no store: a session this
// gate already checked, a redirect to sign in) — never a client error, a
// 500, or the driver's text.
func TestStoreDownEveryPath(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice %[1]s
		bob %[1]s
	}
	smsgate {
		store redis %[2]s
		site_origin http://localhost:{HTTP_PORT}
		channels sms voice
		remember 30d
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, r.Addr))
	alice := sitetest.NewClient(t, "alice")
	tok := alice.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, alice.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	sitetest.ExpectEnrolled(t, alice.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}, "remember": {"1"}}), "/")
	sitetest.ExpectBody(t, alice.Get("/"), "Hello, alice!")
	aliceTok := alice.CSRF("/.smsgate/devices")
	bob := sitetest.NewClient(t, "bob")
	bobTok := bob.CSRF("/.smsgate/enroll")
	_, invite := sitetest.Admin(t, "POST", "/smsgate/invites", `{"user":"bob"}`)
	var inv struct{ Path string }
	_ = json.Unmarshal([]byte(invite), &inv)
	s.Shorten("request-budget", 500*time.Millisecond) // what the pages wait out
	r.Stop()

	expect := func(who string, res *sitetest.Response, allowed ...int) {
		t.Helper()
		if !slices.Contains(allowed, res.StatusCode) || rawFault.MatchString(res.Text) {
			t.Errorf("%s: %d, want one of %v, no raw fault:\n%.300s", who, res.StatusCode, allowed, res.Text)
		}
	}
	// A session this gate checked keeps working; the rest is 503.
	expect("alice's app page", alice.Get("/"), 200)
	expect("bob's app page", bob.Get("/"), 302)
	// The rest at once: each waits out the Redis client's tries (about
	// 1.7 s a store call), and none changes what another sees.
	var wg sync.WaitGroup
	check := func(who string, do func() *sitetest.Response, allowed ...int) {
		wg.Go(func() { expect(who, do(), allowed...) })
	}
	for _, path := range []string{"/.smsgate/login", "/.smsgate/enroll", "/.smsgate/verify", "/.smsgate/devices"} {
		check("bob GET "+path, func() *sitetest.Response { return bob.Get(path) }, 503, 303)
		check("alice GET "+path, func() *sitetest.Response { return alice.Get(path) }, 503, 303)
	}
	check("GET invite", func() *sitetest.Response { return bob.Get(inv.Path) }, 503)
	for _, tc := range []struct {
		path string
		form url.Values
	}{
		{"/.smsgate/enroll", url.Values{"phone": {"+14155552672"}}},
		{"/.smsgate/verify", url.Values{"action": {"send"}}},
		{"/.smsgate/verify", url.Values{"action": {"call"}}},
		{"/.smsgate/verify", url.Values{"action": {"app"}, "code": {"123456"}}},
		{"/.smsgate/verify", url.Values{"code": {"ABCDE-FGH23"}}},
		{"/.smsgate/login", nil},
	} {
		form := url.Values{"csrf": {bobTok}}
		for k, v := range tc.form {
			form[k] = v
		}
		check("bob POST "+tc.path+" "+form.Encode(), func() *sitetest.Response { return bob.Post(tc.path, form) }, 503, 303)
	}
	for _, action := range []string{"rename", "default", "remove", "add", "app", "app-confirm", "untrust", "recovery", "signout-all"} {
		form := url.Values{"csrf": {aliceTok}, "action": {action}, "device": {"x"}, "confirm": {"1"}, "name": {"n"}, "phone": {"+14155552673"}, "code": {"123456"}, "trust": {"x"}}
		check("alice devices "+action, func() *sitetest.Response { return alice.Post("/.smsgate/devices", form) }, 503, 303)
	}
	for _, step := range []string{"register/begin", "register/finish", "login/begin", "login/finish"} {
		check("alice passkey "+step, func() *sitetest.Response {
			return alice.PostJSON("/.smsgate/passkey/"+step, s.Base, map[string]string{})
		}, 503, 401)
	}
	check("invite POST", func() *sitetest.Response {
		return bob.Post("/.smsgate/invite", url.Values{"csrf": {bobTok}, "token": {strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")}})
	}, 503)
	check("alice logout", func() *sitetest.Response { return alice.Post("/.smsgate/logout", url.Values{"csrf": {aliceTok}}) }, 503)
	wg.Wait()

	// The admin API: every endpoint is 503 with a short message.
	for _, tc := range adminEndpoints {
		st, body := sitetest.Admin(t, tc.method, tc.path, tc.body)
		if st != http.StatusServiceUnavailable || rawFault.MatchString(body) || !strings.Contains(body, "the store did not answer") {
			t.Errorf("admin %s %s with the store down: %d %s", tc.method, tc.path, st, body)
		}
	}
}
