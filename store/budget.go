package store

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/smsgate/caddy-smsgate/internal/clock"
)

// A person waits for a request: its store work, all of its calls
// together, has a budget (WithBudget), so that a store that does not
// answer costs a page RequestBudget at most, whatever the number of calls
// its flow makes, and then a clear 503 — not go-redis's full tries on
// each call in a row (a stopped Redis ~1.7 s a call, a hung one its read
// timeout, 5 s a call: a code typed on a hung Redis answered after 40 s).
// Only the time spent waiting on the store counts, not a gateway's send in
// between, so that a refund after a slow send still has its time. Within
// the budget go-redis still retries (a Sentinel failover takes 2–3 s: a
// request that meets its start may ride it over, else it is told to try
// again); a lasting write's WAIT for a replica (ReplicaWait) fits in it.
// Work without a budget (the gate's watch, flushes: each has a timeout of
// its own) is bounded as before.

// RequestBudget is the store time a request may spend (see WithBudget):
// RequestTime, which is RequestBudget unless a test shortened it.
const RequestBudget = 3 * time.Second

// requestBudget is RequestBudget as requests read it (clock.Shorten).
var requestBudget = clock.NewWait("request-budget", RequestBudget)

// RequestTime is the store time a request may spend: RequestBudget.
func RequestTime() time.Duration { return requestBudget.Get() }

// ErrBudgetSpent is what a store call answers once its request's budget is
// spent: the store did not answer in time.
var ErrBudgetSpent = errors.New("store: this request's time for the store is spent (the store did not answer in time)")

type budgetKey struct{}

// budget is the store time a request has left, in nanoseconds; its calls
// may run at once (a batch's goroutines), hence atomic. size is what it
// was given; now is its clock (time.Now; a test's own).
type budget struct {
	left atomic.Int64
	size time.Duration
	now  func() time.Time
}

// WithBudget gives ctx's store calls d of store time in all, read on
// time.Now (a test's own clock where ctx carries one: clock.ForBudgets).
func WithBudget(ctx context.Context, d time.Duration) context.Context {
	b := &budget{size: d, now: clock.Budgets(ctx)}
	b.left.Store(int64(d))
	return context.WithValue(ctx, budgetKey{}, b)
}

// spend bounds a store call by what is left of its request's budget: the
// call's context, and done, which takes the time it took off the budget.
// With the budget spent, it answers ErrBudgetSpent at once. The calls the
// call makes in turn with its context (a Cluster claim's give-back and
// retry: Update in DoBatch) are charged with it, within its deadline, not
// again (before, their time was taken off twice: theirs, then the call's).
func spend(ctx context.Context) (context.Context, func(), error) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	if b == nil {
		return ctx, func() {}, nil
	}
	left := time.Duration(b.left.Load())
	if left <= 0 {
		return ctx, func() {}, ErrBudgetSpent
	}
	start := b.now()
	ctx, cancel := context.WithTimeout(WithoutBudget(ctx), left)
	return ctx, func() { cancel(); b.left.Add(-int64(b.now().Sub(start))) }, nil
}

// perCall is ctx without its budget, for work as long as the store is
// large (a scan), and what bounds each of its round trips instead: the
// whole budget ctx was given (a store that stops answering ends the work
// within it, however far it got), or nothing where ctx has no budget (the
// store's own timeouts). ErrBudgetSpent when the budget is spent already.
func perCall(ctx context.Context) (context.Context, func(context.Context) (context.Context, context.CancelFunc), error) {
	b, _ := ctx.Value(budgetKey{}).(*budget)
	switch {
	case b == nil:
		return ctx, func(ctx context.Context) (context.Context, context.CancelFunc) { return ctx, func() {} }, nil
	case b.left.Load() <= 0:
		return ctx, nil, ErrBudgetSpent
	}
	return WithoutBudget(ctx), func(ctx context.Context) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, b.size)
	}, nil
}

// WithoutBudget is ctx for work that outlives its request, with a timeout
// of its own (the revocation log's poll): not held to the request's budget.
func WithoutBudget(ctx context.Context) context.Context {
	if ctx.Value(budgetKey{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, budgetKey{}, (*budget)(nil))
}
