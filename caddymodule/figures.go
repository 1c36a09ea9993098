package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/phone"
	"github.com/smsgate/caddy-smsgate/pumping"
)

// The admin's figures and the pumping guard, wired to the gate: what the
// providers, the codes and the receipts tell them; the guard's alarm; and
// their admin API operations.

// counting is the gate's figures and guard, once provisioned.
type counting struct {
	tally *figures.Tally
	guard *pumping.Guard // nil: off
	stop  func()
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
	g.counting.stop = g.counting.tally.Run(flushEvery, func(err error) {
		g.logger.Warn("adding to the figures in the store (kept for the next try)", zap.Error(err))
	})
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

// figuresAnswer is GET /smsgate/figures: the report, and the guard's state.
type figuresAnswer struct {
	*figures.Report
	Pumping pumpingAnswer `json:"pumping"`
}

// pumpingAnswer is GET /smsgate/pumping: whether the guard is on, and its
// pauses (current first, then those ended within a day).
type pumpingAnswer struct {
	On     bool            `json:"on"`
	Pauses []pumping.Pause `json:"pauses"`
}

// countingOp answers the admin API's figures and pumping operations:
//
//	GET  /smsgate/figures?realm=R[&days=N]   the last N days' figures (default and most 30), and the pauses
//	GET  /smsgate/pumping?realm=R            the pumping guard's pauses
//	POST /smsgate/pumping/resume {realm,place}   ends a pause now
func (a *AdminAPI) countingOp(w http.ResponseWriter, r *http.Request, op string) (any, error) {
	q := r.URL.Query()
	if op == "pumping/resume" {
		if r.Method != http.MethodPost {
			return nil, &adminError{http.StatusMethodNotAllowed, errors.New("use POST")}
		}
		var req struct{ Realm, Place string }
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil {
			return nil, decodeError(err)
		}
		g, err := a.gateFor(req.Realm)
		if err != nil {
			return nil, err
		}
		return g.resumePumping(r.Context(), req.Place)
	}
	if r.Method != http.MethodGet {
		return nil, &adminError{http.StatusMethodNotAllowed, errors.New("use GET")}
	}
	g, err := a.gateFor(q.Get("realm"))
	if err != nil {
		return nil, err
	}
	if op == "pumping" {
		return g.pumpingState(r.Context())
	}
	days := figures.MaxDays
	if s := q.Get("days"); s != "" {
		if days, err = strconv.Atoi(s); err != nil || days < 1 || days > figures.MaxDays {
			return nil, badRequest("days: a whole number from 1 to 30")
		}
	}
	return g.figures(r.Context(), days)
}

// figures is the realm's report of the last days, with what this gate
// has counted and not yet added (other instances add theirs within
// flushEvery).
func (g *Gate) figures(ctx context.Context, days int) (*figuresAnswer, error) {
	if err := g.counting.tally.Flush(ctx); err != nil {
		return nil, err
	}
	report, err := figures.Read(ctx, g.store, g.Realm, g.Costs, g.now(), days)
	if err != nil {
		return nil, err
	}
	state, err := g.pumpingState(ctx)
	if err != nil {
		return nil, err
	}
	return &figuresAnswer{Report: report, Pumping: *state}, nil
}

func (g *Gate) pumpingState(ctx context.Context) (*pumpingAnswer, error) {
	pauses, err := g.PumpingGuard.Offline(g.store, g.now).Pauses(ctx, g.Realm)
	return &pumpingAnswer{On: g.counting.guard != nil, Pauses: pauses}, err
}

// resumePumping ends place's pause on the admin's word.
func (g *Gate) resumePumping(ctx context.Context, place string) (any, error) {
	place = strings.ToUpper(strings.TrimSpace(place))
	if place == "" {
		return nil, badRequest("place is required: a country code (GB) or a prefix (+44740), as the pauses list it")
	}
	p, err := g.PumpingGuard.Offline(g.store, g.now).Resume(ctx, g.Realm, place)
	if errors.Is(err, pumping.ErrNotPaused) {
		return nil, &adminError{http.StatusNotFound, errors.New(place + " is not paused")}
	}
	if err != nil {
		return nil, err
	}
	g.alarm(zap.InfoLevel, "pumping_resumed", "an admin resumed sends to "+place, zap.String("place", place), zap.String("kind", p.Kind))
	return p, nil
}
