package session

import (
	"context"

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
