package caddymodule_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/harness"
	"github.com/smsgate/caddy-smsgate/internal/sitetest"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// hangUpWhileHeld sends a request (do) and hangs up once the store write
// armed in h (key) is held; the gate notices the closed connection before
// the write goes on. It returns once the write was released.
func hangUpWhileHeld(t *testing.T, h *harness.Hold, key string, do func(ctx context.Context) error) {
	t.Helper()
	held, release := h.Arm(key)
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- do(ctx) }()
	select {
	case <-held:
	case err := <-done:
		t.Fatalf("the request ended before it reached the held write: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the request never reached the held write")
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the request was answered while its store write was held")
	}
	// Caddy's server sees the closed connection at once (its background
	// read), which cancels the request's context; a moment for that to
	// happen before the write goes on (with the gate's own context the
	// outcome does not depend on it).
	time.Sleep(300 * time.Millisecond)
}

// typeCode posts code to the verify step as c does, on ctx (which the
// test cancels to hang up).
func typeCode(ctx context.Context, c *sitetest.Client, code, tok string) error {
	form := url.Values{"code": {code}, "csrf": {tok}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.Base()+"/.smsgate/verify", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", c.Accept)
	if c.User != "" {
		req.SetBasicAuth(c.User, "demo")
	}
	res, err := c.HTTP.Do(req)
	if err == nil {
		res.Body.Close()
	}
	return err
}

// eventually polls cond for 10 s.
func eventually(cond func() bool) bool {
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestAHangUpLeavesAStepWhole: a browser that hangs up while the gate is
// at the store — here after its typed code was used up, before the
// session it earned was written — does not stop the step half-way: an
// acknowledged step (its request read whole) runs to its end, on a
// context that the client's hang-up does not cancel, bounded by the
// store budget. Before, go-redis stopped at the next call (the request's
// context was cancelled): the code was used up and no session written,
// and the admin's reset stopped after ending the sessions, the phones
// kept. Through a real Caddy on Redis, with the write held in a proxy.
func TestAHangUpLeavesAStepWhole(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	h := harness.Holding(t, r.Addr)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	smsgate {
		identity none
		realm localhost
		store redis %s
		provider log
		user ann +14155552671
		user bo +14155552673
	}
	respond "Hello, {http.auth.user.id}!"
}`, h.Addr))

	// A sign-in: the code is checked (and used up); the session's record
	// is held, and the browser hangs up.
	c := sitetest.NewClient(t, "")
	tok := c.CSRF("/.smsgate/login")
	sitetest.Expect(t, c.Post("/.smsgate/login", url.Values{"username": {"ann"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	code := s.LastCode()
	hangUpWhileHeld(t, h, "smsgate:sessions/localhost/ann", func(ctx context.Context) error { return typeCode(ctx, c, code, tok) })
	// The sign-in was whole: its session is written (the admin lists it).
	if !eventually(func() bool {
		st, body := s.Admin("GET", "/smsgate/sessions?user=ann", "")
		return st == http.StatusOK && strings.Contains(body, `"sid"`)
	}) {
		_, body := s.Admin("GET", "/smsgate/sessions?user=ann", "")
		t.Fatalf("the browser hung up after its code was used: no session was written: %s", body)
	}

	// The admin's reset: held at the phones, after the sessions' end.
	if st, body := s.Admin("POST", "/smsgate/users", `{"user":"bo","phone":"+14155552672"}`); st != http.StatusOK {
		t.Fatalf("add: %d %s", st, body)
	}
	hangUpWhileHeld(t, h, "smsgate:device/localhost/bo", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.WithPorts("http://localhost:{ADMIN_PORT}/smsgate/reset"), strings.NewReader(`{"user":"bo"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	})
	if !eventually(func() bool {
		st, body := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		return st == http.StatusOK && !strings.Contains(body, `"bo"`)
	}) {
		_, body := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		t.Fatalf("the admin hung up during a reset: its phone was kept: %s", body)
	}
}

// TestAHangUpLeavesAnEnrollmentWhole: a first enrollment whose browser
// hangs up after the phone was written, while the gate is at the user's
// first recovery codes (made only then, and shown once), still makes
// them. Before, the phone stayed and the codes were never made: the user
// had none, and no page would offer them again unasked.
func TestAHangUpLeavesAnEnrollmentWhole(t *testing.T) {
	sitetest.Parallel(t)
	r := redistest.Start(t)
	h := harness.Holding(t, r.Addr)
	s := sitetest.Start(t, fmt.Sprintf(`http://localhost:{HTTP_PORT} {
	basic_auth argon2id {
		cy %s
	}
	smsgate {
		realm localhost
		store redis %s
		provider log
	}
	respond "Hello, {http.auth.user.id}!"
}`, sitetest.DemoHash, h.Addr))
	c := sitetest.NewClient(t, "cy")
	tok := c.CSRF("/.smsgate/enroll")
	sitetest.Expect(t, c.Post("/.smsgate/enroll", url.Values{"phone": {"+14155552671"}, "csrf": {tok}}), http.StatusSeeOther, "/.smsgate/verify")
	code := s.LastCode()
	hangUpWhileHeld(t, h, "smsgate:recovery/localhost/cy", func(ctx context.Context) error { return typeCode(ctx, c, code, tok) })
	if !eventually(func() bool {
		st, body := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		return st == http.StatusOK && strings.Contains(body, `"recovery_left":10`)
	}) {
		_, body := s.Admin("GET", "/smsgate/users?realm=localhost", "")
		t.Fatalf("the browser hung up during a first enrollment: %s", body)
	}
}
