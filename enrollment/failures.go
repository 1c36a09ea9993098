package enrollment

import (
	"context"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// failKey counts wrong codes for user from one address; a known browser's
// apart from strangers' there (behind the same NAT), as its account lock
// is (lockKey).
func failKey(sc Scope, user string) string     { return sc.accountKey("fails", user, IPKey(sc.IP)) }
func failUserKey(sc Scope, user string) string { return sc.accountKey("fails", user) }
func failSlotKey(sc Scope, user string) string { return sc.accountKey("fail-slots", user) }

// failPairSlotKey is the address's window of tries among LockAfter
// (takeFailureAt).
func failPairSlotKey(sc Scope, user string) string {
	return sc.accountKey("fail-slots", user, IPKey(sc.IP))
}

// failureMemory is how long wrong codes are remembered without a success.
const failureMemory = 24 * time.Hour

// AccountLockout is how long MaxFailures consecutive wrong codes lock an
// account everywhere. It is short because anyone who can name a user can
// cause it (with identity "none", or behind a shared first factor):
// guessing is bounded by the window of checked guesses (Limits.Guesses),
// not by keeping the owner out.
const AccountLockout = 15 * time.Minute

// recordFailure counts a wrong code and locks out when a limit is reached.
// It returns the lockout it started, if any.
// Only wrong phone codes count account-wide: wrong recovery codes lock out
// just the (user, IP) pair, as their guessing has throttles of its own.
func (s *Core) recordFailure(ctx context.Context, sc Scope, user string, accountWide bool) (*LockedError, error) {
	locked, _, err := s.countFailure(ctx, sc, user, accountWide, false)
	return locked, err
}

// countFailure is recordFailure, also saying how many wrong codes are left
// before a lockout starts (from this IP, or account-wide); confirming
// counts an app's confirmation try, at its own keys too (failsOf), once
// the shared ones hold it (countOwn). Each limit reads one count, its
// Incr's: of codes at once, each sees a count of its own, so none skips
// the address lock's multiple of lockout_after; the account's locks at
// every count from max_failures on (total >= max), as a right
// confirmation's share taken off (forgetConfirmations) may bring its
// count back to a value already seen.
func (s *Core) countFailure(ctx context.Context, sc Scope, user string, accountWide, confirming bool) (*LockedError, int, error) {
	shared, own := failsOf(sc, user, false), failsOf(sc, user, true)
	var b store.Batch
	pairOp, totalOp := b.Incr(shared.pair, failureMemory), &store.Op{}
	if accountWide {
		totalOp = b.Incr(shared.total, failureMemory)
	}
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return nil, 0, err // no own count: a right confirmation takes back nothing the shared ones lack
	}
	pair, total := pairOp.N, totalOp.N
	s.countOwn(ctx, own, pair == 1, accountWide && total == 1, confirming, accountWide)
	left := 1 << 30
	if s.Limits.LockAfter > 0 {
		left = s.Limits.LockAfter - int(pair%int64(s.Limits.LockAfter))
	}
	if accountWide && s.Limits.MaxFailures > 0 {
		left = min(left, s.Limits.MaxFailures-int(total))
	}
	accountLocks := accountWide && s.Limits.MaxFailures > 0 && total >= int64(s.Limits.MaxFailures)
	addressLocks := s.Limits.LockAfter > 0 && pair%int64(s.Limits.LockAfter) == 0
	if !accountLocks && !addressLocks {
		return nil, left, nil
	}
	// One wrong code may reach both limits (lockout_after 3, max_failures
	// 3): it starts both locks, the account's first, then the address's
	// (as long as configured: maybe longer than the account's); the
	// account's is told once.
	now, locked := s.Now(), &LockedError{Started: true}
	var accountErr, addressErr error
	if accountLocks {
		var until time.Time
		if until, accountErr = s.lockUntil(ctx, lockUserKey(sc, user), now.Add(AccountLockout)); accountErr == nil {
			s.afterAccountLock(ctx, shared, own)
			locked.Account, locked.AccountWait, locked.Wait = true, until.Sub(now), until.Sub(now)
		}
	}
	if addressLocks {
		round := min(pair/int64(s.Limits.LockAfter)-1, 20)
		var until time.Time
		if until, addressErr = s.lockUntil(ctx, lockKey(sc, user), now.Add(min(s.Limits.Lockout<<round, failureMemory))); addressErr == nil {
			locked.Wait = max(locked.Wait, until.Sub(now))
		}
	}
	switch {
	case accountErr != nil:
		return nil, 0, accountErr // the account's count stays: the next wrong code locks
	case addressErr != nil && !locked.Account:
		return nil, 0, addressErr // refused; this round's lock is lost (the next round's, and the other limits, still hold)
	}
	// The account's lock holds (and its share of the count went): it is answered, and
	// told, though the address's failed (Unwritten, for the log).
	locked.Unwritten = addressErr
	return locked, 0, nil
}

