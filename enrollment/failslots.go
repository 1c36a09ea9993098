package enrollment

import (
	"context"

	"github.com/smsgate/caddy-smsgate/store"
)

// A try's slots among MaxFailures (the account's) and LockAfter (its
// address's), taken in the batch that reads the locks (guesses.go: "Tries
// at once").

// takeFailure adds taking a try's slot among the account's MaxFailures to
// b, and one among LockAfter from its address, before anything else is
// added; nil when both are off.
func (s *Core) takeFailure(b *store.Batch, sc Scope, user string) *guess {
	return s.takeFailureAt(b, failsOf(sc, user, false))
}

// takeFailureAt is takeFailure in the windows of f (an app's confirmation
// tries' are their own: failsOf).
//
// The address's window is LockAfter's as the account's is MaxFailures':
// the count of wrong codes from an address grows only once a code has
// been compared, and its lock is written after that, so of tries at once
// every one that read the locks before would be compared (attack40 H1: 60
// of 60 at lockout_after 3). A slot in a window of LockAfter from the
// address, taken before the locks are read, bounds them: a wrong code
// keeps its slot, a try never compared gives its back, a right one
// empties the window (forgetFailures). The window forgets a slot after
// Lockout, the first round's lock, which outlasts every slot taken before
// it (each later round's is longer). So at most LockAfter codes from one
// address are compared between two right ones in any Lockout, tries at
// once or not, besides the rounds' locks.
func (s *Core) takeFailureAt(b *store.Batch, f fails) *guess {
	var account, pair *guess
	if s.Limits.LockAfter > 0 && s.Limits.Lockout > 0 {
		pair = &guess{key: f.pairSlots, id: RandomID()}
		pair.op = b.Slide(pair.key, pair.id, s.Limits.LockAfter, s.Limits.Lockout, s.Now())
	}
	if s.Limits.MaxFailures > 0 {
		account = &guess{key: f.slots, id: RandomID()}
		account.op = b.Slide(account.key, account.id, s.Limits.MaxFailures, AccountLockout, s.Now())
	}
	switch {
	case account == nil && pair == nil:
		return nil
	case account == nil:
		return &guess{pair: pair} // no slot of its own: given back, and refused, by pair's
	}
	account.pair = pair
	return account
}

// refusedUnchecked is why a try whose batch read locks and took guess's
// and fail's slots is not to be compared (nil: it is), having given back
// the slots it took: a lock holds, the window of guesses is full, or
// MaxFailures tries are already wrong or being compared (which writes the
// account lock, as the last of them would have).
func (s *Core) refusedUnchecked(ctx context.Context, sc Scope, user string, locks [2]*store.Op, guess, fail *guess) error {
	if err := s.lockedBy(locks); err != nil {
		s.giveBackNow(ctx, guess, fail)
		return err
	}
	if guess != nil && !guess.op.OK {
		s.giveBackNow(ctx, fail)
		return s.guessRefused(ctx, sc, user, guess)
	}
	if fail == nil {
		return nil
	}
	if fail.op != nil && !fail.op.OK {
		s.giveBackNow(ctx, guess, fail) // fail's pair
		return s.lockAccount(ctx, sc, user, AccountLockout)
	}
	if pair := fail.pair; pair != nil && !pair.op.OK {
		// LockAfter tries from this address are wrong or being
		// compared: refused until the oldest slot leaves, or until the
		// lock the last of them writes if wrong (read at the next try).
		s.giveBackNow(ctx, guess, fail)
		return &LockedError{Wait: pair.op.Wait}
	}
	return nil
}

// takeTry reads user's locks, a slot among MaxFailures taken first, for a
// try that counts toward them but takes no guess (a named passkey's
// answer): nil, and no slot, for no user, or when refused.
func (s *Core) takeTry(ctx context.Context, sc Scope, user string) (*guess, error) {
	if user == "" {
		return nil, nil
	}
	var b store.Batch
	fail := s.takeFailure(&b, sc, user)
	locks := s.readLocks(&b, sc, user)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		s.giveBackNow(ctx, fail)
		return nil, err
	}
	if err := s.refusedUnchecked(ctx, sc, user, locks, nil, fail); err != nil {
		return nil, err
	}
	return fail, nil
}
