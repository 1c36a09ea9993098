package providers

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/audit"
	"github.com/smsgate/caddy-smsgate/internal/logonce"
	"github.com/smsgate/caddy-smsgate/phone"
)

// lookupToldEvery is how often a Lookup that fails while the codes go out
// unchecked (on_error_* open) is told: one warning per step (enroll,
// sign_in) in this long, the next counting those not written ("repeats").
const lookupToldEvery = time.Minute

// lookupWatch is how a Lookup's failures reach the admin: a throttled
// warning and a counter on Caddy's metrics registry.
type lookupWatch struct {
	told     logonce.Throttle
	failures *prometheus.CounterVec // at, result
}

// watch sets up l's warning and counter, on reg (nil: counted but not
// registered, as in a test without Caddy).
func (l *TwilioLookup) watch(reg prometheus.Registerer) {
	l.told.Every = lookupToldEvery
	l.failures = audit.NewLookupFailures(reg)
}

// failed tells the admin that Lookup could not answer for a send to e164:
// counted each time, by step and result (sent: the code went out
// unchecked; refused); where the code goes out, a warning too, at most
// one per step in lookupToldEvery, with its error (the number, in any
// form, taken out: the line stands for many) and never the number. An
// outage at sign-in is open by default, so expired Lookup credentials or
// a SIM-swap package not enabled would otherwise turn the check off on
// every sign-in and tell no one (attack28's F4).
func (l *TwilioLookup) failed(err error, e164 string, enrolling, open bool) {
	at, option, result := "sign_in", "on_error_sign_in", "refused"
	if enrolling {
		at, option = "enroll", "on_error_enroll"
	}
	if open {
		result = "sent"
	}
	if l.failures != nil {
		l.failures.WithLabelValues(at, result).Inc()
	}
	if !open {
		return // refused: the send's own error says so
	}
	n, tell := l.told.Tell(at, l.clock())
	if !tell {
		return
	}
	checks := "its line type"
	if l.SIMSwapWithin > 0 {
		checks = "its line type or SIM swap"
	}
	fields := []zap.Field{zap.String("event", "lookup_failed"), zap.String("at", at),
		zap.String("error", strings.ReplaceAll(Redact(err, e164).Error(), phone.Mask(e164), "[number]"))}
	fields = logonce.Repeats(fields, n)
	l.logger.Warn("Twilio Lookup cannot answer: codes go out without a check of "+checks+" ("+option+" open)", fields...)
}
