package admin

import (
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/factor"
	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/recent"
	"github.com/smsgate/caddy-smsgate/store"
)

// A running gate's counting: the admin's figures and the console's recent
// events, added to the store every FlushEvery, and the pumping guard; what
// the providers, the codes and the receipts tell them. The admin's tools
// read them back through Site (Figures, Pumping, the console's Recent).

// FlushEvery is how often a gate adds its counts to the store's figures.
const FlushEvery = 5 * time.Second

// CountingConfig is what a gate's counting runs on.
type CountingConfig struct {
	Store store.Store
	Realm string
	// Guard is the pumping guard's config (nil: the defaults; Off: none),
	// checked (Settings); Paused hears each pause it starts.
	Guard  *pumping.Config
	Paused func(realm string, p pumping.Pause)
	Logger *zap.Logger
	Now    func() time.Time
}

// Counting is a gate's figures, recent events and pumping guard, running.
type Counting struct {
	Tally  *figures.Tally
	Recent *recent.Ring   // the console's recent audit events
	Guard  *pumping.Guard // nil: off
	stop   func()
}

// StartCounting starts the figures' tally, the recent events and the guard.
func StartCounting(c CountingConfig) *Counting {
	n := &Counting{Tally: &figures.Tally{Store: c.Store, Realm: c.Realm, Now: c.Now}}
	stopTally := n.Tally.Run(FlushEvery, func(err error) {
		c.Logger.Warn("adding to the figures in the store (kept for the next try)", zap.Error(err))
	})
	n.Recent = &recent.Ring{Store: c.Store, Realm: c.Realm}
	stopRecent := n.Recent.Run(FlushEvery, func(err error) {
		c.Logger.Warn("adding to the recent events in the store (kept for the next try)", zap.Error(err))
	})
	n.stop = func() { // each flushes once more, bounded; at once (a reload waits)
		var wg sync.WaitGroup
		wg.Go(stopTally)
		wg.Go(stopRecent)
		wg.Wait()
	}
	if c.Guard == nil || !c.Guard.Off {
		settings, _ := c.Guard.Settings() // checked
		n.Guard = &pumping.Guard{Settings: settings, Store: c.Store, Now: c.Now, Paused: c.Paused}
	}
	return n
}

// Stop flushes the last counts (a nil Counting: nothing started).
func (n *Counting) Stop() {
	if n != nil {
		n.stop()
	}
}

// Sent counts a text or call a provider accepted.
func (n *Counting) Sent(provider string, channel factor.Channel, country, result string) {
	if result == "delivered" {
		n.Tally.Add(figures.Row{Kind: figures.Sent, Country: country, Provider: provider, Channel: channel}, 1)
	}
}

// Code counts a code sent, used, or refused by the guard.
func (n *Counting) Code(event, country string, channel factor.Channel) {
	kind := map[string]string{"sent": figures.CodesSent, "used": figures.CodesUsed, "paused": figures.Paused}[event]
	n.Tally.Add(figures.Row{Kind: kind, Country: country, Channel: channel}, 1)
}

// Receipt counts a delivery receipt's end.
func (n *Counting) Receipt(provider, country, status string) {
	kind := figures.Undelivered
	if status == "delivered" {
		kind = figures.Delivered
	}
	n.Tally.Add(figures.Row{Kind: kind, Country: country, Provider: provider}, 1)
}
