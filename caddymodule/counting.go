package caddymodule

import (
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/recent"
)

// The admin's figures and the pumping guard, wired to the gate: what the
// providers, the codes and the receipts tell them, and the guard's alarm.
// The admin's tools read them through package admin (admin.Site.Figures).

// counting is the gate's figures and guard, once provisioned.
type counting struct {
	tally  *figures.Tally
	recent *recent.Ring   // the console's recent audit events
	guard  *pumping.Guard // nil: off
	stop   func()
}

// flushEvery is how often a gate adds its counts to the store's figures.
const flushEvery = 5 * time.Second

// checkCounting checks the prices and the guard's settings.
func (g *Gate) checkCounting() error {
	if err := g.Costs.Check(); err != nil {
		return optionErrf("costs", "%v", err)
	}
	if _, err := g.PumpingGuard.Settings(); err != nil {
		return optionErrf("pumping_guard", "%v", err)
	}
	return nil
}

// startCounting starts the figures' tally and the guard, and hooks them
// to the sends and checks of codes.
func (g *Gate) startCounting() {
	g.counting.tally = &figures.Tally{Store: g.store, Realm: g.Realm, Now: g.now}
	stopTally := g.counting.tally.Run(flushEvery, func(err error) {
		g.logger.Warn("adding to the figures in the store (kept for the next try)", zap.Error(err))
	})
	g.counting.recent = &recent.Ring{Store: g.store, Realm: g.Realm}
	stopRecent := g.counting.recent.Run(flushEvery, func(err error) {
		g.logger.Warn("adding to the recent events in the store (kept for the next try)", zap.Error(err))
	})
	g.counting.stop = func() { stopTally(); stopRecent() }
	if g.PumpingGuard == nil || !g.PumpingGuard.Off {
		settings, _ := g.PumpingGuard.Settings() // checked
		g.counting.guard = &pumping.Guard{Settings: settings, Store: g.store, Now: g.now, Paused: g.pumpingPaused}
	}
	g.challenges.Guard = g.counting.guard
	g.challenges.Observe = g.codeEvent
}

// stopCounting flushes the last counts.
func (g *Gate) stopCounting() {
	if g.counting.stop != nil {
		g.counting.stop()
	}
}

// providerResult counts a text or call a provider accepted.
func (g *Gate) providerResult(provider, channel, country, result string) {
	if result == "delivered" {
		g.counting.tally.Add(figures.Row{Kind: figures.Sent, Country: country, Provider: provider, Channel: channel}, 1)
	}
}

// codeEvent counts a code sent, used, or refused by the guard.
func (g *Gate) codeEvent(event, e164, channel string) {
	country := phone.Region(e164)
	kind := map[string]string{"sent": figures.CodesSent, "used": figures.CodesUsed, "paused": figures.Paused}[event]
	g.counting.tally.Add(figures.Row{Kind: kind, Country: country, Channel: channel}, 1)
	g.metrics.codes.WithLabelValues(country, event).Inc()
}

// receiptCounted counts a delivery receipt's end.
func (g *Gate) receiptCounted(provider, country, status string) {
	kind := figures.Undelivered
	if status == "delivered" {
		kind = figures.Delivered
	}
	g.counting.tally.Add(figures.Row{Kind: kind, Country: country, Provider: provider}, 1)
}

// pumpingPaused tells the admin of a pause: a warning in the log, a Caddy
// event (smsgate_pumping_paused), a metric; the admin API lists it.
func (g *Gate) pumpingPaused(realm string, p pumping.Pause) {
	g.metrics.pauses.WithLabelValues(p.Kind).Inc()
	g.alarm(zap.WarnLevel, "pumping_paused", "codes to "+p.Place+" are used too seldom: new sends there are paused (SMS pumping?)",
		zap.String("place", p.Place), zap.String("kind", p.Kind), zap.Int64("sent", p.Sent), zap.Int64("used", p.Used),
		zap.Time("until", p.Until), zap.Int("trips", p.Trips))
}
