package audit

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are a gate's Prometheus counters, on Caddy's registry. Labels
// are small fixed sets: never a user, a number or an IP.
type Metrics struct {
	Sends         *prometheus.CounterVec // provider, channel, result
	Verifications *prometheus.CounterVec // result
	Lockouts      prometheus.Counter
	LimitHits     *prometheus.CounterVec // limit
	Deliveries    *prometheus.CounterVec // provider, country, result
	SignIns       *prometheus.CounterVec // method
	Codes         *prometheus.CounterVec // country, event
	Pauses        *prometheus.CounterVec // kind
}

// NewMetrics registers the counters on reg, or takes those already there:
// a config reload provisions the gate again on the same registry.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "caddy", Subsystem: "smsgate", Name: name, Help: help}
	}
	return &Metrics{
		Sends: register(reg, prometheus.NewCounterVec(opts("sends_total",
			"Codes handed to providers, by provider, channel and result (delivered, failed, refused)."),
			[]string{"provider", "channel", "result"})),
		Verifications: register(reg, prometheus.NewCounterVec(opts("verifications_total",
			"Codes checked, by result (success, wrong_code, expired, too_many, locked)."),
			[]string{"result"})),
		Lockouts: register(reg, prometheus.NewCounter(opts("lockouts_total",
			"Lockouts started after repeated wrong codes."))),
		LimitHits: register(reg, prometheus.NewCounterVec(opts("limit_hits_total",
			"Sends refused by a limit, by limit."), []string{"limit"})),
		Deliveries: register(reg, prometheus.NewCounterVec(opts("deliveries_total",
			"Delivery receipts, by provider, destination country (ISO code) and result (delivered, failed)."),
			[]string{"provider", "country", "result"})),
		SignIns: register(reg, prometheus.NewCounterVec(opts("sign_ins_total",
			"Sessions issued, by how the user proved themselves (sms, tel, otp, swk, hwk, recovery, trusted)."),
			[]string{"method"})),
		Codes: register(reg, prometheus.NewCounterVec(opts("codes_total",
			"Codes by destination country (ISO code) and event: sent, used (typed in), paused (refused by the pumping guard)."),
			[]string{"country", "event"})),
		Pauses: register(reg, prometheus.NewCounterVec(opts("pumping_pauses_total",
			"Pauses the pumping guard began, by kind of place (country, prefix)."), []string{"kind"})),
	}
}

// NewLookupFailures registers on reg (nil: none) the count of Twilio
// Lookups that could not answer, by step (enroll, sign_in) and result
// (sent: the code went out unchecked; refused), or takes the one there:
// the twilio provider counts them, on the gate's registry.
func NewLookupFailures(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "caddy", Subsystem: "smsgate", Name: "lookup_failures_total",
		Help: "Twilio Lookups that could not answer before a send, by step (enroll, sign_in) and result (sent: the code went out unchecked; refused)."},
		[]string{"at", "result"})
	if reg == nil {
		return c
	}
	return register(reg, c)
}

// register adds c to reg, or returns the collector already there.
func register[T prometheus.Collector](reg prometheus.Registerer, c T) T {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(T); ok {
				return existing
			}
		}
	}
	return c
}
