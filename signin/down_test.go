package signin

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smsgate/caddy-smsgate/enrollment"
	"github.com/smsgate/caddy-smsgate/store"
)

// down is a store that does not answer (a stopped Redis), counting the
// calls it refuses.
type down struct{ calls atomic.Int64 }

var errDown = errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")

func (d *down) no() error { d.calls.Add(1); return errDown }

func (d *down) Get(context.Context, string) ([]byte, error)                    { return nil, d.no() }
func (d *down) Put(context.Context, string, []byte, time.Duration) error       { return d.no() }
func (d *down) Take(context.Context, string) ([]byte, error)                   { return nil, d.no() }
func (d *down) Delete(context.Context, string) error                           { return d.no() }
func (d *down) Incr(context.Context, string, time.Duration) (int64, error)     { return 0, d.no() }
func (d *down) Unslide(context.Context, string, string) error                  { return d.no() }
func (d *down) ClearWindow(context.Context, string) error                      { return d.no() }
func (d *down) Counter(context.Context, string) (int64, error)                 { return 0, d.no() }
func (d *down) Scan(context.Context, string, func(string, []byte) error) error { return d.no() }
func (d *down) PutIfAbsent(context.Context, string, []byte, time.Duration) (bool, error) {
	return false, d.no()
}
func (d *down) Update(context.Context, string, func([]byte, bool) ([]byte, time.Duration, error)) error {
	return d.no()
}
func (d *down) Slide(context.Context, string, string, int, time.Duration, time.Time) (bool, time.Duration, error) {
	return false, 0, d.no()
}
func (d *down) Window(context.Context, string, time.Duration, time.Time) (int, time.Duration, error) {
	return 0, 0, d.no()
}

var _ store.Store = (*down)(nil)

// TestALoginAgainstADownStoreFailsAtOnce: a sign-in on a login form asks a
// store that does not answer once, and fails with its error. Each call to
// a stopped Redis costs go-redis's retries (about 1.7 s; a pipeline twice
// that): the sign-in read the user's devices, ignored the error, went on
// to its challenge's reads, and answered its 503 after 5 s instead of
// 1.7 s, and after more than the tests' 10 s on a loaded machine
// (TestRedisDownMidRun). Provisioned or not, every name fails the same way.
func TestALoginAgainstADownStoreFailsAtOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, name := range []string{"carol", "+14155552671", "dave", "+14155550100"} {
		st := &down{}
		s := newServiceOn(st, LoginForm{})
		sc := enrollment.Scope{Realm: "r", IP: "192.0.2.1"}
		_, err := s.Login(ctx, sc, &Flow{}, "", name, "")
		if !errors.Is(err, errDown) {
			t.Errorf("%s: Login with the store down: %v, want the store's error", name, err)
		}
		if n := st.calls.Load(); n != 1 {
			t.Errorf("%s: Login asked a store that does not answer %d times, want once", name, n)
		}
	}
}
