package enrollment

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/smsgate/caddy-smsgate/pumping"
	"github.com/smsgate/caddy-smsgate/store"
)

// A send writes its records before its code goes out (startOnce): the
// challenge, the sends it counted, and the waits it claims (its cooldown,
// a login form's base wait, its number's waits: store.Batch.Claim). One
// that then does not happen (a limit refuses it, the gateway fails, the
// store fails after the claim's write) is taken back: its user, told to
// try again, must not then be refused for the wait of a code that never
// came. Taking back asks the store too, which may fail just as the send
// did; so it has store time of its own (the send's write may have spent
// its request's: a store slow to answer it), and one that fails is kept
// and tried again before this gate's next send (takeBacks), which finds
// the store back when its user retries.
//
// Each record the claim wrote is put back by a swap of its own (putBack),
// not by a claim of them all: a record is one wait, and another send
// that wrote one of them since (the number's base wait, from another
// client) owns that one only — a claim would lose as a whole there and
// leave this send's cooldown on a code never sent. A record put back is
// as it would be had the send not been made, and only over the send's
// own write: no other send's wait is undone by it. A record that still
// holds what the send read is one its write has not reached (yet): a
// write the store failed to answer may land after its take-back (a
// stalled server that reads it on waking, after the take-back's own
// connection), and would leave a wait for a code never sent. Such a
// take-back is kept too (unlanded) and tried once more: a late write
// lands a moment after the store answers again, and one not there by
// this gate's next send never will be (the write was lost), so it is
// not tried at every send while its wait lasts.

// takeBackTime is the store time a send's take-back has, whatever its
// request has left: a request's (store.RequestTime), so that a page
// whose send the store failed part-way answers within twice that at most.
var takeBackTime = store.RequestTime

// takeBackMemory is how long a take-back that failed is kept to be tried
// again: past it, the waits it would put back are over, and the windows
// it would refund have mostly moved on. maxTakeBacks bounds how many are
// kept (a long outage): the oldest go first.
const (
	takeBackMemory = time.Hour
	maxTakeBacks   = 1000
)

// The take-backs kept are in this gate's memory only: a restart (or a
// retry at another instance) does not try them. Keeping them in the store
// would take a write to the store that just failed. What one lost leaves
// is bounded by its records' own TTL: the wait it would have put back
// (the send's, at most MaxResendWait), the doubling's memory after it
// (cooldownMemory: the next code's wait doubled once more), a challenge
// nobody holds the code of (CodeTTL), and the sends it would refund,
// counted until their windows slide past them.

// takeBack is what undoes one send: its challenge's key, the records of
// its waits it wrote (none where they are another send's: lostRace) and
// the sends it counted to give back, and the pumping guard's count of it
// (given back once: a count is not tried again).
type takeBack struct {
	challenge string
	waits     []wait
	refund    []spent
	guard     *pumping.Watch
	until     time.Time // kept to be tried again until then
	last      bool      // its waits' writes had not landed: tried this once more
}

// takeBacks are the take-backs that failed, to be tried again.
type takeBacks struct {
	mu   sync.Mutex
	left []takeBack
}

// undo takes back a send that did not happen: its challenge, the records
// of its waits (what was there before comes back, where the send's write
// is still there) and the sends it counted, in one round trip; kept to
// be tried again if the store does not take it.
func (s *Challenges) undo(ctx context.Context, sc Scope, c *Challenge, waits []wait, refund []spent, guard *pumping.Watch) {
	tb := takeBack{challenge: challengeKey(sc.Realm, c.ID), waits: waits, refund: refund, guard: guard, until: s.Now().Add(takeBackMemory)}
	if again, err := s.takeBack(store.WithBudget(ctx, takeBackTime()), tb); err != nil {
		tb.guard = nil
		s.failed.keep(tb)
	} else if again != nil {
		s.failed.keep(*again)
	}
}

