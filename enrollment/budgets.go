package enrollment

import (
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/store"
)

// The global budgets (global_enrolled, global_new) are a realm's: the
// gates of one realm share them, as they share its users, and sites of
// other realms on the same store spend their own. Before, each was one
// window for the whole store (limit/global_*/all), so a low-value site's
// strangers, sharing a store with an important one, spent the budget the
// important site's enrolled users sign in with.
//
// The previous release's window still counts, for every realm on the
// store, until the sends it holds have left the realm's window: a realm's
// budget has the room its own window leaves less what that window holds
// (read in the round trip before the count, which changes nothing there).
// Once a Core has read it empty it reads it no more: nothing writes it
// after the upgrade but a gate of the previous release still running on
// the store, whose sends, once it has been quiet for a whole window, no
// longer count beside this release's.

// budgetKey is the window of realm's budget name (global_enrolled,
// global_new): the realm's part escaped, as the per-user windows' are, so
// no realm's reaches another's or the store's of before (three parts).
func budgetKey(name, realm string) string { return store.Key("limit", name, realm, "all") }

// storeBudgetKey is the window the previous releases counted budget name
// in, one for every realm on the store.
func storeBudgetKey(name string) string { return store.Key("limit", name, "all") }

// storeBudgets records, for each budget, that this Core read the previous
// release's window empty (no need to read it again).
type storeBudgets struct{ enrolled, new atomic.Bool }

func (d *storeBudgets) of(name string) *atomic.Bool {
	if name == "global_new" {
		return &d.new
	}
	return &d.enrolled
}

// readStoreBudget adds to b a read of the previous release's window of
// budget name over rate's span at now, while it may hold sends; nil once
// read empty, or with the budget off.
func (s *Core) readStoreBudget(b *store.Batch, name string, rate Rate, now time.Time) *store.Op {
	if rate.Count <= 0 || rate.Window <= 0 || s.storeBudgets.of(name).Load() {
		return nil
	}
	return b.Window(storeBudgetKey(name), rate.Window, now)
}

// budgetRoom is the limit a realm's window of budget name counts a send
// under: rate's count less the sends read (readStoreBudget) in the
// previous release's window, and when the oldest of those leaves it (0:
// none). A read that failed counts none: the realm's own window still
// bounds the sends, as the store did before it could say.
func (s *Core) budgetRoom(name string, rate Rate, read *store.Op) (int, time.Duration) {
	if read == nil || read.Err != nil {
		return rate.Count, 0
	}
	if read.N == 0 {
		s.storeBudgets.of(name).Store(true)
		return rate.Count, 0
	}
	return rate.Count - int(read.N), read.Wait
}
