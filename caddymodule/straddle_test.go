package caddymodule_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyevents"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
)

func init() { caddy.RegisterModule(eventPark{}) }

// eventPark is an events handler for tests that holds the request whose
// event it hears (Caddy runs handlers in the emitter's goroutine): it
// writes the file "parked" in Dir, then waits for a file "go" there (10 s
// at most). A test thus stops a request at a known point, does something
// else meanwhile, and lets it go on.
type eventPark struct {
	Dir string `json:"dir"`
}

func (eventPark) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{ID: "events.handlers.smsgate_test_park", New: func() caddy.Module { return new(eventPark) }}
}

func (p *eventPark) Handle(context.Context, caddy.Event) error {
	if err := os.WriteFile(filepath.Join(p.Dir, "parked"), nil, 0o600); err != nil {
		return err
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(p.Dir, "go")); err == nil {
			return nil
		}
	}
	return nil
}

func (p *eventPark) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next()
	if !d.NextArg() {
		return d.ArgErr()
	}
	p.Dir = d.Val()
	return nil
}

var _ caddyevents.Handler = (*eventPark)(nil)

// TestASignInStraddlingAResetEndsWithIt: a thief with the user's password
// and phone types the code; the gate finds the phone still the user's
// (held there: the verified event); the admin resets the user (every
// phone removed, every session ended); a second later the sign-in goes
// on. Its session must not outlive the reset, nor its trusted browser, nor
// its browser's standing as alice's own (the known-browser cookie): the
// code was checked against a phone the reset then removed. On Badger and
// on Redis, through a real Caddy. (Before, the session was issued in a
// later second than the reset's last revocation, so no revocation covered
// it: the thief kept a session and a trusted browser of the reset user;
// and, until the known-browser cookie was stamped when the sign-in began
// too, the owner's own window of guesses.)
func TestASignInStraddlingAResetEndsWithIt(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		park := t.TempDir()
		s := sitetest.StartWith(t, "events {\n\t\ton smsgate_verified smsgate_test_park "+park+"\n\t}", `http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		alice `+sitetest.DemoHash+`
	}
	smsgate {
		realm localhost
		enrollment closed
		remember 30d
		limit guesses 5 1d
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		addUser(t, s, "alice", "+14155552671")
		thief := sitetest.NewClient(t, "alice")
		tok := codeSent(t, thief)
		code := s.LastCode()

		done := make(chan *sitetest.Response)
		go func() {
			done <- thief.Post("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}, "remember": {"1"}})
		}()
		sitetest.AwaitFile(t, filepath.Join(park, "parked")) // the phone was found alice's
		if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"alice"}`); st != http.StatusOK {
			t.Fatalf("resetting alice: %d %s", st, out)
		}
		s.Advance(time.Second)
		if err := os.WriteFile(filepath.Join(park, "go"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		answer := <-done
		if res := thief.Get("/"); res.StatusCode == http.StatusOK {
			t.Errorf("a sign-in whose phone the reset removed kept a session (its answer: %d %s): %s", answer.StatusCode, answer.Header.Get("Location"), res.Text)
		}
		// Nor does its trusted browser get a new session once the old one ended.
		thief.SetCookie("smsgate_session", "")
		s.Advance(time.Second)
		if res := thief.Get("/.smsgate/login?rd=%2F"); res.StatusCode == http.StatusSeeOther && res.Header.Get("Location") == "/" {
			t.Errorf("a browser trusted by a sign-in whose phone the reset removed signed in again (first answer: %d)", res.StatusCode)
		}
		_, out := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		var list []json.RawMessage
		if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 0 {
			t.Fatalf("users after the reset: %s", out)
		}
		// Nor is the thief's browser known as alice's own once she has a
		// new phone: strangers fill her window of guesses, and the thief's
		// guess is refused as theirs, not checked in the owner's window.
		addUser(t, s, "alice", "+14155552672")
		// guess types a wrong recovery code at the verify page; a page
		// that offers no form to type it in refuses it (429 too).
		guess := func(c *sitetest.Client) int {
			m := csrfField.FindStringSubmatch(c.Get("/.smsgate/verify").Text)
			if m == nil {
				return http.StatusTooManyRequests
			}
			return c.Post("/.smsgate/verify", url.Values{"code": {"AAAAA-AAAAA"}, "csrf": {m[1]}}).StatusCode
		}
		stranger := sitetest.NewClient(t, "alice")
		for range 5 {
			guess(stranger)
		}
		if st := guess(sitetest.NewClient(t, "alice")); st != http.StatusTooManyRequests {
			t.Fatalf("a stranger's guess past the window: %d", st)
		}
		if st := guess(thief); st != http.StatusTooManyRequests {
			t.Errorf("the browser of a sign-in the reset ended was known as alice's own: its guess %d, past the strangers' full window", st)
		}
	})
}