// lostRace says whether another send at once changed one of the records
// of the cooldown and the number's waits that this one read and claimed
// (claim: errRaced): if so it wrote none of them, and the rest of it (the
// challenge, the sends it counted) is undone; the records are the other
// send's, which keeps them.
func (s *Challenges) lostRace(ctx context.Context, sc Scope, c *Challenge, claim *store.Op, sends *sends, guard *pumping.Watch) bool {
	if claim.OK {
		return false
	}
	s.undo(ctx, sc, c, nil, sends.recorded(true), guard)
	return true
}

// takeBack runs tb; again is what is left to try again (nil: none), its
// waits whose records its write has not reached (unlanded).
func (s *Challenges) takeBack(ctx context.Context, tb takeBack) (again *takeBack, err error) {
	var b store.Batch
	b.Delete(tb.challenge)
	back := make([]*store.Op, len(tb.waits))
	for i, w := range tb.waits {
		back[i] = s.putBack(&b, w)
	}
	for _, sp := range tb.refund {
		b.Unslide(sp.key, sp.id)
	}
	tb.guard.GiveBack(&b)
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return nil, err
	}
	return s.unlanded(ctx, tb, back)
}

// unlanded is what of tb to try once more once its put-backs (back) are
// done: those that found their record holding what the send read, not
// its write, while the longest of their waits lasts (nil: none; none
// either where tb was that once more).
func (s *Challenges) unlanded(ctx context.Context, tb takeBack, back []*store.Op) (*takeBack, error) {
	if tb.last {
		return nil, nil
	}
	var b store.Batch
	var reads []*store.Op
	var waits []wait
	for i, w := range tb.waits {
		if !back[i].OK {
			reads, waits = append(reads, b.Get(w.Key)), append(waits, w)
		}
	}
	if err := store.Do(ctx, s.Store, &b); err != nil {
		return nil, err
	}
	again := takeBack{challenge: tb.challenge, refund: tb.refund, last: true}
	var ttl time.Duration
	for i, w := range waits {
		if (reads[i].Err == nil) == (w.Read.Err == nil) && bytes.Equal(reads[i].Value, w.Read.Value) {
			again.waits, ttl = append(again.waits, w), max(ttl, w.TTL)
		}
	}
	if again.waits == nil {
		return nil, nil
	}
	if again.until = s.Now().Add(ttl); tb.until.Before(again.until) {
		again.until = tb.until
	}
	return &again, nil
}

// putBack adds to b putting back what w's record held before the send
// wrote it — only where the send's write is still there (SwapBack): a wait
// another send wrote since, here or at another instance, stays. What was
// there is kept as long as it was written for (keep), or deleted.
func (s *Challenges) putBack(b *store.Batch, w wait) *store.Op {
	var value []byte
	var ttl time.Duration
	var cd cooldown
	if w.Read.Err == nil && json.Unmarshal(w.Read.Value, &cd) == nil {
		if ttl = s.keep(cd, w.base); ttl > 0 {
			value = w.Read.Value
		}
	}
	return b.SwapBack(w.Key, w.Value, value, ttl)
}

// retryTakeBacks tries again the take-backs that failed, before a send
// (the one its user was told to try again for first of all), oldest
// first, within ctx's store budget (one take-back's, for them all); at
// the first that fails again (the store is not back, or the budget is
// spent), the rest wait for the next send.
func (s *Challenges) retryTakeBacks(ctx context.Context) {
	left := s.failed.take()
	var again []takeBack
	defer func() { s.failed.keep(again...) }()
	for i, tb := range left {
		if !s.Now().Before(tb.until) {
			continue
		}
		more, err := s.takeBack(ctx, tb)
		if err != nil {
			again = append(again, left[i:]...)
			return
		}
		if more != nil {
			again = append(again, *more)
		}
	}
}

// keep keeps tbs to be tried again, after those kept already; past
// maxTakeBacks, the oldest are dropped.
func (t *takeBacks) keep(tbs ...takeBack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.left = append(t.left, tbs...)
	if n := len(t.left) - maxTakeBacks; n > 0 {
		t.left = slices.Delete(t.left, 0, n)
	}
}

// take returns the take-backs kept, and keeps none.
func (t *takeBacks) take() []takeBack {
	t.mu.Lock()
	defer t.mu.Unlock()
	left := t.left
	t.left = nil
	return left
}
