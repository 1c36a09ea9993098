package session

import (
	"context"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/smsgate/caddy-smsgate/internal/endkeys"
	"github.com/smsgate/caddy-smsgate/store"
)

// BornEnded reports how much later than b a session of user would have
// to be issued for her revocation record (endkeys.User) not to end it at
// once: 0 where none covers b's instant, as its iat is stamped (whole
// seconds). A record that does was written by an instance whose clock is
// ahead of this one's (a sign-out everywhere or a revoke there a moment
// ago, up to Leeway ahead; or one that moved its record on: revokeAll):
// the session issued now would be born ended, its cookie set and every
// request after it sent back to sign in, until this clock passes the
// record. The record is left as it is (it must end every session signed
// before it by the instance that wrote it), so the sign-in says so
// instead (pages' signedIn). err is the store's.
func (m *Manager) BornEnded(ctx context.Context, user string, b Began) (time.Duration, error) {
	var batch store.Batch
	op := batch.Get(endkeys.User(m.realm, user))
	if err := store.Do(ctx, m.store, &batch); err != nil {
		return 0, err
	}
	before, err := revokedBefore(op)
	if err != nil || before.IsZero() {
		return 0, err
	}
	at := b.at
	if at.IsZero() {
		at = m.now()
	}
	iat := jwt.NewNumericDate(at).Time
	if iat.After(before) {
		return 0, nil
	}
	return before.Sub(iat) + time.Second, nil // past the record, in whole seconds
}
