package enrollment

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	budgetclock "github.com/smsgate/caddy-smsgate/internal/clock" // beside the tests' own clock
	"github.com/smsgate/caddy-smsgate/store"
	"github.com/smsgate/caddy-smsgate/store/storetest/redistest"
)

// stallAfterCooldown is a store that, right after the first claim of a
// cooldown (the Redis script's), is slow to answer the request that made
// it for all of that request's store time: the write is in, its request's
// budget is spent. The budget is read on the store's clock (now), which
// moves only then, by the whole budget at each reading: the test waits
// out no real time, and a loaded machine's slow round trips spend none of
// the budget (each call still has what is left as its deadline).
type stallAfterCooldown struct {
	store.Store
	once     sync.Once
	stalling atomic.Bool
	clock    atomic.Int64 // nanoseconds
	stalled  bool
}

// stallBudget is the store time of the request whose send stalls.
const stallBudget = time.Minute

func (s *stallAfterCooldown) now() time.Time {
	if s.stalling.Load() {
		return time.Unix(0, s.clock.Add(int64(stallBudget)))
	}
	return time.Unix(0, s.clock.Load())
}

// Claim implements store.Claimer: the Redis store's own claim, then the
// stall: a call that takes the whole budget, after which the store
// answers that the request's time is spent.
func (s *stallAfterCooldown) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	won, err := store.ClaimOn(ctx, s.Store, parts)
	if err == nil && won && slices.ContainsFunc(parts, func(p *store.Op) bool { return strings.HasPrefix(p.Key(), "cooldown/") }) {
		s.once.Do(func() {
			s.stalling.Store(true)
			_, _ = s.Store.Get(ctx, "anything")
			s.stalling.Store(false)
			_, err = s.Store.Get(ctx, "anything")
			s.stalled = errors.Is(err, store.ErrBudgetSpent)
		})
	}
	return won && err == nil, err
}

// TestASendThatSpentItsBudgetIsTakenBack: on a real Redis, a send's claim
// of its cooldown is in, but the store then takes all the store time its
// request has left (on the budget's own clock: stallAfterCooldown, so
// that neither the test waits it out nor a loaded machine spends it
// before the claim) before the rest of the send: the send fails (no
// code goes out), and it is taken back at once, with store time of its
// own, so that its user, told to try again, is not made to wait for a
// code never sent — also where the retry reaches another instance.
// Before, the take-back had only what the request had left (nothing):
// not even tried, and the retry was refused by the wait (a 429 in
// TestRedisBlipKeepsSignedInUsers on a loaded machine).
func TestASendThatSpentItsBudgetIsTakenBack(t *testing.T) {
	t.Parallel()
	r := redistest.Start(t)
	clk := &clock{t: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)}
	instance := func(st store.Store) (*Challenges, *outbox) {
		out := &outbox{}
		s, _, _ := New(&Core{Store: st, CodeKey: []byte("0123456789abcdef0123456789abcdef"), Now: clk.now}, Challenges{
			Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: 30 * time.Second,
			Templates: mustTemplates(t, "", ""),
		})
		return s, out
	}
	st, closeRedis, err := store.OpenRedis(&store.Redis{Addresses: []string{r.Addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeRedis() })
	stalling := &stallAfterCooldown{Store: st}
	a, sentByA := instance(stalling)
	b, sentByB := instance(st)
	c := Challenge{User: alice, Phone: num, Purpose: Verify}
	ctx := store.WithBudget(budgetclock.ForBudgets(context.Background(), stalling.now), stallBudget)
	if _, err := a.Start(ctx, sc, c); err == nil || len(sentByA.sent) != 0 || !stalling.stalled {
		t.Fatalf("a send whose store stalled past its budget after its cooldown's write (%v): %v, %d sent; want an error and nothing sent",
			stalling.stalled, err, len(sentByA.sent))
	}
	if _, err := b.Start(context.Background(), sc, c); err != nil || len(sentByB.sent) != 1 {
		var cd *CooldownError
		if errors.As(err, &cd) {
			t.Fatalf("the retry at another instance waits %s for a code never sent", cd.Wait)
		}
		t.Fatalf("the retry at another instance: %v, %d sent", err, len(sentByB.sent))
	}
}

// goneAfterClaim is a store that goes away as it makes its first claim,
// once armed: the claim's records are written, its answer lost, and a
// take-back's writes fail until the test brings it back (down false).
type goneAfterClaim struct {
	store.Store
	mu          sync.Mutex
	armed, down bool
}

func (g *goneAfterClaim) isDown() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.down }

func (g *goneAfterClaim) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	won, err := store.ClaimOn(ctx, g.Store, parts)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil && won && g.armed {
		g.armed, g.down = false, true
		return false, errors.New("test: the store went away")
	}
	return won, err
}

func (g *goneAfterClaim) Delete(ctx context.Context, key string) error {
	if g.isDown() {
		return errors.New("test: the store is away")
	}
	return g.Store.Delete(ctx, key)
}

func (g *goneAfterClaim) ClearWindow(ctx context.Context, key string) error {
	if g.isDown() {
		return errors.New("test: the store is away")
	}
	return g.Store.ClearWindow(ctx, key)
}

func (g *goneAfterClaim) Update(ctx context.Context, key string, change func([]byte, bool) ([]byte, time.Duration, error)) error {
	if g.isDown() {
		return errors.New("test: the store is away")
	}
	return g.Store.Update(ctx, key, change)
}