// afterAccountLock begins the account's count afresh once its lock holds:
// the max_failures wrong codes the lock answers are taken from the shared
// count, by a compare-and-set, where it still holds as many (swapCounts);
// never the whole count, for a wrong code counted since this one's Incr
// (at once; or after another code's lock took its share) is the first of
// the next count. A code at once that saw max_failures or more locked
// too, and takes a share where one is left (less is left alone): with
// max_failures 2, of three codes counted the lock takes two and one
// stays; of four, both shares go. The own count (a confirmation's tries,
// what a right one takes back from the shared count) goes first, whole:
// the tries among the lock's codes are taken back by none, and a try at
// once is left in the shared count only, one too many (a lock maybe
// sooner, never one skipped); after the shared count it could let a right
// confirmation at once take back the lock's tries from the next count.
func (s *Core) afterAccountLock(ctx context.Context, shared, own fails) {
	if s.Store.Delete(ctx, own.total) != nil {
		return // the count stays: the next wrong code locks
	}
	share := int64(s.Limits.MaxFailures)
	s.swapCounts(ctx, []string{shared.total}, func(_ int, n int64) int64 {
		if n < share {
			return n
		}
		return n - share
	})
}

// countOwn counts a confirmation try (confirming) at its own keys (own),
// what a right confirmation takes back (forgetConfirmations): once the
// shared counts hold it, never before, so that a store failing one leaves
// an own count short (one too many in the shared count, a lock maybe
// sooner), never long (a wrong code of another kind taken back with it).
// First it makes the own counts start afresh with a shared count that did
// (its Incr answered 1: the last one expired, a day after it began): a
// count older than it is none of it, and a right confirmation must not
// take it back from the new one. A code at once whose own count this
// forgets stays in the shared count: one too many, never one skipped.
func (s *Core) countOwn(ctx context.Context, own fails, freshPair, freshTotal, confirming, accountWide bool) {
	var gone, again store.Batch // one batch names a key once
	for _, k := range []struct {
		key           string
		fresh, counts bool
	}{{own.pair, freshPair, true}, {own.total, freshTotal, accountWide}} {
		if k.fresh {
			gone.Delete(k.key)
		}
		if confirming && k.counts {
			again.Incr(k.key, failureMemory)
		}
	}
	if store.Do(ctx, s.Store, &gone) == nil {
		_ = store.Do(ctx, s.Store, &again)
	}
}

// forgetFailures adds to b forgetting wrong codes after a right one: the
// limits count consecutive failures. The account's slots among
// MaxFailures go too (the window emptied: Store.ClearWindow), the right
// code's own among them (so b must not give it back as well): a wrong
// code counts until the next right one, or for AccountLockout. An app's
// confirmation tries' own counts go with the rest (failsOf).
func (s *Core) forgetFailures(b *store.Batch, sc Scope, user string) {
	failsOf(sc, user, false).forget(b)
	failsOf(sc, user, true).forget(b)
}
