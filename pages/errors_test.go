package pages

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
	"github.com/smsgate/caddy-smsgate/signin"
)

// Every typed error of the sign-in gets its own status and reason; anything
// else is a fault (503, not shown to the user).
func TestOutcomeOf(t *testing.T) {
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
		{errors.New("badger: closed"), http.StatusServiceUnavailable, "error", 0},
	} {
		o := outcomeOf(c.err)
		if o.status != c.status || o.reason != c.reason || o.wait != c.wait || o.known != (c.reason != "error") {
			t.Errorf("%v: got %+v, want %d %s %v", c.err, o, c.status, c.reason, c.wait)
		}
	}
}

// Every reason the sign-in names has its status here: a reason added to
// signin without one fails this test, not a user (it would answer 503).
func TestEveryReasonHasAStatus(t *testing.T) {
	for _, r := range signin.Reasons() {
		if _, ok := statusOf[r]; !ok {
			t.Errorf("signin's reason %q has no status in statusOf", r)
		}
	}
	for r := range statusOf {
		if !slices.Contains(signin.Reasons(), r) {
			t.Errorf("statusOf maps %q, which signin never names", r)
		}
	}
}
