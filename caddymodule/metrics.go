package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/smsgate/caddy-smsgate/pages"
)

// metrics are the gate's Prometheus counters, on Caddy's registry. Labels
// are small fixed sets: never a user, a number or an IP.
type metrics struct {
	sends  *prometheus.CounterVec // provider, channel, result
	codes  *prometheus.CounterVec // country, event
	pauses *prometheus.CounterVec // kind
	pages  pages.Metrics          // what the pages count
}

func newMetrics(reg prometheus.Registerer) *metrics {
	opts := func(name, help string) prometheus.CounterOpts {
		return prometheus.CounterOpts{Namespace: "caddy", Subsystem: "smsgate", Name: name, Help: help}
	}
	return &metrics{
		sends: register(reg, prometheus.NewCounterVec(opts("sends_total",
			"Codes handed to providers, by provider, channel and result (delivered, failed, refused)."),
			[]string{"provider", "channel", "result"})),
		pages: pages.Metrics{Verifications: register(reg, prometheus.NewCounterVec(opts("verifications_total",
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
				[]string{"method"}))},
		codes: register(reg, prometheus.NewCounterVec(opts("codes_total",
			"Codes by destination country (ISO code) and event: sent, used (typed in), paused (refused by the pumping guard)."),
			[]string{"country", "event"})),
		pauses: register(reg, prometheus.NewCounterVec(opts("pumping_pauses_total",
			"Pauses the pumping guard began, by kind of place (country, prefix)."), []string{"kind"})),
	}
}

// register adds c to reg, or returns the collector already there: a config
// reload provisions the gate again on the same registry.
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
