package enrollment

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// Checked guesses. A guess is checked when a code is compared with the
// right one: a texted code, an app's code, a recovery code. Lockouts end,
// and IPs are many, so neither bounds guessing: the window does. Every
// checked guess for an account takes a slot in its sliding window
// (Limits.Guesses, 100 a day); a right code gives its slot back; once the
// window is full, no code is checked (and none sent) until its oldest
// guess leaves it. The owner's known browsers have a window of their own
// (Scope.Known), so strangers who fill the account's do not keep them out.

// guess is one checked guess's slot, taken in a batch.
type guess struct {
	key, id string
	op      *store.Op
	// pair is a try's slot among lockout_after from its address, taken
	// beside its slot among MaxFailures (takeFailure): given back with it.
	pair *guess
}

func guessKey(sc Scope, user string) string { return sc.accountKey("guesses", user) }

// takeGuess adds taking a slot for one checked guess to b; nil when the
// window is off (never in a config: Validate refuses it).
func (s *Core) takeGuess(b *store.Batch, sc Scope, user string) *guess {
	r := s.Limits.Guesses
	if r.Count <= 0 || r.Window <= 0 {
		return nil
	}
	g := &guess{key: guessKey(sc, user), id: RandomID()}
	g.op = b.Slide(g.key, g.id, r.Count, r.Window, s.Now())
	return g
}

// guessRefused is nil when the slot was taken, else a LockedError until
// the window's oldest guess leaves it. The first refusal starts an account
// lock (the same record as MaxFailures'), which also stops codes being
// sent to the account meanwhile.
func (s *Core) guessRefused(ctx context.Context, sc Scope, user string, g *guess) error {
	if g == nil || g.op.OK {
		return nil
	}
	return s.lockAccount(ctx, sc, user, g.op.Wait)
}

// lockAccount locks user's account for wait from a refusal: of refusals at
// once, one starts the lock (a window of one).
func (s *Core) lockAccount(ctx context.Context, sc Scope, user string, wait time.Duration) error {
	now := s.Now()
	ok, _, err := s.Store.Slide(ctx, sc.accountKey("lock-start", user), RandomID(), 1, wait, now)
	if err != nil {
		return err
	}
	// The lock keeps the later end: a plain write here shortened the
	// MaxFailures lock a wrong code at once had just begun.
	ends, err := s.lockUntil(ctx, lockUserKey(sc, user), now.Add(wait))
	if err != nil {
		return err
	}
	return &LockedError{Wait: ends.Sub(now), Started: ok, Account: true}
}

// moreGuesses takes n more slots beside first (one for each further app a
// code is compared with), in one batch: one round trip, whatever n.
// With none to take (n ≤ 0: one app or none) it waits one round trip all
// the same (a read that changes nothing), so that the time of the answer
// does not tell a user with two apps or more. When one is refused, every
// slot taken is given back and the refusal returned.
func (s *Core) moreGuesses(ctx context.Context, sc Scope, user string, first *guess, n int) ([]*guess, error) {
	if first == nil {
		return nil, nil
	}
	if n <= 0 {
		_, _ = s.Store.Get(ctx, deviceKey(sc.Realm, user)) // the same wait
		return nil, nil
	}
	var b store.Batch
	taken := make([]*guess, n)
	for i := range taken {
		taken[i] = s.takeGuess(&b, sc, user)
	}
	if err := store.Do(ctx, s.Store, &b); err != nil {
		s.giveBackNow(ctx, append(taken, first)...)
		return nil, err
	}
	var refused *guess
	for _, g := range taken {
		if !g.op.OK {
			refused = g
		}
	}
	if refused != nil {
		s.giveBackNow(ctx, append(taken, first)...)
		return nil, s.guessRefused(ctx, sc, user, refused)
	}
	return taken, nil
}

// giveBack adds returning the slot to b: the guess was right, or was never
// checked after all.
func (g *guess) giveBack(b *store.Batch) {
	if g == nil {
		return
	}
	if g.op != nil && g.op.OK && g.op.Err == nil {
		b.Unslide(g.key, g.id)
	}
	g.pair.giveBack(b)
}

// giveBackNow returns the slots at once, in one batch.
func (s *Core) giveBackNow(ctx context.Context, gs ...*guess) {
	var b store.Batch
	for _, g := range gs {
		g.giveBack(&b)
	}
	_ = store.Do(ctx, s.Store, &b)
}

