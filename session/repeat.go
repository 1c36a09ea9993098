package session

import (
	"context"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// Cached is Check for a token this gate verified earlier and still holds
// (a repeat visit), and nil for any other: it writes nothing to the store
// (the revocation poll it may start only reads). Once the owner has let go
// of the store, it is nil too when a poll is due: the cache would not
// learn of a revocation made since. lookup is the session's placeholders'
// provider, cl.Facts().Lookup, kept beside the token: a repeat visit that
// needs no claim reads no more of its memory.
func (m *Manager) Cached(ctx context.Context, token string) (cl *Claims, lookup func(string) (any, bool)) {
	r := m.Repeat()
	cl, lookup, _ = r.Cached(ctx, token)
	return cl, lookup
}

// Repeat is what a repeat visit reads of a Manager, for a caller to hold
// by value beside what it reads on every request (a gate's hot fields):
// the cache's table is then found without reading the Manager first. Each
// line of memory found through the last waits for it (the proxy's work
// between two requests evicts them all): one fewer in that chain.
type Repeat struct {
	m *Manager
	table
}

// Repeat is m's Repeat.
func (m *Manager) Repeat() Repeat { return Repeat{m: m, table: m.cache.table} }

// Cached is Manager.Cached, and the session's amr as bits (Config.AMRs,
// kept in the cache's entry beside lookup): a gate tests its factors
// against them without reading the claims.
func (r *Repeat) Cached(ctx context.Context, token string) (cl *Claims, lookup func(string) (any, bool), amrs uint8) {
	if token == "" {
		return nil, nil, 0
	}
	m := r.m
	var now int64 // one clock read (clock.Coarse in production), no time.Time
	if m.coarse {
		now = clock.Coarse()
	} else {
		now = m.now().UnixNano()
	}
	if !m.syncRevocations(ctx, now) {
		return nil, nil, 0
	}
	if e := r.get(token, now); e != nil {
		return e.claims, e.lookup, e.amrs
	}
	return nil, nil, 0
}
