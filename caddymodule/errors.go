package caddymodule

import (
	"errors"
	"net/http"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/providers"
)

// outcome is what a sign-in error means for the answer: its HTTP status,
// how long to wait (Retry-After), and a short reason for metrics and the
// audit log. Every typed error of the sign-in is mapped here, and only here.
type outcome struct {
	status int
	wait   time.Duration
	reason string
	// known says the error is one of the sign-in's own (its text is safe
	// for the user); otherwise it is a fault to log and answer with 503.
	known bool
}

func outcomeOf(err error) outcome {
	var (
		wrong  *enrollment.WrongCodeError
		locked *enrollment.LockedError
		limit  *enrollment.LimitError
		cool   *enrollment.CooldownError
		send   *enrollment.SendError
	)
	switch {
	case errors.As(err, &wrong):
		return outcome{http.StatusBadRequest, 0, "wrong_code", true}
	case errors.As(err, &locked):
		return outcome{http.StatusTooManyRequests, locked.Wait, "locked", true}
	case errors.As(err, &limit):
		return outcome{http.StatusTooManyRequests, limit.Wait, "limit_" + limit.Limit, true}
	case errors.As(err, &cool):
		return outcome{http.StatusTooManyRequests, cool.Wait, "cooldown", true}
	case errors.Is(err, enrollment.ErrRecoveryTries):
		return outcome{http.StatusTooManyRequests, 0, "recovery_tries", true}
	case errors.Is(err, enrollment.ErrTooMany):
		return outcome{http.StatusBadRequest, 0, "too_many", true}
	case errors.Is(err, enrollment.ErrExpired), errors.Is(err, enrollment.ErrNoChallenge):
		return outcome{http.StatusBadRequest, 0, "expired", true}
	case errors.Is(err, enrollment.ErrEnrolled):
		return outcome{http.StatusBadRequest, 0, "already_enrolled", true}
	case errors.Is(err, enrollment.ErrWrongRecovery):
		return outcome{http.StatusBadRequest, 0, "wrong_recovery_code", true}
	case errors.As(err, new(*enrollment.RefusedError)):
		return outcome{http.StatusBadRequest, 0, "number_refused", true}
	case errors.As(err, new(*providers.SIMSwapError)):
		return outcome{http.StatusForbidden, 0, "sim_swapped", true}
	case errors.As(err, new(*providers.LookupError)):
		return outcome{http.StatusServiceUnavailable, 0, "lookup_failed", true}
	case errors.As(err, &send) && errors.As(send.Err, new(*providers.UserError)):
		return outcome{http.StatusBadRequest, 0, "number_rejected", true} // the number is at fault: the user can fix it
	case errors.As(err, &send):
		return outcome{http.StatusServiceUnavailable, 0, "provider_failed", true}
	}
	return outcome{http.StatusServiceUnavailable, 0, "error", false}
}

// setRetryAfter tells the client how long to wait, if it must.
func (o outcome) setRetryAfter(w http.ResponseWriter) {
	if o.wait > 0 {
		w.Header().Set("Retry-After", retryAfter(o.wait))
	}
}