func (g *goneAfterClaim) Unslide(ctx context.Context, key, id string) error {
	if g.isDown() {
		return errors.New("test: the store is away")
	}
	return g.Store.Unslide(ctx, key, id)
}

// beside is a gate on st beside s (another instance, or s's store seen
// through a test's wrapper): s's code key, out for its texts, clk for its
// clock.
func beside(t *testing.T, s *Challenges, st store.Store, out *outbox, clk *clock) *Challenges {
	a, _, _ := New(&Core{Store: st, CodeKey: s.CodeKey, Now: clk.now}, Challenges{
		Sender: out, CodeLength: 6, CodeTTL: 5 * time.Minute, MaxAttempts: 5, ResendCooldown: 30 * time.Second,
		Templates: mustTemplates(t, "", ""),
	})
	return a
}

// TestALateTakeBackUndoesNoOtherSendsWait: a send at instance a whose
// store went away as its claim was written is taken back only later,
// before a's next send; meanwhile, its wait over, instance b sent a code
// and wrote its own (doubled) wait over the same records. The late
// take-back puts back only where a's own write still is, so b's wait
// stands and holds a's next send. A take-back by plain writes (as undo
// made before) deleted b's wait: a second text within it.
func TestALateTakeBackUndoesNoOtherSendsWait(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	gone := &goneAfterClaim{Store: s.Store, armed: true}
	a := beside(t, s, gone, out, clk)
	ctx := context.Background()
	c := Challenge{User: alice, Phone: num, Purpose: Verify}
	if _, err := a.Start(ctx, sc, c); err == nil || out.sentCount() != 0 {
		t.Fatalf("a send whose store went away at its claim: %v, %d sent", err, out.sentCount())
	}
	gone.mu.Lock()
	gone.down = false // back, but a has not sent since: its take-back is still kept
	gone.mu.Unlock()
	clk.advance(31 * time.Second)
	if _, err := s.Start(ctx, sc, c); err != nil || out.sentCount() != 1 {
		t.Fatalf("b's send once a's wait was over: %v, %d sent", err, out.sentCount())
	}
	if _, err := a.Start(ctx, sc, c); !errors.As(err, new(*CooldownError)) || out.sentCount() != 1 {
		t.Fatalf("a's send right after b's, its late take-back tried first: %v, %d sent; want b's wait and 1 text", err, out.sentCount())
	}
}

// lateClaim is a store whose first claim, once armed, is not answered
// and not yet written: its write is held (as by a stalled server, which
// reads it on waking) until the test lands it.
type lateClaim struct {
	store.Store
	mu    sync.Mutex
	armed bool
	held  []*store.Op
}

func (l *lateClaim) Claim(ctx context.Context, parts []*store.Op) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.armed {
		l.armed, l.held = false, parts
		return false, errors.New("test: the claim's answer is lost")
	}
	return store.ClaimOn(ctx, l.Store, parts)
}

// land writes the claim held, as it would have been written.
func (l *lateClaim) land(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if won, err := store.ClaimOn(context.Background(), l.Store, l.held); err != nil || !won {
		t.Fatalf("the held claim landing: %v %v", won, err)
	}
}

// TestAWriteLandingAfterItsTakeBackLeavesNoWait: a send's claim of its
// wait is not answered (the store failed it) and lands only after the
// send was taken back: the take-back found the record as the send read
// it, its write not there yet. The take-back is kept and tried again
// before the gate's next send, which finds the late write and puts the
// record back: the user's retry is not refused by the wait of a code never
// sent. Before, the take-back, its swap finding no write of its own, was
// done, and the retry met the wait (a CooldownError).
func TestAWriteLandingAfterItsTakeBackLeavesNoWait(t *testing.T) {
	t.Parallel()
	s, out, clk := newService(t)
	late := &lateClaim{Store: s.Store, armed: true}
	a := beside(t, s, late, out, clk)
	ctx := context.Background()
	c := Challenge{User: alice, Phone: num, Purpose: Verify}
	if _, err := a.Start(ctx, sc, c); err == nil || out.sentCount() != 0 {
		t.Fatalf("a send whose claim was not answered: %v, %d sent", err, out.sentCount())
	}
	if n := len(a.failed.left); n != 1 {
		t.Fatalf("%d take-backs kept, want the one whose write had not landed", n)
	}
	late.land(t)
	if _, err := a.Start(ctx, sc, c); err != nil || out.sentCount() != 1 {
		t.Fatalf("the retry after the late write landed: %v, %d sent; want the code sent", err, out.sentCount())
	}
	// A write that never lands: its take-back is tried once more, at the
	// next send, not at every send while its wait would last.
	clk.advance(time.Hour)
	late.mu.Lock()
	late.armed = true
	late.mu.Unlock()
	if _, err := a.Start(ctx, sc, Challenge{User: "bob", Phone: num, Purpose: Verify}); err == nil {
		t.Fatal("a send whose claim was not answered went on")
	}
	if _, err := a.Start(ctx, sc, c); err != nil || out.sentCount() != 2 || len(a.failed.left) != 0 {
		t.Fatalf("the next send: %v, %d sent, %d take-backs kept; want sent, none kept", err, out.sentCount(), len(a.failed.left))
	}
}