// Tries at once. The count of wrong codes grows only once a code has been
// compared, so of tries sent at once every one that read the locks before
// the lock was written would be compared: MaxFailures held only for tries
// one after another. So each try of a code takes a slot among the
// account's MaxFailures (a sliding window of AccountLockout) in the batch
// that reads the locks, before it reads them (a batch's operations go in
// the order added, on Badger and Redis): a wrong code keeps its slot, a
// try never compared gives its back, and a right one empties the window
// (forgetFailures: MaxFailures counts wrong codes in a row, as the count of
// failures does). Once the window is full, a try is refused without being
// compared, and writes the account lock itself. The window forgets a slot
// after AccountLockout: a lock outlasts every slot taken before it, and a
// slot a store failure kept costs nothing after that long. So at most
// MaxFailures codes are wrong between two right ones in any
// AccountLockout, tries at once or not, besides MaxFailures in a row
// within failureMemory.

// fails are where wrong codes count: from one address (LockAfter),
// account-wide, and the account's slots among MaxFailures. Every wrong
// code, of any kind, counts at the shared keys (failsOf(…, false)) in one
// atomic Incr each, so that every count is seen once and no lock's
// multiple is skipped by codes at once. An app's confirmation try
// (confirming: the code of a secret the page just showed whoever holds
// the session) counts at keys of its own as well, which tell a right
// confirmation how many to take back from the shared counts
// (forgetConfirmations): it forgets those alone, never what other codes
// (a step-up's, a sign-in's) earned; a right code elsewhere forgets all
// (forgetFailures). Its slots among MaxFailures are a window of its own.
// pairSlots are the address's slots among LockAfter, as slots are the
// account's among MaxFailures (takeFailure).
type fails struct{ pair, total, slots, pairSlots string }

func failsOf(sc Scope, user string, confirming bool) fails {
	if confirming {
		const apart = "app-setup" // never an IPKey
		return fails{sc.accountKey("fails", user, IPKey(sc.IP), apart), sc.accountKey("fails", user, apart),
			sc.accountKey("fail-slots", user, apart), sc.accountKey("fail-slots", user, IPKey(sc.IP), apart)}
	}
	return fails{failKey(sc, user), failUserKey(sc, user), failSlotKey(sc, user), failPairSlotKey(sc, user)}
}

// takeBackTries bounds swapCounts' compare-and-sets of a count: each
// lost to a wrong code at once, read again after a wait (store.Retry).
const takeBackTries = 8

// forgetConfirmations forgets the wrong confirmation tries before a right
// one. It first takes their own counts for itself: each read, then
// deleted by a compare-and-set against the count read (Batch.Swap; read
// again where a wrong confirmation changed it meanwhile), so that of right
// confirmations at once (a double submit) one alone takes a count back.
// The count it took is then taken from the shared count, by a
// compare-and-set too (Batch.SwapCount; read again where a wrong code
// changed it; a store keeps no counter's end, so the count left lasts
// failureMemory afresh; never below none). done empties their window of
// slots. A count whose take-back failed (the store, or takeBackTries
// races lost) stays in the shared count: one too many, a lock maybe
// sooner, never one skipped.
func (s *Core) forgetConfirmations(ctx context.Context, done *store.Batch, sc Scope, user string) {
	own, shared := failsOf(sc, user, true), failsOf(sc, user, false)
	done.ClearWindow(own.slots)
	done.ClearWindow(own.pairSlots)
	took := s.swapCounts(ctx, []string{own.pair, own.total}, func(int, int64) int64 { return 0 })
	if took[0]+took[1] > 0 {
		s.swapCounts(ctx, []string{shared.pair, shared.total}, func(i int, all int64) int64 {
			if all < took[i] {
				// An own count is part of the shared one: a shared count
				// smaller is a new day's, begun after the own expired
				// (countOwn not yet run): left whole, one too many.
				return all
			}
			return all - took[i]
		})
	}
}

// swapCounts writes to each counter of keys what to makes of its count
// (none at 0 or below), by compare-and-sets against the counts read, one
// batch for them all, read again where one changed meanwhile (at most
// takeBackTries times, backing off: store.Retry); a counter to leaves as
// it is, or found at none, is not written. It returns the counts it
// replaced (0 where it did not write).
func (s *Core) swapCounts(ctx context.Context, keys []string, to func(i int, n int64) int64) []int64 {
	took := make([]int64, len(keys))
	pending := make([]int, len(keys))
	for i := range keys {
		pending[i] = i
	}
	_ = store.Retry(ctx, takeBackTries, func() (bool, error) {
		var reads, writes store.Batch
		counts := make([]*store.Op, len(pending))
		for j, i := range pending {
			counts[j] = reads.Counter(keys[i])
		}
		if err := store.Do(ctx, s.Store, &reads); err != nil {
			return false, err
		}
		swaps := make([]*store.Op, len(pending))
		for j, i := range pending {
			switch n := to(i, counts[j].N); {
			case counts[j].N == 0 || n == counts[j].N: // none, or nothing to change
			case n > 0:
				swaps[j] = writes.SwapCount(keys[i], counts[j], n, failureMemory)
			default: // none left (never below none)
				swaps[j] = writes.Swap(keys[i], counts[j], nil, 0)
			}
		}
		if err := store.Do(ctx, s.Store, &writes); err != nil {
			return false, err
		}
		var again []int
		for j, i := range pending {
			switch {
			case swaps[j] == nil:
			case swaps[j].OK:
				took[i] = counts[j].N
			default:
				again = append(again, i)
			}
		}
		pending = again
		return len(pending) == 0, nil
	})
	return took
}

