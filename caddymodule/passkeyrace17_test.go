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
	"time"

	"github.com/smsgate/caddy-smsgate/internal/fakes"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

// TestAPasskeySignInWhileTheAdminRemovesIt (attack17): carol's passkey is
// lost with her laptop; a thief signs in with it from the login page (no
// name typed: the passkey names her) at the same moment as the admin
// removes it (the admin API), through a real Caddy on Badger and Redis,
// 8 runs a store. Whatever the order, once the removal is answered the
// thief's browser is not signed in, the passkey is off her list, and it
// signs nobody in again; the sign-in's answer is a session (it came first)
// or a refusal, never a 5xx.
func TestAPasskeySignInWhileTheAdminRemovesIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		s := carolsSite(t, storeLine)
		origin := s.WithPorts(s.Base)
		// login readies a passkey sign-in from the login page, from
		// 127.0.0.ip: its browser, and the answer to post.
		login := func(auth *fakes.Authenticator, ip int) (*sitetest.Client, []byte) {
			c := sitetest.NewClient(t, "").OnLoopback(ip)
			c.Get("/.smsgate/login")
			begin := c.PostJSON("/.smsgate/passkey/login/begin", s.Base, json.RawMessage("{}"))
			if begin.StatusCode != http.StatusOK {
				t.Fatalf("login/begin: %d %s", begin.StatusCode, begin.Text)
			}
			answer, err := auth.Get([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			return c, answer
		}
		const runs = 8
		outcomes := map[string]int{}
		for i := range runs {
			s.Advance(time.Minute)             // past the last code's waits
			owner := sitetest.NewClient(t, "") // a fresh sign-in: a passkey added without a step-up
			tok := owner.CSRF("/.smsgate/login")
			sitetest.Expect(t, owner.Post("/.smsgate/login", url.Values{"username": {"carol"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			sitetest.Expect(t, owner.Post("/.smsgate/verify", url.Values{"code": {s.LastCode()}, "csrf": {tok}}), http.StatusSeeOther, "/")
			auth := fakes.NewAuthenticator("localhost", origin)
			owner.Get("/.smsgate/devices") // the page the ceremony runs on: its flow
			begin := owner.PostJSON("/.smsgate/passkey/register/begin", s.Base, json.RawMessage("{}"))
			if begin.StatusCode != http.StatusOK {
				t.Fatalf("run %d: register/begin: %d %s", i, begin.StatusCode, begin.Text)
			}
			created, err := auth.Create([]byte(begin.Text))
			if err != nil {
				t.Fatal(err)
			}
			if res := owner.PostJSON("/.smsgate/passkey/register/finish", s.Base, json.RawMessage(created)); res.StatusCode != http.StatusOK {
				t.Fatalf("run %d: register/finish: %d %s", i, res.StatusCode, res.Text)
			}
			var id string
			for _, d := range listOf(t, s, "localhost", "carol") {
				if d["kind"] == "passkey" {
					id = fmt.Sprint(d["id"])
				}
			}
			thief, answer := login(auth, 10+2*i)

			var signIn *sitetest.Response
			var removed int
			var removal string
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				signIn = thief.PostJSON("/.smsgate/passkey/login/finish", s.Base, json.RawMessage(answer))
			})
			wg.Go(func() {
				<-start
				removed, removal = s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"carol","id":%q}`, id))
			})
			close(start)
			wg.Wait()
			if removed != http.StatusOK {
				t.Fatalf("run %d: the removal: %d %s", i, removed, removal)
			}
			switch {
			case signIn.StatusCode == http.StatusOK && strings.Contains(signIn.Text, `"verified"`):
				outcomes["signed in first"]++
			case signIn.StatusCode == http.StatusBadRequest:
				outcomes["refused"]++
			default:
				if raw, err := os.ReadFile(s.LogFile); err == nil {
					for _, l := range strings.Split(string(raw), "\n") {
						if strings.Contains(l, `"error"`) {
							t.Logf("%s", l)
						}
					}
				}
				t.Fatalf("run %d: the passkey's sign-in: %d %s", i, signIn.StatusCode, signIn.Text)
			}
			if res := thief.Get("/"); res.StatusCode == http.StatusOK {
				t.Fatalf("run %d: signed in by the passkey the admin removed, once the removal was answered: %s", i, res.Text)
			}
			for _, d := range listOf(t, s, "localhost", "carol") {
				if d["id"] == id {
					t.Fatalf("run %d: the removed passkey is back", i)
				}
			}
			again, answer := login(auth, 11+2*i)
			if res := again.PostJSON("/.smsgate/passkey/login/finish", s.Base, json.RawMessage(answer)); res.StatusCode == http.StatusOK || again.Get("/").StatusCode == http.StatusOK {
				t.Fatalf("run %d: the removed passkey signs in: %d %s", i, res.StatusCode, res.Text)
			}
		}
		t.Logf("%d runs: %v", runs, outcomes)
	})
}

// TestASignInWhoseDeviceTheAdminRemovesMeanwhileIsRefused: a thief types
// the code texted to alice's stolen phone; his sign-in is held once its
// session is listed (before it reads her devices again), while the admin
// removes that phone (the admin API). The sign-in goes on, finds the phone
// gone, and takes its session back: it must answer as a check after the
// removal does (the code no longer counts: 400, a new code offered), not
// 503 "unavailable" with an error in the log. On Badger and Redis, through
// a real Caddy. (Before: 503 and `signing session` logged as an error.)
func TestASignInWhoseDeviceTheAdminRemovesMeanwhileIsRefused(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		dir := t.TempDir()
		s := textSite(t, strings.Replace(storeLine, "store ", "store smsgate_test_hold "+dir+" ", 1), []string{"alice"}, limitsOff)
		stolen := addUser(t, s, "alice", "+14155552671")
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		code := s.LastCode()
		sitetest.AddHold(t, dir, sitetest.Hold{Of: "alice", Op: "write", Key: "sessions/*/alice"}) // once its session is listed
		held := sitetest.Park(t, dir, func() *sitetest.Response {
			return thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}})
		})
		if st, out := s.Admin("POST", "/smsgate/devices/remove", fmt.Sprintf(`{"realm":"localhost","user":"alice","id":%q}`, stolen)); st != http.StatusOK {
			t.Fatalf("removing the phone: %d %s", st, out)
		}
		res := held.Release(t)
		if res.StatusCode != http.StatusBadRequest || thief.Cookie("smsgate_session") != "" {
			t.Fatalf("a sign-in whose phone the admin removed meanwhile: %d %s %.300s", res.StatusCode, res.Header.Get("Location"), res.Text)
		}
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Fatalf("signed in by a removed phone: %s", res.Text)
		}
		if n := len(s.LogEntries("signing session")); n != 0 {
			t.Fatalf("%d errors logged for a sign-in refused as it should be", n)
		}
	})
}