// TestAnEnrollmentStraddlingAResetLeavesNoRecoveryCodes: an invite link
// leaks; its holder enrolls their phone as ann and types the code; the
// gate writes the phone (held there: the enrolled event); the admin
// resets ann (every phone and recovery code removed, every session
// ended); then the enrollment goes on to make ann's first recovery codes.
// None may outlive the reset: the holder, answered in JSON, must not sign
// in as ann by one of them at the login form, and ann, invited again,
// gets a set of her own. On Badger and on Redis, through a real Caddy.
// (Before, the first codes were written after the reset had deleted
// ann's: the holder signed in as the reset user by a recovery code, and
// ann's next enrollment got no codes, as she seemed to hold some.)
func TestAnEnrollmentStraddlingAResetLeavesNoRecoveryCodes(t *testing.T) {
	sitetest.Parallel(t)
	sitetest.OnEachStore(t, func(t *testing.T, storeLine string, _ func(*sitetest.Site) string) {
		park := t.TempDir()
		s := sitetest.StartWith(t, "events {\n\t\ton smsgate_enrolled smsgate_test_park "+park+"\n\t}", `http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		enrollment closed
		realm localhost
		`+storeLine+`
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`)
		// enrolled enrolls ann's phone through a new invite, and returns
		// the verify step's answer (in JSON: it carries the first recovery
		// codes) once it comes.
		enrolled := func(c *sitetest.Client, e164 string) <-chan *sitetest.Response {
			t.Helper()
			st, body := s.Admin("POST", "/smsgate/invites", `{"realm":"localhost","user":"ann","ttl":"1h"}`)
			if st != http.StatusOK {
				t.Fatalf("invite: %d %s", st, body)
			}
			var inv struct{ Path string }
			_ = json.Unmarshal([]byte(body), &inv)
			tok := c.CSRF(inv.Path)
			sitetest.Expect(t, c.Post("/.smsgate/invite", url.Values{"token": {strings.TrimPrefix(inv.Path, "/.smsgate/invite?token=")}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/enroll")
			sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {e164}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
			code := s.LastCode()
			done := make(chan *sitetest.Response, 1)
			go func() {
				done <- c.PostWith("/.smsgate/verify", url.Values{"code": {code}, "csrf": {tok}}, map[string]string{"Accept": "application/json"})
			}()
			return done
		}
		codesOf := func(res *sitetest.Response) []string {
			var out struct {
				Codes []string `json:"recovery_codes"`
			}
			_ = json.Unmarshal([]byte(res.Text), &out)
			return out.Codes
		}

		holder := sitetest.NewClient(t, "")
		answer := enrolled(holder, "+14155552671")
		sitetest.AwaitFile(t, filepath.Join(park, "parked")) // the phone is written
		s.Advance(time.Second)
		if st, out := s.Admin("POST", "/smsgate/reset", `{"realm":"localhost","user":"ann"}`); st != http.StatusOK {
			t.Fatalf("resetting ann: %d %s", st, out)
		}
		s.Advance(time.Second)
		if err := os.WriteFile(filepath.Join(park, "go"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		res := <-answer
		if codes := codesOf(res); len(codes) > 0 {
			// The holder names ann at the login form and types one.
			c := sitetest.NewClient(t, "")
			tok := c.CSRF("/.smsgate/login")
			c.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {tok}})
			c.Post("/.smsgate/verify", url.Values{"code": {codes[0]}, "csrf": {tok}})
			if res := c.Get("/"); res.StatusCode == http.StatusOK {
				t.Errorf("a recovery code made by an enrollment the reset ended signed in: %s", res.Text)
			}
		}

		// Ann, invited again after the reset, gets codes of her own.
		if err := os.Remove(filepath.Join(park, "parked")); err != nil {
			t.Fatal(err)
		}
		s.Advance(time.Second)
		res = <-enrolled(sitetest.NewClient(t, ""), "+14155552672")
		if res.StatusCode != http.StatusOK || len(codesOf(res)) == 0 {
			t.Errorf("ann's enrollment after the reset got no recovery codes: %d %s", res.StatusCode, res.Text)
		}
	})
}

// csrfField finds a page's CSRF token.
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