// forget adds forgetting f's wrong codes to b (the window emptied:
// Store.ClearWindow).
func (f fails) forget(b *store.Batch) {
	b.Delete(f.pair)
	b.Delete(f.total)
	b.ClearWindow(f.slots)
	b.ClearWindow(f.pairSlots)
}

// accountKey names an account-wide record, or with parts one of its
// records kept apart (a login form's client's streak: "ip" and its
// IPKey; an address's wrong codes and lock: its IPKey); a known browser's are its own, apart from everyone else's (an
// IPKey is never "known-browser").
func (sc Scope) accountKey(kind, user string, parts ...string) string {
	key := append([]string{kind, sc.Realm, user}, parts...)
	if sc.Known {
		key = append(key, "known-browser")
	}
	return store.Key(key...)
}

// FirstNotice reports whether user's phones are to be told that their
// account was locked at at: once per window of guesses (a day), however
// often strangers set a lock off, so that the notices cost little and say
// something.
func (s *Core) FirstNotice(ctx context.Context, realm, user string, at time.Time) (bool, Undo) {
	return s.firstOf(ctx, store.Key("lock-notice", realm, user), at)
}

// FirstSwapNotice reports whether user's other phones are to be told that
// the SIM of their device (its ID; "" for a provisioned phone) was swapped:
// once a window of guesses (a day) for each device, however often a send
// to it is refused. Notices go past every send limit (the refused send is
// given back), so without it each retry texted every other phone.
func (s *Core) FirstSwapNotice(ctx context.Context, realm, user, device string, at time.Time) (bool, Undo) {
	return s.firstOf(ctx, store.Key("swap-notice", realm, user, device), at)
}

// Undo gives back the count a First…Notice took: for a notice that sent
// no text (held back by the user's hour of notices or the budget), so that
// a later one tells what it could not, not the next day.
type Undo func(context.Context)

// firstOf reports whether at is the first time in a window of guesses that
// key is counted (a store failure: no), and how to give that count back.
func (s *Core) firstOf(ctx context.Context, key string, at time.Time) (bool, Undo) {
	w := s.Limits.Guesses.Window
	if w <= 0 {
		w = failureMemory
	}
	id := RandomID()
	if first, _, err := s.Store.Slide(ctx, key, id, 1, w, at); err != nil || !first {
		return false, nil
	}
	return true, func(ctx context.Context) { _ = s.Store.Unslide(ctx, key, id) }
}

// MaxGuessOdds is the most that 30 days of non-stop guessing may win of
// any one account: 1%.
const MaxGuessOdds = 0.01

// CheckGuesses refuses a window of guesses that allows more than
// MaxGuessOdds for an app's code (6 digits, 3 accepted: the easiest code
// to guess; a texted one has at least as many digits, and one accepted).
func (l Limits) CheckGuesses() error {
	if n, odds := l.GuessOdds(30, 6, 3); odds > MaxGuessOdds {
		return fmt.Errorf("limit guesses %d %v allows %d guesses in 30 days, a %.1f%% chance of guessing an authenticator app's code; at most 1%% (100 a day) is allowed",
			l.Guesses.Count, l.Guesses.Window, min(n, 1<<30), odds*100)
	}
	return nil
}

// GuessOdds is what the window allows in days of non-stop guessing from
// any number of IPs: at most Count checked guesses in each Window, so n
// in all, each of which hits one of the accepted codes out of 10^digits
// (an app's code is accepted for its 30-second step and the one on either
// side: 3). odds is the chance that one of them is right.
func (l Limits) GuessOdds(days, digits, accepted int) (n int, odds float64) {
	r := l.Guesses
	if r.Count <= 0 || r.Window <= 0 {
		return math.MaxInt, 1
	}
	span := time.Duration(days) * 24 * time.Hour
	windows := int((span + r.Window - 1) / r.Window)
	n = windows * r.Count
	p := float64(accepted) / math.Pow(10, float64(digits))
	return n, -math.Expm1(float64(n) * math.Log1p(-p))
}
