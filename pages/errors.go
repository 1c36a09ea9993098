package pages

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/signin"
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
	reason := signin.Reason(err) // the sign-in names what went wrong; here, only its status
	var (
		locked *enrollment.LockedError
		limit  *enrollment.LimitError
		cool   *enrollment.CooldownError
	)
	o := outcome{status: statusOf[reason], reason: reason, known: reason != "error"}
	switch {
	case errors.As(err, &locked):
		o.wait = locked.Wait
	case errors.As(err, &limit):
		o.wait = limit.Wait
	case errors.As(err, &cool):
		o.wait = cool.Wait
	}
	switch {
	case o.status != 0:
	case strings.HasPrefix(reason, "limit_"): // one of the named rate limits
		o.status = http.StatusTooManyRequests
	default:
		o.status = http.StatusServiceUnavailable
	}
	return o
}

// statusOf is each reason's HTTP status: every one of signin.Reasons
// (TestEveryReasonHasAStatus); "limit_*" 429, a fault ("error") 503.
var statusOf = map[string]int{
	"wrong_code":          http.StatusBadRequest,
	"code_used":           http.StatusBadRequest,
	"passkey_refused":     http.StatusBadRequest,
	"no_passkey":          http.StatusBadRequest,
	"too_many":            http.StatusBadRequest,
	"expired":             http.StatusBadRequest,
	"already_enrolled":    http.StatusBadRequest,
	"wrong_recovery_code": http.StatusBadRequest,
	"number_refused":      http.StatusBadRequest,
	"number_rejected":     http.StatusBadRequest, // the user can fix the number
	"locked":              http.StatusTooManyRequests,
	"cooldown":            http.StatusTooManyRequests,
	"recovery_tries":      http.StatusTooManyRequests,
	"sim_swapped":         http.StatusForbidden,
	"lookup_failed":       http.StatusServiceUnavailable,
	"provider_failed":     http.StatusServiceUnavailable,
}

// setRetryAfter tells the client how long to wait, if it must.
func (o outcome) setRetryAfter(w http.ResponseWriter) {
	if o.wait > 0 {
		w.Header().Set("Retry-After", retryAfter(o.wait))
	}
}

func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}
