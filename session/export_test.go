package session

import (
	"context"
	"time"

	"github.com/smsgate/caddy-smsgate/factor"
)

// Issue signs a new session for user, authenticated now by amr, made
// where: IssueBegun without a sign-in's beginning, for the tests that
// only need a session.
func (m *Manager) Issue(ctx context.Context, user string, amr []factor.AMR, where Where) (string, error) {
	token, _, err := m.IssueBegun(ctx, Began{}, user, amr, where)
	return token, err
}

// FlushCache forgets every verified token, as LetGo does: each session is
// then one this gate has not checked (signed in at another).
func (m *Manager) FlushCache() { m.cache.Flush() }

// Get returns the claims of a token verified earlier that has not expired
// by now.
func (c *Cache) Get(token string, now time.Time) (*Claims, bool) {
	if e := c.get(token, now.UnixNano()); e != nil {
		return e.claims, true
	}
	return nil, false
}

// Add is AddSince with nothing forgotten since.
func (c *Cache) Add(token string, cl *Claims) { c.AddSince(token, cl, c.Forgets()) }

// Len is how many tokens the cache holds.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
