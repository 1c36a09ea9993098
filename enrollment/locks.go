package enrollment

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// lock is a lockout record.
type lock struct {
	Until time.Time `json:"until"`
}

func lockKey(sc Scope, user string) string     { return sc.accountKey("lock", user, IPKey(sc.IP)) }
func lockUserKey(sc Scope, user string) string { return sc.accountKey("lock", user) }

// checkLock refuses a user locked out from this IP, or everywhere.
func (s *Core) checkLock(ctx context.Context, sc Scope, user string) error {
	var b store.Batch
	locks := s.readLocks(&b, sc, user)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return err
	}
	return s.lockedBy(locks)
}

// readLocks adds reading user's lockouts (everywhere, and from this IP) to b.
func (s *Core) readLocks(b *store.Batch, sc Scope, user string) [2]*store.Op {
	return [2]*store.Op{b.Get(lockUserKey(sc, user)), b.Get(lockKey(sc, user))}
}

// lockedBy refuses when a lockout that readLocks read still holds: the
// account's (the first), or this IP's.
func (s *Core) lockedBy(locks [2]*store.Op) error {
	for i, op := range locks {
		var l lock
		if op.Err == nil && json.Unmarshal(op.Value, &l) == nil {
			if wait := l.Until.Sub(s.Now()); wait > 0 {
				return &LockedError{Wait: wait, Account: i == 0}
			}
		}
	}
	return nil
}

// lockUntil writes the lock at key to end at until, unless it ends later
// already, in one atomic update, and answers when it ends: of two wrong
// codes at once that each begin a lock (a 10th and a 20th from one IP, a
// round's lock and the next's, twice as long), the one written last must
// not shorten the other's.
func (s *Core) lockUntil(ctx context.Context, key string, until time.Time) (time.Time, error) {
	ends := until
	err := s.Store.Update(ctx, key, func(old []byte, found bool) ([]byte, time.Duration, error) {
		var l lock
		if found && json.Unmarshal(old, &l) == nil && !l.Until.Before(until) {
			ends = l.Until
			return nil, 0, store.ErrUnchanged
		}
		ends = until
		raw, err := json.Marshal(lock{Until: until})
		return raw, until.Sub(s.Now()) + time.Second, err
	})
	return ends, err
}

// LockedFor is how long user is locked out from this scope (0: not).
func (s *Core) LockedFor(ctx context.Context, sc Scope, user string) time.Duration {
	var locked *LockedError
	if errors.As(s.checkLock(ctx, sc, user), &locked) {
		return locked.Wait
	}
	return 0
}
