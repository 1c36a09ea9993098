package pages

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
	"github.com/smsgate/caddy-smsgate/signin/signintest"
)

// Every typed error of the sign-in gets its own status and reason; anything
// else is a fault (503, not shown to the user).
func TestRefuse(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		err    error
		status int
		reason string
		wait   time.Duration
	}{
		{&enrollment.WrongCodeError{}, http.StatusBadRequest, "wrong_code", 0},
		{fmt.Errorf("verify: %w", &enrollment.LockedError{Wait: time.Minute}), http.StatusTooManyRequests, "locked", time.Minute},
		{&enrollment.LimitError{Limit: "ip", Wait: time.Hour}, http.StatusTooManyRequests, "limit_ip", time.Hour},
		{&enrollment.CooldownError{Wait: 30 * time.Second}, http.StatusTooManyRequests, "cooldown", 30 * time.Second},
		{enrollment.ErrRecoveryTries, http.StatusTooManyRequests, "recovery_tries", 0},
		{enrollment.ErrExpired, http.StatusBadRequest, "expired", 0},
		{enrollment.ErrNoChallenge, http.StatusBadRequest, "expired", 0},
		{&enrollment.RefusedError{Err: errors.New("premium")}, http.StatusBadRequest, "number_refused", 0},
		{&enrollment.SendError{Err: &providers.UserError{Err: errors.New("21211")}}, http.StatusBadRequest, "number_rejected", 0},
		{&enrollment.SendError{Err: errors.New("twilio: 500")}, http.StatusServiceUnavailable, "provider_failed", 0},
		{&providers.SIMSwapError{}, http.StatusForbidden, "sim_swapped", 0},
		{enrollment.ErrMaxDevices, http.StatusBadRequest, "devices_full", 0},
		{fmt.Errorf("remove: %w", enrollment.ErrLastDevice), http.StatusBadRequest, "last_device", 0},
		{&signin.InputError{Err: phone.ErrMalformed}, http.StatusBadRequest, "number_unreadable", 0},
		{&signin.CodeFormatError{Length: 6}, http.StatusBadRequest, "code_format", 0},
		{signin.ErrNoCalls, http.StatusBadRequest, "no_calls", 0},
		{enrollment.ErrInvite, http.StatusBadRequest, "invite_dead", 0},
		{enrollment.ErrInviteReplaced, http.StatusBadRequest, "invite_replaced", 0},
		{errors.New("badger: closed"), http.StatusServiceUnavailable, "error", 0},
	} {
		o := refuse(c.err)
		if o.status != c.status || o.Reason != c.reason || o.Wait != c.wait || o.known() != (c.reason != "error") {
			t.Errorf("%v: got %d %s %v, want %d %s %v", c.err, o.status, o.Reason, o.Wait, c.status, c.reason, c.wait)
		}
	}
}

// Every class of refusal has its status here, and every reason the sign-in
// names has a class that has one: a reason added to signin without a class,
// or a class without a status, fails this test, not a user. The sign-in's
// reasons are its answers to signintest.Refusals, an example of each error
// that refuses a user: signin's TestEveryRowAnswersARefusal has each of its
// rows answer one.
func TestEveryReasonHasAStatus(t *testing.T) {
	t.Parallel()
	classes := map[signin.Class]bool{signin.Fault: true} // any other error's
	reasons := map[string]bool{}
	for name, err := range signintest.Refusals {
		r := signin.Refuse(err)
		classes[r.Class], reasons[r.Reason] = true, true
		if r.Class == signin.Fault || statusOf[r.Class] == 0 {
			t.Errorf("signin's reason %q (for %s) has class %d: no status of its own", r.Reason, name, r.Class)
		}
	}
	if len(reasons) < 15 {
		t.Fatalf("signin names %d reasons: the examples were not read", len(reasons))
	}
	for c := range classes {
		if statusOf[c] == 0 {
			t.Errorf("class %d has no status in statusOf", c)
		}
	}
	for c := range statusOf {
		if !classes[c] {
			t.Errorf("statusOf maps class %d, which no refusal of signin's has", c)
		}
	}
}

// No page gives an error a status because it has words: that was a table
// of its own beside refuse's (a 400 for any worded error). Only say reads
// an error's words, and the console, whose changes are the admin's (admin
// package's errors, with their own statuses).
func TestNoPageJudgesAnErrorByItsWords(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "render.go" || f == "console.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(src), "words.Of(") {
			t.Errorf("%s reads an error's words to answer it: give the error a row in signin's refusals and take refuse(err).status", f)
		}
	}
}
