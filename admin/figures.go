package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"

	"github.com/smsgate/caddy-smsgate/figures"
	"github.com/smsgate/caddy-smsgate/pumping"
)

// The admin's figures and the pumping guard's pauses: the admin API's
// figures, pumping and pumping/resume, the CLI's figures, pumping and
// pumping-resume on a stopped Caddy's store, and the console (package
// pages) all go through these.

// FiguresAnswer is GET /smsgate/figures: the report, and the guard's state.
type FiguresAnswer struct {
	*figures.Report
	Pumping PumpingAnswer `json:"pumping"`
}

// PumpingAnswer is GET /smsgate/pumping: whether the guard is on, and its
// pauses (current first, then those ended within a day).
type PumpingAnswer struct {
	On     bool            `json:"on"`
	Pauses []pumping.Pause `json:"pauses"`
	// At is the site's time when it answered (its clock's, which may not be
	// the machine's): a pause is in force while At is before its Until.
	At time.Time `json:"at,omitzero"`
}

// now is the site's clock: the running gate's, or the machine's.
func (s *Site) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Figures is the realm's report of the last days, with what this gate has
// counted and not yet added (other instances add theirs every few seconds).
func (s *Site) Figures(ctx context.Context, days int) (*FiguresAnswer, error) {
	if days < 1 || days > figures.MaxDays {
		return nil, badRequest("days: a whole number from 1 to 30")
	}
	if s.Tally != nil {
		if err := s.Tally.Flush(ctx); err != nil {
			return nil, err
		}
	}
	report, err := figures.Read(ctx, s.Store, s.Realm, s.Costs, s.now(), days)
	if err != nil {
		return nil, err
	}
	state, err := s.Pumping(ctx)
	if err != nil {
		return nil, err
	}
	return &FiguresAnswer{Report: report, Pumping: *state}, nil
}

// Pumping is the guard's state and its pauses.
func (s *Site) Pumping(ctx context.Context) (*PumpingAnswer, error) {
	pauses, err := s.PumpingGuard.Offline(s.Store, s.now).Pauses(ctx, s.Realm)
	return &PumpingAnswer{On: s.PumpingGuard == nil || !s.PumpingGuard.Off, Pauses: pauses, At: s.now()}, err
}

// ResumePumping ends place's pause on the admin's word.
func (s *Site) ResumePumping(ctx context.Context, place string) (*pumping.Pause, error) {
	place = strings.ToUpper(strings.TrimSpace(place))
	if place == "" {
		return nil, badRequest("place is required: a country code (GB) or a prefix (+44740), as the pauses list it")
	}
	if len(place) > maxPlace { // echoed in the 404: a place no pause has is not sent back whole
		return nil, badRequest(fmt.Sprintf("place is no country code (GB) or prefix (+44740): %d characters; a place is at most %d", utf8.RuneCountInString(place), maxPlace))
	}
	p, err := s.PumpingGuard.Offline(s.Store, s.now).Resume(ctx, s.Realm, place)
	if errors.Is(err, pumping.ErrNotPaused) {
		return nil, &adminError{http.StatusNotFound, errors.New(echo(place) + " is not paused")}
	}
	if err != nil {
		return nil, err
	}
	if s.Alarm != nil {
		s.Alarm(zap.InfoLevel, "pumping_resumed", "an admin resumed sends to "+place, zap.String("place", place), zap.String("kind", p.Kind))
	}
	return &p, nil
}

// maxPlace is the longest place a pause has: a prefix is an E.164 number's
// start, "+" and at most 15 digits.
const maxPlace = 16

// parseDays reads the figures' span: empty is the most.
func parseDays(s string) (int, error) {
	if s == "" {
		return figures.MaxDays, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > figures.MaxDays {
		return 0, badRequest("days: a whole number from 1 to 30")
	}
	return n, nil
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
			return nil, notAllowed(w, "use POST", http.MethodPost)
		}
		var req Request // the CLI sends its Request
		if err := decodeBody(http.MaxBytesReader(w, r.Body, 4096), &req); err != nil {
			return nil, err
		}
		s, err := a.siteFor(req.Realm)
		if err != nil {
			return nil, err
		}
		return s.ResumePumping(r.Context(), req.Place)
	}
	if r.Method != http.MethodGet {
		return nil, notAllowed(w, "use GET", http.MethodGet)
	}
	s, err := a.siteFor(q.Get("realm"))
	if err != nil {
		return nil, err
	}
	if op == "pumping" {
		return s.Pumping(r.Context())
	}
	days, err := parseDays(q.Get("days"))
	if err != nil {
		return nil, err
	}
	return s.Figures(r.Context(), days)
}

// offlineCounting runs figures, pumping or pumping-resume on st, the
// store of a stopped Caddy's gate s.
func offlineCounting(ctx context.Context, st *Site, name string, req Request) (any, error) {
	if req.Realm == "" {
		return nil, errors.New(name + " needs --realm")
	}
	switch name {
	case "pumping-resume":
		return st.ResumePumping(ctx, req.Place)
	case "pumping":
		return st.Pumping(ctx)
	}
	days, err := parseDays(req.Days)
	if err != nil {
		return nil, errors.New("--" + err.Error())
	}
	return st.Figures(ctx, days)
}
