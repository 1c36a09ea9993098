package caddymodule

import (
	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/admin"
	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/internal/cfutil"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/pumping"
)

// The admin's figures and the pumping guard (admin.Counting), wired to the
// gate: its sends, codes and receipts, its metrics, and the guard's alarm.

// checkCounting checks the prices and the guard's settings.
func (g *Gate) checkCounting() error {
	if err := g.Costs.Check(); err != nil {
		return cfutil.OptionErrf("costs", "%v", err)
	}
	if _, err := g.PumpingGuard.Settings(); err != nil {
		return cfutil.OptionErrf("pumping_guard", "%v", err)
	}
	return nil
}

// startCounting starts the figures, the recent events and the guard, and
// hooks them to the audit log and to the sends and checks of codes.
func (g *gate) startCounting(c *Gate) {
	g.counting = admin.StartCounting(admin.CountingConfig{Store: g.store, Realm: c.Realm,
		Guard: c.PumpingGuard, Paused: g.pumpingPaused, Logger: g.logger, Now: g.now})
	g.log.Recent, g.log.Now = g.counting.Recent, g.now
	g.challenges.Guard = g.counting.Guard
	g.challenges.Observe = g.codeEvent
}

// codeEvent counts a code sent, used, or refused by the guard.
func (g *gate) codeEvent(event, e164 string, channel factor.Channel) {
	country := phone.Region(e164)
	g.counting.Code(event, country, channel)
	g.metrics.Codes.WithLabelValues(country, event).Inc()
}

// pumpingPaused tells the admin of a pause: a warning in the log, a Caddy
// event (smsgate_pumping_paused), a metric; the admin API lists it.
func (g *gate) pumpingPaused(realm string, p pumping.Pause) {
	g.metrics.Pauses.WithLabelValues(p.Kind).Inc()
	g.log.Alarm(zap.WarnLevel, "pumping_paused", "codes to "+p.Place+" are used too seldom: new sends there are paused (SMS pumping?)",
		zap.String("place", p.Place), zap.String("kind", p.Kind), zap.Int64("asked", p.Asked), zap.Int64("sent", p.Sent), zap.Int64("used", p.Used),
		zap.Time("until", p.Until), zap.Int("trips", p.Trips))
}
